"""How lesson 09's synthesiser is trained: `TTSRecipe` and `train_synthesizer`.

Teacher-forced training through `course_utils.fit` (AdamW, a short warm-up then a cosine
decay: `course_utils.training.adamw_one_cycle`), with the losses of `tacotron_loss` (the
guided-attention term per decoder step, see `course_utils.tts.losses`). After every epoch
the validation sentences are run teacher-forced and their alignments measured: focus rate
and diagonal mass, the two curves that show attention learning to read the text.

Batches hold sentences of similar length (sorted within a shuffled window), so the decoder
runs few padding steps: the decoder is a loop over steps, and its cost is the longest item.

Shapes: B batch, L characters, M mel bands, T frames, S decoder steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..training import History, TrainConfig, adamw_one_cycle, fit, to_device
from .alignment import diagonal_mass, focus_rate
from .data import TTSDataset
from .losses import tacotron_loss
from .model import Tacotron

__all__ = ["TTSHistory", "TTSRecipe", "train_synthesizer"]


@dataclass(frozen=True)
class TTSRecipe:
    """How to train a `Tacotron` (the model's sizes and loss weights are its `TTSConfig`).

    Measured with ``TTSConfig.preset("fast")`` on `build_tts_data()` (one core, 1 December
    2026): 1,485 steps in about 7.5 minutes; validation focus rate 0.79 at step 132, 0.85
    at step 600, 0.86 at the end (diagonal mass 1.0); on the test sentences, synthesised
    free-running, focus 0.88 and every one stopped by its stop token. The narrow guided
    band (g = 0.1) sharpens attention but costs intelligibility later: 1,485 more steps
    with the guided loss off gave the recogniser's best CER (0.22 against 0.45 with it on).
    """

    epochs: int = 45  # passes over the training sentences (520 a pass: ~1,500 steps)
    batch_size: int = 16  # sentences per step
    learning_rate: float = 2e-3  # peak of the schedule (AdamW)
    warmup: float = 0.07  # share of the steps warming up to the peak (~100 of 1,500)
    grad_clip: float = 1.0  # max global gradient norm (the decoder's RNNs can spike)
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
    held_out = TTSDataset(validation.texts[: recipe.validation_sentences],
                          validation.mels[: recipe.validation_sentences])  # fmt: skip
    validation_batches = held_out.batches(64)
    mel_losses, guided_losses, alignments = [], [], []

    def loss_fn(model, batch):
        tokens, text_lengths, mels, mel_lengths = batch
        losses = tacotron_loss(model(tokens, text_lengths, mels, mel_lengths), mels,
                               mel_lengths, text_lengths, config)  # fmt: skip
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
