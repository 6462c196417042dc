"""How lesson 09's synthesisers are trained, and the ones the course ships.

- `TTSRecipe`: the training settings (frozen), stored whole in every checkpoint;
- `train_synthesizer`: the training loop, measuring the alignments after every epoch;
- `load_synthesizer` / `build_checkpoint`: the two synthesisers shipped with the course
  (location-sensitive and content-only attention; package data of `course_utils.tts`, found
  with `importlib.resources`), and what rebuilds them;
- `main`: ``python -m course_utils.tts`` rebuilds them into the data folder
  (``data/checkpoints/``), or where ``--folder`` says;
- `TTSProfile`: the lesson's sizes and thresholds (``get_profile().tts``).

Teacher-forced training through `course_utils.fit` (AdamW, a short warm-up then a cosine
decay: `course_utils.training.adamw_one_cycle`), with the losses of `tacotron_loss` (the
guided-attention term per decoder step, see `course_utils.tts.losses`). After every epoch
the validation sentences are run teacher-forced and their alignments measured: focus rate
and diagonal mass, the two curves that show attention learning to read the text.

Batches hold sentences of similar length (sorted within a shuffled window), so the decoder
runs few padding steps: the decoder is a loop over steps, and its cost is the longest item.

Shapes: B batch, L characters, M mel bands, T frames, S decoder steps.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

import torch

from ..asr import load_recognizer
from ..checkpoints import load_model, load_shipped
from ..core import data_dir, get_device, register_section
from ..training import (
    History,
    TrainConfig,
    adamw_one_cycle,
    fit,
    save_checkpoint,
    to_device,
)
from .alignment import diagonal_mass, focus_rate
from .config import ATTENTION_KINDS, TTSConfig
from .data import TTSDataset, build_tts_data
from .evaluation import score_synthesizer
from .losses import tacotron_loss
from .model import Tacotron

__all__ = [
    "CHECKPOINT_DIR",
    "TTSProfile",
    "TTSHistory",
    "TTSRecipe",
    "build_checkpoint",
    "checkpoint_path",
    "load_synthesizer",
    "main",
    "train_synthesizer",
]


@dataclass(frozen=True)
class TTSProfile:
    """Lesson 09's sizes and thresholds in one profile (``get_profile().tts``)."""

    demo_sentences: int  # training sentences of the side-by-side runs (guided loss or not)
    demo_epochs: int  # epochs of each side-by-side run
    demo_min_focus: float  # the guided run's final validation focus, at least
    demo_min_gain: float  # ... and at least this much above the run without the guided loss
    judged_sentences: int  # test sentences the recogniser transcribes (of the 114 it can judge)
    max_cer: float  # the shipped synthesiser's CER on them, at most
    long_sentences: int  # sentences twice as long as in training, for content vs location


register_section(
    "tts",
    full=TTSProfile(demo_sentences=520, demo_epochs=10, demo_min_focus=0.7, demo_min_gain=0.3,
                    judged_sentences=114, max_cer=0.10, long_sentences=54),
    ci=TTSProfile(demo_sentences=128, demo_epochs=6, demo_min_focus=0.15, demo_min_gain=0.05,
                  judged_sentences=16, max_cer=0.15, long_sentences=12),
)  # fmt: skip

# The shipped synthesiser: package data of course_utils.tts (pyproject's package-data), found
# through importlib.resources so that a wheel finds it as an editable install does.
CHECKPOINT_DIR = Path(str(resources.files(__package__) / "checkpoints"))


@dataclass(frozen=True)
class TTSRecipe:
    """How to train a `Tacotron` (the model's sizes and loss weights are its `TTSConfig`).

    Measured with ``TTSConfig.preset("fast")`` on `build_tts_data()` (one thread of a 2-core
    CPU, 1 December 2026). The guided loss (g = 0.1) aligns attention fast: validation focus
    rate 0.85 at step 864, 0.87 by step 1,188. It is switched off after 1,500 steps
    (`guided_steps`): left on, it pulls attention towards the straight diagonal rather than
    onto the character being said (on a 520-sentence set, 1,485 more steps gave the
    recogniser's CER 0.45 with it and 0.22 without). Intelligibility takes longer than
    alignment: lesson 08's recogniser's CER on the test sentences (never seen in training;
    `score_synthesizer` on saved snapshots of the one run) was 0.50 at step 1,296, 0.31 at
    1,944, 0.20 at 2,592, 0.065 at 3,888 and 0.028 at the end (6,048), while the focus rate
    fell from 0.87 to about 0.75 (diagonal mass 0.99). Three times more sentences also
    helped: at about 2,500 steps, CER 0.20 with the 1,727 training sentences against 0.29
    with 520.
    """

    epochs: int = 56  # passes over the training sentences (1,727 a pass: ~6,000 steps)
    batch_size: int = 16  # sentences per step
    learning_rate: float = 2e-3  # peak of the schedule (AdamW)
    warmup: float = 0.07  # share of the steps warming up to the peak (~420 of 6,000)
    grad_clip: float = 1.0  # max global gradient norm (the decoder's RNNs can spike)
    guided_steps: int | None = 1500  # steps with the guided-attention loss; None: all of them
    seed: int = 0  # shuffling and dropout
    validation_sentences: int = 32  # measured after each epoch (the first ones)
    watch: int = 0  # the validation sentence whose alignment is kept after every epoch


@dataclass
class TTSHistory(History):
    """`History` plus the loss terms per step and the watched alignment per epoch.

    ``epochs[i]`` holds "val_loss" (mel after the postnet, teacher-forced), "focus" and
    "diagonal" (the validation alignments' mean focus rate and diagonal mass) and "step".
    """

    mel_losses: list[float] = field(default_factory=list)  # after the postnet, every step
    guided_losses: list[float] = field(default_factory=list)  # guided term, every step
    alignments: list[torch.Tensor] = field(default_factory=list)  # (steps, chars) per epoch


class _Batches:
    """Padded batches of similar lengths, re-shuffled every epoch (what `fit` iterates over)."""

    def __init__(self, data: TTSDataset, batch_size: int, seed: int):
        self.data, self.batch_size = data, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.data), generator=self.generator).tolist()
        window = 8 * self.batch_size  # sort by length within windows of 8 batches
        frames = [self.data.mels[i].shape[1] for i in range(len(self.data))]
        windows = [order[start : start + window] for start in range(0, len(order), window)]
        order = [i for part in windows for i in sorted(part, key=frames.__getitem__)]
        chunks = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        for k in torch.randperm(len(chunks), generator=self.generator).tolist():
            yield self.data.batch(chunks[k])


def train_synthesizer(
    model: Tacotron,
    train: TTSDataset,
    validation: TTSDataset,
    recipe: TTSRecipe,
    device: torch.device | str,
    progress: bool = True,
) -> TTSHistory:
    """Train `model` on `train` with `recipe`, measuring the validation alignments each epoch.

    Returns:
        a `TTSHistory`: per-step losses (total, mel, guided), per-epoch "val_loss",
        "focus", "diagonal" and "step", and the watched sentence's alignment per epoch.

    Raises:
        ValueError: an empty data set, or a batch the model cannot read (wrong mel bands,
            NaN or inf, characters outside the vocabulary), checked once, here.
    """
    if len(train) == 0 or len(validation) == 0:
        raise ValueError(f"empty data: {len(train)} training, {len(validation)} validation")
    for data in (train, validation):
        model.check_batch(*data.batch(range(len(data))))
    config = model.config
    unguided = replace(config, guided_weight=0.0)  # the loss once the alignment has formed
    held_out = TTSDataset(validation.texts[: recipe.validation_sentences],
                          validation.mels[: recipe.validation_sentences])  # fmt: skip
    validation_batches = held_out.batches(64)
    mel_losses, guided_losses, alignments = [], [], []

    def loss_fn(model, batch):
        tokens, text_lengths, mels, mel_lengths = batch
        guided = recipe.guided_steps is None or len(mel_losses) < recipe.guided_steps
        output = model(tokens, text_lengths, mels, mel_lengths)
        losses = tacotron_loss(output, mels, mel_lengths, text_lengths,
                               config if guided else unguided)  # fmt: skip
        mel_losses.append(float(losses.postnet.detach()))
        guided_losses.append(float(losses.guided.detach()))
        return losses.loss

    def evaluate(model, loader, device):
        totals = {"val_loss": 0.0, "focus": 0.0, "diagonal": 0.0}
        for batch in loader:
            tokens, text_lengths, mels, mel_lengths = to_device(batch, device)
            out = model(tokens, text_lengths, mels, mel_lengths)
            losses = tacotron_loss(out, mels, mel_lengths, text_lengths, config)
            step_lengths = -(-mel_lengths // config.reduction_factor)
            totals["val_loss"] += float(losses.postnet) * len(tokens)
            totals["focus"] += float(focus_rate(out.alignments, step_lengths).sum())
            totals["diagonal"] += float(diagonal_mass(out.alignments, text_lengths,
                                                      step_lengths).sum())  # fmt: skip
        tokens, text_lengths, mels, mel_lengths = to_device(held_out.batch([recipe.watch]), device)
        out = model(tokens, text_lengths, mels, mel_lengths)
        alignments.append(out.alignments[0].cpu())  # (steps, chars)
        metrics = {name: total / len(held_out) for name, total in totals.items()}
        return {**metrics, "step": float(len(mel_losses))}

    loader = _Batches(train, recipe.batch_size, recipe.seed)
    train_config = TrainConfig(epochs=recipe.epochs, learning_rate=recipe.learning_rate,
                               grad_clip=recipe.grad_clip, seed=recipe.seed)  # fmt: skip
    optimizer, scheduler = adamw_one_cycle(model, train_config, len(loader),
                                           pct_start=recipe.warmup)  # fmt: skip
    history = fit(model, loader, loss_fn, train_config, device, validation_batches, evaluate,
                  optimizer=optimizer, scheduler=scheduler, progress=progress)  # fmt: skip
    return TTSHistory(history.train_losses, history.epochs, mel_losses, guided_losses, alignments)


# --------------------------------------------------------------------------- checkpoint


def checkpoint_path(attention: str = "location") -> Path:
    """Where the shipped synthesiser with `attention` ("location" or "content") lives.

    The file is package data of `course_utils.tts` (found with `importlib.resources`).
    """
    return CHECKPOINT_DIR / f"tts_{attention}.pt"


def load_synthesizer(
    path: str | Path | None = None, attention: str = "location"
) -> tuple[Tacotron, dict]:
    """A shipped (or any saved) synthesiser in eval mode, and its metadata (recipe, scores).

    Args:
        path: a file written by `build_checkpoint`; None (default) loads a shipped one.
        attention: which shipped synthesiser, "location" (default) or "content".

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: a corrupt file, or a checkpoint of another model (a recogniser, say).
    """
    if path is None:
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {attention!r}")
    return load_shipped(__package__, f"tts_{attention}.pt", path, _load)


def _load(path: Path) -> tuple[Tacotron, dict]:
    def build(config: dict) -> Tacotron:
        return Tacotron(TTSConfig(**config))

    return load_model(path, "Tacotron", build, "synthesiser", "python -m course_utils.tts")


def build_checkpoint(
    attention: str = "location",
    path: str | Path | None = None,
    recipe: TTSRecipe = TTSRecipe(),
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> Path:
    """Train the course's synthesiser from scratch, score it and save it (what ships).

    The model is ``TTSConfig.preset("fast", attention_kind=attention)``. The metadata
    records the config, the whole recipe (`dataclasses.asdict`), the training
    time, the validation curves and the test scores of `score_synthesizer` (with lesson
    08's shipped recogniser as the judge), so a rebuilt file can be compared with the
    shipped one.

    Args:
        attention: "location" (default) or "content" (Bahdanau's, for the comparison).
        path: where to write; None (default) is ``cu.data_dir() / "checkpoints" /
            "tts_<attention>.pt"``. The shipped files are replaced only when told so: pass
            ``checkpoint_path(attention)`` (``--folder course_utils/tts/checkpoints``).
        overwrite: replace an existing file (default False: FileExistsError).

    Returns:
        the path written.
    """
    path = Path(path) if path is not None else data_dir() / "checkpoints" / f"tts_{attention}.pt"
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    config = TTSConfig.preset("fast", attention_kind=attention)
    data = build_tts_data()
    torch.manual_seed(recipe.seed)
    model = Tacotron(config)
    start = time.perf_counter()
    history = train_synthesizer(model, data["train"], data["validation"], recipe, device,
                                progress)  # fmt: skip
    seconds = time.perf_counter() - start
    model.cpu().eval()
    recognizer, _ = load_recognizer()
    metadata = {
        "model": "Tacotron",
        "config": config.to_dict(),
        "recipe": asdict(recipe),  # all of it: the run can be repeated from the file
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "device": str(device),
        "validation": [
            {name: round(e[name], 4) for name in ("step", "focus", "val_loss")}
            for e in history.epochs
        ],  # fmt: skip
        "test": score_synthesizer(model, data["test"], recognizer),
    }
    save_checkpoint(path, model, overwrite=overwrite, metadata=metadata)
    if progress:
        print(f"{path}: {seconds:.0f} s of training, test {metadata['test']}")
    return path


def main(argv: list[str] | None = None) -> list[Path]:
    """``python -m course_utils.tts``: rebuild lesson 09's synthesisers (about 25 min each)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.tts",
        description="Rebuild lesson 09's synthesisers (the shipped ones are in "
        "course_utils/tts/checkpoints/).",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.add_argument("--attention", nargs="+", default=list(ATTENTION_KINDS),
                        choices=ATTENTION_KINDS, help="which synthesisers to build")  # fmt: skip
    parser.add_argument(
        "--folder",
        default=None,
        help="where to write them (default: the data folder's checkpoints/)",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best)")
    args = parser.parse_args(argv)
    device = get_device(args.device)  # also sets the CPU threads by the course's rule
    folder = Path(args.folder) if args.folder else data_dir() / "checkpoints"
    return [build_checkpoint(kind, folder / f"tts_{kind}.pt", overwrite=args.overwrite,
                             device=device) for kind in args.attention]  # fmt: skip
