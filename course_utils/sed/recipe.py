"""Sound event detection, end to end: lesson 07's features, training recipe and scores.

The lesson builds each step in its cells; this module holds the same steps, in the same order
and with the same seeds, so that the benchmark (`make bench`) and later lessons train and
score the detectors exactly as the lesson does:

- `SEDRecipe`: the settings (frozen): the log-mel front end, batch, learning rate, epochs,
  and the decoding grid tuned on validation scenes;
- `scene_features`, `frame_labels`: a split's log-mel features and 0/1 targets per frame;
- `train_detector`: binary cross-entropy per (frame, class), AdamW with a one-cycle schedule
  (`course_utils.training.adamw_one_cycle`) through `course_utils.fit`, validation frame F1
  after every epoch;
- `predict`, `tune`, `decode`, `evaluate`: frame probabilities, the threshold and median
  filter per class chosen on validation scenes, events, and frame / event / segment F1;
- `main`: ``python -m course_utils.sed`` runs it all for both detectors.

No checkpoint ships for lesson 07 (its detectors train in minutes), so there is no ``load_``
or ``build_checkpoints`` here.

Shapes: S scenes, M mel bands, T frames, K classes.

Notebook: 07_sound_event_detection.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ..audio import LogMel
from ..core import check_features, get_profile, register_section
from ..data import Event
from ..data.scenes import Scenes, build_scenes, scene_config
from ..training import History, TrainConfig, adamw_one_cycle, fit
from .events import event_f1, frame_f1, frames_to_events, segment_f1, tune_decoding
from .model import CRNN, CNNTransformer, SEDConfig

__all__ = [
    "DETECTORS",
    "SEDProfile",
    "SEDRecipe",
    "decode",
    "evaluate",
    "frame_labels",
    "frontend",
    "main",
    "predict",
    "scene_features",
    "train_detector",
    "tune",
]


@dataclass(frozen=True)
class SEDProfile:
    """Lesson 07's training length and thresholds in one profile (``get_profile().sed``).

    The scenes' sizes are data sizes: `Profile.sed_train_scenes` and `sed_eval_scenes`.
    """

    epochs: int  # training epochs of each model (CRNN, CNN + attention)
    min_event_f1: float  # event-based F1 on the test scenes each model must reach
    attention_margin: float  # how far the attention model's event F1 may fall below the
    # CRNN's (0: it must match or beat it)
    attention_focus: float  # attention an event's frames keep inside their event, at least,
    # as a multiple of what uniform attention would give


register_section(
    "sed",
    full=SEDProfile(epochs=12, min_event_f1=0.85, attention_margin=0.05, attention_focus=1.5),
    ci=SEDProfile(epochs=8, min_event_f1=0.5, attention_margin=0.1, attention_focus=0.5),
)

DETECTORS = {"CRNN": CRNN, "CNN + self-attention": CNNTransformer}  # what lesson 07 compares


@dataclass(frozen=True)
class SEDRecipe:
    """How lesson 07 makes features, trains a detector and decodes it; the same for both."""

    epochs: int = 12  # passes over the training scenes (the full profile's sed_epochs)
    batch_size: int = 16  # scenes per step
    learning_rate: float = 3e-3  # peak of the one-cycle schedule (AdamW)
    seed: int = 0  # shuffling and dropout (`fit` seeds torch with it)
    eval_batch_size: int = 64  # scenes per forward pass when validating and predicting
    hop_length: int = 320  # samples between frames: 20 ms at 16 kHz
    n_fft: int = 1024  # FFT size and window of the log-mel front end
    n_mels: int = 64  # mel bands
    thresholds: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6)  # decoding grid: thresholds ...
    medians: tuple[int, ...] = (1, 9)  # ... and median filters (frames), tuned per class

    @classmethod
    def for_profile(cls, profile, **overrides) -> SEDRecipe:
        """The recipe with the profile's epochs (`get_profile().sed.epochs`)."""
        return cls(**{"epochs": profile.sed.epochs, **overrides})


def frontend(recipe: SEDRecipe, sample_rate: int) -> LogMel:
    """The lesson's log-mel front end: `recipe`'s FFT, hop and mel bands at `sample_rate`."""
    return LogMel(sample_rate=sample_rate, n_fft=recipe.n_fft, hop_length=recipe.hop_length,
                  n_mels=recipe.n_mels)  # fmt: skip


def scene_features(scenes: Scenes, frontend: LogMel, batch: int = 50) -> torch.Tensor:
    """Log-mel features of every scene, (S, M, T) float32, computed `batch` scenes at a time."""
    with torch.no_grad():
        return torch.cat([frontend(torch.from_numpy(scenes.waveforms(start, start + batch)))
                          for start in range(0, len(scenes), batch)])  # fmt: skip


def frame_labels(scenes: Scenes, recipe: SEDRecipe) -> torch.Tensor:
    """0/1 targets (S, T, K), float32: a frame is active when its centre lies in an event."""
    return torch.from_numpy(scenes.frame_labels(recipe.hop_length))


def _check(features: torch.Tensor, labels: torch.Tensor | None, n_mels: int, name: str) -> None:
    """What the models no longer check at every step, checked once (on the CPU data)."""
    check_features(features, n_mels, name=f"{name} features")
    expected = (features.shape[0], features.shape[-1])  # (S, T)
    if labels is not None and (labels.ndim != 3 or tuple(labels.shape[:2]) != expected):
        raise ValueError(
            f"{name} labels must have shape (scenes, frames, classes) = ({features.shape[0]}, "
            f"{features.shape[-1]}, classes), got {tuple(labels.shape)}"
        )


def _loss(model: nn.Module, batch) -> torch.Tensor:
    features, labels = batch
    return F.binary_cross_entropy_with_logits(model(features).logits, labels)  # (B, T, K)


def _validate(model: nn.Module, loader: DataLoader, device) -> dict[str, float]:
    probs = torch.cat([torch.sigmoid(model(x.to(device)).logits).cpu() for x, _ in loader])
    return {"frame_f1": frame_f1(probs, loader.dataset.tensors[1])["f1"]}


def train_detector(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    validation: tuple[torch.Tensor, torch.Tensor],
    recipe: SEDRecipe,
    device: torch.device | str,
    progress: bool = True,
) -> History:
    """Train `model` (a `CRNN` or `CNNTransformer`) on (features, labels) with `recipe`.

    Exactly lesson 07's cells: shuffled batches of `recipe.batch_size` scenes (torch's global
    generator, seeded by `fit`), binary cross-entropy per (frame, class), AdamW and a
    one-cycle schedule, and the validation frame F1 (threshold 0.5) after every epoch.

    Args:
        model: the detector, built after ``torch.manual_seed(recipe.seed)`` as the lesson does.
        train, validation: features (S, M, T) from `scene_features` and labels (S, T, K) from
            `frame_labels`.
        recipe: the settings (see `SEDRecipe`).
        device: where to train.
        progress: show progress bars (default True).

    Returns:
        the `History` of `course_utils.fit`, with "frame_f1" on `validation` per epoch.

    Raises:
        ValueError: features or labels of the wrong shape, or features holding NaN or inf
            (checked once here, not by the model at every step).
    """
    _check(*train, model.config.n_mels, "train")
    _check(*validation, model.config.n_mels, "validation")
    train_loader = DataLoader(TensorDataset(*train), batch_size=recipe.batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(*validation), batch_size=recipe.eval_batch_size)
    config = TrainConfig(epochs=recipe.epochs, learning_rate=recipe.learning_rate,
                         seed=recipe.seed)  # fmt: skip
    optimizer, scheduler = adamw_one_cycle(model, config, len(train_loader))
    return fit(model, train_loader, _loss, config, device, val_loader, _validate,
               optimizer=optimizer, scheduler=scheduler, progress=progress)  # fmt: skip


def predict(
    model: nn.Module, features: torch.Tensor, device: torch.device | str, batch_size: int = 64
) -> torch.Tensor:
    """Frame probabilities (S, T, K) on the CPU of features (S, M, T); leaves `model` in eval."""
    _check(features, None, model.config.n_mels, "predicted")
    model.eval()
    with torch.no_grad():
        return torch.cat([torch.sigmoid(model(x.to(device)).logits).cpu()
                          for x in features.split(batch_size)])  # fmt: skip


def tune(probs: torch.Tensor, scenes: Scenes, recipe: SEDRecipe) -> dict:
    """Each class's threshold and median filter, from `recipe`'s grid, for the best event F1.

    Tune on VALIDATION scenes (`scenes` and their `probs`), never on the test scenes.

    Returns:
        `tune_decoding`'s {"threshold", "median_frames", "class_f1"}.
    """
    return tune_decoding(probs, scenes.events, recipe.hop_length / scenes.sample_rate,
                         scenes.classes, thresholds=recipe.thresholds,
                         medians=recipe.medians)  # fmt: skip


def decode(probs: torch.Tensor, setting: dict, scenes: Scenes, recipe: SEDRecipe) -> list:
    """Events per scene (onset_s, offset_s, label) from probabilities, with a `tune` setting."""
    hop_seconds = recipe.hop_length / scenes.sample_rate
    return [frames_to_events(p, hop_seconds, scenes.classes, setting["threshold"],
                             setting["median_frames"]) for p in probs.numpy()]  # fmt: skip


def evaluate(
    probs: torch.Tensor,
    labels: torch.Tensor,
    scenes: Scenes,
    setting: dict,
    recipe: SEDRecipe,
) -> dict:
    """The lesson's scores of `probs` (S, T, K) against the truth of `scenes`.

    Returns:
        {"frame_f1" (threshold 0.5, against `labels`), "event_f1" (200 ms collar) and
        "segment_f1" (1 s) of the events decoded with `setting`, "class_f1" (event F1 per
        class), "events" (the decoded events per scene)}.
    """
    estimated: list[list[Event]] = decode(probs, setting, scenes, recipe)
    events = event_f1(scenes.events, estimated, scenes.classes)
    return {
        "frame_f1": frame_f1(probs, labels)["f1"],
        "event_f1": events["f1"],
        "segment_f1": segment_f1(scenes.events, estimated, scenes.classes)["f1"],
        "class_f1": events["class_f1"],
        "events": estimated,
    }


def main(argv: list[str] | None = None) -> dict[str, dict]:
    """Lesson 07 from scenes to scores, for both detectors, as its cells run it.

    ``python -m course_utils.sed [--profile ci] [--device cuda] [--threads 1]``

    Returns:
        {detector name: {"history", "setting", and `evaluate`'s scores on the test scenes}}.
    """
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.sed", description="Train and score lesson 07's detectors."
    )
    parser.add_argument("--profile", default="full", help="full or ci (default full)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (the lesson uses 1 on a CPU)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    profile = get_profile(args.profile)
    recipe = SEDRecipe.for_profile(profile)
    data = build_scenes(scene_config(profile), progress=False)
    front = frontend(recipe, data["train"].sample_rate)
    features = {name: scene_features(split, front) for name, split in data.items()}
    labels = {name: frame_labels(split, recipe) for name, split in data.items()}
    classes = data["train"].classes
    results = {}
    for name, detector in DETECTORS.items():
        torch.manual_seed(recipe.seed)
        model = detector(SEDConfig.preset("small", n_mels=recipe.n_mels, num_classes=len(classes)))
        history = train_detector(model, (features["train"], labels["train"]),
                                 (features["validation"], labels["validation"]), recipe,
                                 args.device, progress=False)  # fmt: skip
        setting = tune(predict(model, features["validation"], args.device), data["validation"],
                       recipe)  # fmt: skip
        probs = predict(model, features["test"], args.device)
        scores = evaluate(probs, labels["test"], data["test"], setting, recipe)
        results[name] = {"history": history, "setting": setting, **scores}
        print(f"{name}: test frame F1 {scores['frame_f1']:.3f}, event F1 "
              f"{scores['event_f1']:.3f}, segment F1 {scores['segment_f1']:.3f}")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
