"""Speech recognition, end to end: lesson 08's training recipe, scores and checkpoints.

The data and its features are in `course_utils.asr.dataset`, transcripts and scores in
`course_utils.asr.inference`; both are re-exported here for the lesson
(`asr.recipe.FeatureSet`, `asr.recipe.score`, `asr.recipe.recognize`, ...).

- `ASRRecipe`: the training settings (frozen), stored whole in every checkpoint;
- `train_recognizer`: VTLP and SpecAugment per batch, the joint loss, AdamW with a one-cycle
  schedule (`course_utils.training.adamw_one_cycle`) through `course_utils.fit`; validation
  CER after every epoch;
- `load_recognizer` / `build_checkpoints`: the recognisers shipped with the course (package
  data of `course_utils.asr`, found with `importlib.resources`), and what rebuilds them;
- `main`: ``python -m course_utils.asr`` rebuilds them into the data folder
  (``data/checkpoints/``), or where ``--folder`` says.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import torch

from ..augment import FrequencyWarp, SpecAugment, SpecAugmentConfig
from ..checkpoints import load_shipped, read_checkpoint
from ..core import Profile, data_dir, get_profile, register_section
from ..data import build_corpus
from ..distributed import init_distributed, is_main_process
from ..training import (
    History,
    TrainConfig,
    adamw_one_cycle,
    fit,
    load_checkpoint,
    save_checkpoint,
    to_device,
)
from .dataset import (
    N_MELS,
    SAMPLE_RATE,
    FeatureSet,
    asr_corpus_configs,
    demo_digits_config,
    log_mel_features,
    long_digits_config,
    training_configs,
)
from .inference import DECODERS, recognize, score, transcribe
from .model import ASRConfig, Recognizer
from .tokenizer import CharTokenizer

__all__ = [
    "ASRProfile",
    "CHECKPOINT_DIR",
    "DECODERS",
    "ASRHistory",
    "ASRRecipe",
    "FeatureSet",
    "asr_corpus_configs",
    "build_checkpoints",
    "checkpoint_path",
    "demo_digits_config",
    "load_recognizer",
    "log_mel_features",
    "recognize",
    "long_digits_config",
    "main",
    "score",
    "train_recognizer",
    "transcribe",
]


@dataclass(frozen=True)
class ASRProfile:
    """Lesson 08's sizes and thresholds in one profile (``get_profile().asr``)."""

    demo_utterances: int  # training digit strings of the side-by-side runs
    demo_epochs: int  # epochs of each side-by-side run (CTC, attention, joint)
    demo_max_cer_ratio: float  # each run's final CER, at most this x untrained
    demo_min_walk: float  # the joint run's attention: forward walk at its last epoch, at least
    # (0.0 in CI: too few steps for an alignment to form)
    joint_step_fraction: float  # the joint speller reaches attention-alone's final loss
    # within this share of the steps (1.0 in CI: too few steps to compare speeds)
    max_cer: float  # the shipped recogniser's test CER (greedy attention), at most
    max_wer: float  # ... and WER, at most
    long_max_cer: float  # CER of location-aware attention on 2x longer strings
    beam_utterances: int  # test utterances decoded by beam search


register_section(
    "asr",
    full=ASRProfile(demo_utterances=2000, demo_epochs=3, demo_max_cer_ratio=0.5,
                    demo_min_walk=0.5, joint_step_fraction=0.75, max_cer=0.03, max_wer=0.08,
                    long_max_cer=0.10, beam_utterances=200),
    ci=ASRProfile(demo_utterances=320, demo_epochs=8, demo_max_cer_ratio=0.8,
                  demo_min_walk=0.0, joint_step_fraction=1.0, max_cer=0.03, max_wer=0.08,
                  long_max_cer=0.10, beam_utterances=20),
)  # fmt: skip

# The shipped recognisers: package data of course_utils.asr (pyproject's package-data), found
# through importlib.resources so that a wheel finds them as an editable install does.
CHECKPOINT_DIR = Path(str(resources.files(__package__) / "checkpoints"))


@dataclass(frozen=True)
class ASRRecipe:
    """How lesson 08 trains a recogniser (frozen; `build_checkpoints` stores all of it)."""

    epochs: int = 12  # passes over the training utterances
    batch_size: int = 32  # utterances per step
    learning_rate: float = 2e-3  # peak of the one-cycle schedule (AdamW)
    max_warp: float = 1.2  # VTLP: largest frequency stretch (1 = off)
    spec_augment: SpecAugmentConfig = field(
        default_factory=lambda: SpecAugmentConfig(freq_masks=2, freq_width=6, time_masks=2,
                                                  time_width=8, max_time_fraction=0.1)
    )  # fmt: skip
    seed: int = 0  # shuffling, dropout and the augmentation draws
    validation_utterances: int | None = 250  # scored after each epoch, evenly spread (None: all)


@dataclass
class ASRHistory(History):
    """`History` plus what a recogniser's training shows about its two losses and its attention."""

    ctc_losses: list[float] = field(default_factory=list)  # CTC term, every step
    attention_losses: list[float] = field(default_factory=list)  # speller term (empty: CTC alone)
    alignments: list[torch.Tensor] = field(default_factory=list)  # (tokens + 1, frames'), per epoch


class _Batches:
    """Re-shuffled bucketed batches at every epoch (what `fit` iterates over)."""

    def __init__(self, data: FeatureSet, batch_size: int, seed: int):
        self.data, self.batch_size = data, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.n = data.num_batches(batch_size)  # counted, not padded

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return iter(self.data.batches(self.batch_size, self.generator))


def train_recognizer(
    model: Recognizer,
    train: FeatureSet,
    validation: FeatureSet,
    recipe: ASRRecipe,
    device: torch.device | str,
    progress: bool = True,
    watch: int | None = None,
) -> ASRHistory:
    """Train `model` on `train` with `recipe`; validation CER (greedy) after every epoch.

    Args:
        watch: index of a validation utterance (among the `recipe.validation_utterances`
            scored) whose attention alignment (teacher-forced) is recorded after every epoch,
            in ``history.alignments``, to watch it form.

    Returns:
        an `ASRHistory`: per-step losses (total, CTC and speller terms), per-epoch validation
        "cer", and the watched alignments.

    Raises:
        ValueError: features of the wrong size or holding NaN or inf (checked once, here,
            not by the model at every step).
    """
    train.check(model.config.n_mels)
    validation.check(model.config.n_mels)
    warp = FrequencyWarp(N_MELS, SAMPLE_RATE, max_factor=recipe.max_warp).to(device)
    masks = SpecAugment(recipe.spec_augment).to(device)
    if recipe.validation_utterances is not None and len(validation) > recipe.validation_utterances:
        step = len(validation) / recipe.validation_utterances
        validation = validation.subset([int(i * step) for i in range(recipe.validation_utterances)])
    validation_batches = validation.batches(64)

    ctc_losses, attention_losses = [], []

    def loss_fn(model, batch):
        with torch.no_grad():
            features = masks(warp(batch["features"]), batch["lengths"])
        out = model(features, batch["lengths"], batch["targets"], batch["target_lengths"])
        ctc_losses.append(float(out.ctc_loss.detach()))
        if out.attention_loss is not None:
            attention_losses.append(float(out.attention_loss.detach()))
        return out.loss

    alignments = []

    def evaluate(model, loader, device):
        cer = score(model, validation, "ctc" if model.decoder is None else "attention",
                    device, batches=loader)["cer"]  # fmt: skip
        if watch is not None and model.decoder is not None:
            item = to_device(validation.batch([watch]), device)
            out = model(item["features"], item["lengths"], item["targets"],
                        item["target_lengths"])  # fmt: skip
            alignments.append(out.alignments[0].cpu())  # (tokens + 1, frames')
        return {"cer": cer}

    loader = _Batches(train, recipe.batch_size, recipe.seed)
    config = TrainConfig(epochs=recipe.epochs, learning_rate=recipe.learning_rate,
                         seed=recipe.seed, grad_clip=5.0)  # fmt: skip
    optimizer, scheduler = adamw_one_cycle(model, config, len(loader), pct_start=0.15)
    warp.train()
    masks.train()
    history = fit(model, loader, loss_fn, config, device, validation_batches, evaluate,
                  optimizer=optimizer, scheduler=scheduler, progress=progress)  # fmt: skip
    return ASRHistory(history.train_losses, history.epochs, ctc_losses, attention_losses,
                      alignments)  # fmt: skip


# --------------------------------------------------------------------------- checkpoints


def checkpoint_path(attention: str = "location") -> Path:
    """Where the shipped recogniser with `attention` ("location" or "content") lives.

    The file is package data of `course_utils.asr` (found with `importlib.resources`).
    """
    return CHECKPOINT_DIR / f"asr_{attention}.pt"


def load_recognizer(
    path: str | Path | None = None, attention: str = "location"
) -> tuple[Recognizer, dict]:
    """A shipped (or any saved) recogniser in eval mode, and its metadata (config, scores).

    Args:
        path: a file written by `build_checkpoints`; None (default) loads the shipped one.
        attention: which shipped recogniser, "location" (default) or "content".
    """
    return load_shipped(__package__, f"asr_{attention}.pt", path, _load)


def _load(path: Path) -> tuple[Recognizer, dict]:
    if not path.is_file():
        raise FileNotFoundError(
            f"no recogniser at {path}; build it with `python -m course_utils.asr`"
        )
    _, metadata = read_checkpoint(path)  # ValueError for a corrupt file
    try:
        config = ASRConfig(**metadata["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is not a recogniser saved by `build_checkpoints`: {error}"
        ) from error
    model = Recognizer(config)
    metadata = load_checkpoint(path, model)
    return model.eval(), metadata


def build_checkpoints(
    attentions: tuple[str, ...] = ("location", "content"),
    profile: Profile | None = None,
    recipe: ASRRecipe = ASRRecipe(),
    folder: str | Path | None = None,
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> list[Path]:
    """Train the course's recognisers from scratch and save them (what ships with the course).

    One `Recognizer` per attention kind, the joint loss, `recipe`, the full profile's digit
    strings and sentences. The metadata records the config, the whole recipe
    (`dataclasses.asdict`), training time and the test scores, so a run can be reproduced
    from the file and a rebuilt checkpoint compared with the shipped one.

    Args:
        folder: where to write; None (default) is the data folder, ``cu.data_dir() /
            "checkpoints"``. The shipped files are replaced only when told so: pass
            ``folder=CHECKPOINT_DIR`` (``--folder course_utils/asr/checkpoints``).

    Returns:
        the paths written. Existing files are kept unless `overwrite` (FileExistsError).
    """
    profile = profile or get_profile("full")
    folder = Path(folder) if folder is not None else data_dir() / "checkpoints"
    targets = [folder / checkpoint_path(kind).name for kind in attentions]
    existing = [str(path) for path in targets if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing} exist; pass overwrite=True (--overwrite) to replace")
    tokenizer = CharTokenizer()
    corpora = [build_corpus(config, progress=progress) for config in training_configs(profile)]
    train = FeatureSet([corpus["train"] for corpus in corpora], tokenizer)
    validation = FeatureSet([corpus["validation"] for corpus in corpora], tokenizer)
    # Scored on the digit strings and sentences of unseen voices, as before isolated words.
    test = FeatureSet([corpus["test"] for corpus in corpora[:2]], tokenizer)
    for kind, path in zip(attentions, targets, strict=True):
        torch.manual_seed(recipe.seed)
        model = Recognizer(ASRConfig(vocab_size=len(tokenizer), attention=kind))
        start = time.perf_counter()
        history = train_recognizer(model, train, validation, recipe, device, progress)
        seconds = time.perf_counter() - start
        model.cpu()
        scores = {decoder: score(model, test, decoder, "cpu") for decoder in ("ctc", "attention")}
        metadata = {
            "config": model.config.to_dict(),
            "recipe": asdict(recipe),  # all of it: the run can be repeated from the file
            "train_seconds": round(seconds, 1),
            "threads": torch.get_num_threads(),
            "device": str(device),
            "validation_cer": [round(e["cer"], 4) for e in history.epochs],
            "test": scores,
        }
        save_checkpoint(path, _half(model), overwrite=overwrite, metadata=metadata)
        if progress and is_main_process():
            print(f"{path}: {seconds:.0f} s of training, test {scores}")
    return targets


def _half(model: Recognizer) -> Recognizer:
    """A float16 copy: half the file size; `load_recognizer` casts it back to float32."""
    return copy.deepcopy(model).half()


def main(argv: list[str] | None = None) -> list[Path]:
    """``python -m course_utils.asr``: rebuild lesson 08's recognisers.

    They are written to the data folder (``data/checkpoints/``) unless ``--folder`` names
    another, e.g. ``--folder course_utils/asr/checkpoints`` to replace the shipped ones.
    """
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.asr",
        description="Rebuild lesson 08's recognisers (the shipped ones are in "
        "course_utils/asr/checkpoints/).",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing checkpoints")
    parser.add_argument(
        "--attention", nargs="+", default=["location", "content"],
        choices=["location", "content"], help="which recognisers to build",
    )  # fmt: skip
    parser.add_argument(
        "--folder", default=None,
        help="where to write them (default: the data folder's checkpoints/)",
    )  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    args = parser.parse_args(argv)
    # Under torchrun: start the process group first, so "cuda" means this process's own GPU
    # for everything the recipe moves there before `fit` (a no-op in one process).
    device = init_distributed(args.device)
    return build_checkpoints(tuple(args.attention), folder=args.folder,
                             overwrite=args.overwrite, device=device)  # fmt: skip


if __name__ == "__main__":
    main()
