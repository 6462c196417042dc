"""How lesson 12's detectors are trained, and the two the course ships.

- `LongformRecipe`: the training settings (frozen), stored whole in every checkpoint;
- `train_detector`: AdamW with a one-cycle schedule (`training.adamw_one_cycle`), a batch
  of fresh 20-second crops every step, cross-entropy on every output frame;
- `VARIANTS`: the shipped detectors, "local" (sliding-window attention) and "full" (every
  frame sees the whole recording): the same recipe, only the attention differs;
- `load_detector` / `build_checkpoint` / `main` (``python -m course_utils.longform``);
- `LongformProfile`: the lesson's sizes and thresholds (``get_profile().longform``).

Shapes: B batch, M mel bands, F input frames, T output frames, C classes.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F

from ..checkpoints import load_model, load_shipped, rebuild_command
from ..core import data_dir, get_profile, register_section
from ..training import TrainConfig, adamw_one_cycle, save_checkpoint
from . import scaling
from .data import LongformConfig, TrainingCrops, frame_targets, load_words, test_recordings
from .evaluation import energy_baseline, score
from .model import DetectorConfig, LongformDetector
from .scaling import Measurement

__all__ = [
    "CHECKPOINT_DIR",
    "VARIANTS",
    "LongformProfile",
    "LongformRecipe",
    "build_checkpoint",
    "checkpoint_path",
    "detector_footprint",
    "evaluate_variants",
    "load_detector",
    "main",
    "save_detector",
    "train_detector",
]


@dataclass(frozen=True)
class LongformRecipe:
    """Training settings of the shipped detectors."""

    preset: str = "small"  # DetectorConfig.preset
    attention: str = "local"  # "local" or "full"
    window: int = 16  # local attention: output frames each side (0.64 s)
    steps: int = 1000  # optimisation steps, a fresh batch each
    batch_size: int = 8  # crops per step
    crop_seconds: float = 20.0  # length of each training crop
    learning_rate: float = 2e-3  # peak of the one-cycle schedule
    weight_decay: float = 0.01
    clip_grad_norm: float = 1.0
    keyword_weight: float = 1.0  # cross-entropy weight of keyword frames (background: 1)
    log_every: int = 50  # steps between two entries of the history
    seed: int = 0

    def config(self, num_classes: int) -> DetectorConfig:
        return DetectorConfig.preset(
            self.preset, num_classes=num_classes, attention=self.attention, window=self.window
        )


def _loss(
    model: LongformDetector, features: torch.Tensor, events, keywords, keyword_weight: float = 1.0
) -> torch.Tensor:
    """Cross-entropy per output frame; keyword frames weigh `keyword_weight` (most frames
    hold no keyword: a short training run first learns to say "none" everywhere)."""
    logits = model(features)  # (B, T, C)
    hop = model.config.output_hop_seconds
    targets = torch.stack([frame_targets(e, logits.shape[1], hop, keywords) for e in events])
    weight = torch.full((logits.shape[-1],), keyword_weight, device=logits.device)
    weight[0] = 1.0  # "no keyword"
    return F.cross_entropy(logits.flatten(0, 1), targets.to(logits.device).flatten(), weight)


def train_detector(
    model: LongformDetector,
    recipe: LongformRecipe = LongformRecipe(),
    data: LongformConfig | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> dict:
    """Train `model` as `recipe` says on crops of the training voices.

    Returns:
        the history: {"steps": [...], "loss": [mean loss since the last entry], "seconds":
        training time}.

    Example:
        >>> model = LongformDetector(DetectorConfig.preset("tiny"))
        >>> recipe = LongformRecipe(steps=2, batch_size=1, crop_seconds=4.0, log_every=1)
        >>> len(train_detector(model, recipe, progress=False)["loss"])
        2

    Notebook: 12_long_audio_efficient_attention.
    """
    data = data or LongformConfig()
    if model.config.num_classes != len(data.keywords) + 1:
        raise ValueError(
            f"the model has {model.config.num_classes} classes, the data "
            f"{len(data.keywords)} keywords + 1"
        )
    torch.manual_seed(recipe.seed)
    model.to(device).train()
    crops = TrainingCrops(
        load_words(data, "train"),
        data,
        model.frontend,
        recipe.crop_seconds,
        recipe.batch_size,
        recipe.steps,
        recipe.seed,
    )
    schedule = TrainConfig(
        epochs=1,
        learning_rate=recipe.learning_rate,
        weight_decay=recipe.weight_decay,
        seed=recipe.seed,
    )
    optimizer, scheduler = adamw_one_cycle(model, schedule, recipe.steps)
    history = {"steps": [], "loss": [], "seconds": 0.0}
    start, running = time.perf_counter(), []
    for step, (features, events) in enumerate(crops, 1):
        loss = _loss(model, features.to(device), events, data.keywords, recipe.keyword_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip_grad_norm)
        optimizer.step()
        scheduler.step()
        running.append(loss.item())
        if step % recipe.log_every == 0 or step == recipe.steps:
            history["steps"].append(step)
            history["loss"].append(round(sum(running) / len(running), 5))
            running = []
            if progress:
                print(
                    f"step {step}/{recipe.steps}: loss {history['loss'][-1]:.4f} "
                    f"({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    history["seconds"] = round(time.perf_counter() - start, 1)
    model.eval()
    return history


# --------------------------------------------------------------------------- profile


@dataclass(frozen=True)
class LongformProfile:
    """Lesson 12's sizes and thresholds in one profile (``get_profile().longform``)."""

    scaling_lengths: tuple[int, ...]  # frames at which each form's time and memory are measured
    backward_lengths: tuple[int, ...]  # ... and chunked attention's forward + backward
    long_frames: int  # the long measurement: exact forward, local forward + backward
    window: int  # local attention's window in those measurements, frames each side
    test_seconds: tuple[float, ...]  # lengths of the test recordings; the last is the longest
    recordings: int  # test recordings per length (voices never heard in training)
    demo_steps: int  # training steps of the lesson's live demo ("tiny", 16 crops of 4 s)
    demo_learning_rate: float  # ... its peak learning rate
    demo_min_gain: float  # its F1 gain (points) over the energy baseline, at least
    min_f1: float  # shipped detectors: F1 (points) at every length, at least
    min_gain_over_baseline: float  # ... and over the energy baseline (an untrained model fails)
    max_f1_gap: float  # local may trail full by at most this (points), at the longest length
    min_speedup: float  # full / local inference time at the longest length, at least


# Thresholds below what the shipped detectors measured (2 December 2026, one CPU thread,
# `evaluate_variants`). Full profile, 3 recordings per length, F1 local / full / energy
# baseline: 30 s 84.4 / 90.9 / 4.8 (22 keywords), 120 s 75.8 / 76.2 / 4.2 (63), 600 s
# 82.9 / 82.8 / 3.5 (305); seconds per 10-min recording 1.25 (local) and 7.38 (full): 5.9x
# with the log-mel features counted (the network alone: 0.68 s and 7.8 s, 11x). Over six
# runs the ratio measured 4.0 (two other jobs on the cores), 4.7 (quiet benchmark: 0.87 s and
# 4.08 s), 5.7, 5.9, 6.2 and 7.9: full attention's time varies most, and the features (about
# 0.45 s, the same for both) bound the ratio, so the lesson asserts 4x (the 5x is
# reported by `python -m benchmarks longform`, met or not). CI profile,
# 2 recordings per length: 30 s 84.6 / 88.0 / 0.0, 60 s 73.7 / 75.7 / 0.0; at 60 s full
# attention costs little more than local (0.26 s and 0.18 s), so the CI speedup bound only
# asks that local is not slower. The live demo ("tiny", 16 crops of 4 s a step, keyword
# frames weighted 8, peak learning rate 1e-2, one thread): full, 500 steps, F1 49.1 and 48.2
# (seeds 0 and 1; 41 s) on three 30-s recordings (baseline 4.8); CI, 200 steps, F1 34.5,
# 26.7 and 30.0 (seeds 0-2; about 15 s alone) on two (baseline 0.0).
register_section(
    "longform",
    full=LongformProfile(
        scaling_lengths=(2_000, 4_000, 8_000, 16_000),
        backward_lengths=(2_000, 4_000, 8_000),
        long_frames=60_000,
        window=256,
        test_seconds=(30.0, 120.0, 600.0),
        recordings=3,
        demo_steps=500,
        demo_learning_rate=1e-2,
        demo_min_gain=25.0,
        min_f1=70.0,
        min_gain_over_baseline=50.0,
        max_f1_gap=2.0,
        min_speedup=4.0,
    ),
    ci=LongformProfile(
        scaling_lengths=(1_000, 2_000, 4_000),
        backward_lengths=(2_000, 3_000, 4_000),
        long_frames=16_000,
        window=256,
        test_seconds=(30.0, 60.0),
        recordings=2,
        demo_steps=200,
        demo_learning_rate=1e-2,
        demo_min_gain=10.0,
        min_f1=60.0,
        min_gain_over_baseline=40.0,
        max_f1_gap=5.0,
        min_speedup=1.0,
    ),
)


# --------------------------------------------------------------------------- checkpoints

VARIANTS = {"local": {"attention": "local"}, "full": {"attention": "full"}}
CHECKPOINT_DIR = Path(str(resources.files(__package__) / "checkpoints"))


def _check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    return variant


def checkpoint_path(variant: str = "local") -> Path:
    """Where a shipped detector lives (package data of `course_utils.longform`)."""
    return CHECKPOINT_DIR / f"{_check_variant(variant)}.pt"


def load_detector(variant: str = "local", path: str | Path | None = None):
    """A shipped detector (`variant`), or the one saved at `path`, in eval mode, and its
    metadata (recipe, keywords, training time, test scores).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: an unknown variant, a corrupt file, a checkpoint of another model.
    """
    return load_shipped(__package__, f"{_check_variant(variant)}.pt", path, _load)


def _load(path: Path) -> tuple[LongformDetector, dict]:
    def build(config: dict) -> LongformDetector:
        return LongformDetector(DetectorConfig(**config))

    command = "python -m course_utils.longform"
    return load_model(path, "LongformDetector", build, "keyword detector", command)


def save_detector(
    path: str | Path, model: LongformDetector, metadata: dict, overwrite: bool = False
) -> Path:
    """Save `model` in half precision with `metadata` (its config added), atomically;
    FileExistsError unless `overwrite`."""
    half = LongformDetector(model.config)
    half.load_state_dict(model.state_dict())
    metadata = {**metadata, "model": "LongformDetector", "config": asdict(model.config)}
    return save_checkpoint(path, half.half(), overwrite=overwrite, metadata=metadata)


def evaluate_variants(models: dict, profile=None, data: LongformConfig | None = None) -> dict:
    """Every model of `models` (name -> detector) and the energy baseline scored on the
    profile's test recordings at each length: {seconds: {name: scores, "baseline": ...}}."""
    profile, data = profile or get_profile(), data or LongformConfig()
    results = {}
    for seconds in profile.longform.test_seconds:
        recordings = test_recordings(data, seconds, profile.longform.recordings)
        row = {name: score(m, recordings, data.keywords) for name, m in models.items()}
        row["baseline"] = energy_baseline(recordings, data.keywords)
        results[str(seconds)] = row
    return results


def detector_footprint(variant: str, seconds: float, timeout: float = 600.0) -> Measurement:
    """Time and extra peak memory of a shipped detector on one recording of `seconds`, measured
    in a fresh process as `scaling.measure` measures attention (features and network, no
    gradients, float32; the input is noise: the cost does not depend on what is said).

    Returns:
        a Measurement with form "detector <variant>" and frames = the input's log-mel frames.

    Notebook: 12_long_audio_efficient_attention.
    """
    _check_variant(variant)
    frames = 1 + round(seconds * 16_000) // 160
    failed = Measurement(f"detector {variant}", frames, False, False, None, None, ok=False)
    request = {"variant": variant, "seconds": float(seconds)}
    return scaling.run_in_fresh_process(_measure_detector, request, failed, timeout)


def _measure_detector(variant: str, seconds: float) -> Measurement:
    """In the fresh process: warm up on one second, then time the whole recording."""
    model, _ = load_detector(variant)
    model.float().eval()
    waveform = 0.1 * torch.randn(round(seconds * model.config.sample_rate))  # (S,)

    def run(samples: torch.Tensor) -> None:
        with torch.no_grad():
            model(model.features(samples[None]))  # (1, T, C)

    run(waveform[: model.config.sample_rate])
    cpu = torch.device("cpu")
    baseline = scaling.peak_memory(cpu, reset=True)
    start = time.perf_counter()
    run(waveform)
    elapsed = time.perf_counter() - start
    peak = scaling.peak_memory(cpu) - baseline
    frames = 1 + waveform.numel() // model.config.hop_length
    return Measurement(f"detector {variant}", frames, False, False, elapsed, max(peak, 0), ok=True)


def build_checkpoint(
    variant: str = "local",
    path: str | Path | None = None,
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> Path:
    """Train one shipped detector from scratch and save it with its scores on the full
    profile's test recordings.

    `path` defaults to ``cu.data_dir() / "checkpoints" / "longform_<variant>.pt"``; the
    shipped files are replaced only when told (``--folder course_utils/longform/checkpoints
    --overwrite``).
    """
    recipe = LongformRecipe(**VARIANTS[_check_variant(variant)])
    default = data_dir() / "checkpoints" / f"longform_{variant}.pt"
    path = Path(path) if path is not None else default
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    data = LongformConfig()
    model = LongformDetector(recipe.config(len(data.keywords) + 1))
    history = train_detector(model, recipe, data, device, progress)
    model.cpu()
    scores = evaluate_variants({variant: model}, get_profile("full"), data)
    metadata = {
        "variant": variant,
        "recipe": asdict(recipe),
        "keywords": list(data.keywords),
        "history": history,
        "test_scores": scores,
        "threads": torch.get_num_threads(),
        "device": str(device),
    }
    save_detector(path, model, metadata, overwrite=overwrite)
    if progress:
        print(f"{path}: {history['seconds']:.0f} s of training; {scores}")
    return path


def main(argv: list[str] | None = None) -> list[Path]:
    """``python -m course_utils.longform``: rebuild lesson 12's detectors (22-24 min each on
    one CPU thread)."""
    description = (
        "Rebuild lesson 12's keyword detectors (the shipped ones are in "
        "course_utils/longform/checkpoints/)."
    )
    return rebuild_command("longform", description, VARIANTS, build_checkpoint, argv)
