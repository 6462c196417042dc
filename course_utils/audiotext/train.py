"""Training lesson 13's models: batches, and one loop for the three of them.

- `audio_batch`: utterances `idx` of a set -> padded waveforms (B, S) and samples (B,);
- `presence_queries`: for each utterance, one query it says and one it does not (chosen
  among `QUERIES`), with the labels 1 and 0: the only supervision the detector gets. Half
  the unsaid queries are *hard*: from the said one's slot (another room, another digit), so
  that the sentence's template ("move ... steps" holds a direction) cannot answer for the
  word;
- `said_matrix`, `presence_loss`: which queries each text says, and a cross-entropy that
  weighs said and unsaid pairs equally;
- `order_pairs`: for each word list, two of its words and whether the first is said first;
- `distinct_batches`: batches of utterances whose transcripts all differ (InfoNCE calls
  every other transcript of the batch wrong, so a repeated one would be punished as wrong);
- `train_detector`, `train_dual`, `train_order`: AdamW with a one-cycle schedule
  (`training.adamw_one_cycle`), a history of the loss every `log_every` steps.

Shapes: B batch, S samples, Q queries, L characters, T frames, E d_model.

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..training import TrainConfig, adamw_one_cycle
from .contrastive import DualEncoder
from .data import QUERIES, SLOTS, UtteranceSet
from .fusion import OrderClassifier, SpokenTermDetector
from .text import encode_texts

__all__ = [
    "Schedule",
    "audio_batch",
    "distinct_batches",
    "encode_pairs",
    "encode_queries",
    "order_pairs",
    "presence_loss",
    "presence_queries",
    "said_matrix",
    "train_detector",
    "train_dual",
    "train_order",
]


@dataclass(frozen=True)
class Schedule:
    """How long and how fast a model trains."""

    steps: int = 1000
    batch_size: int = 32
    learning_rate: float = 2e-3  # peak of the one-cycle schedule
    weight_decay: float = 0.01
    clip_grad_norm: float = 1.0
    log_every: int = 50
    seed: int = 0


def audio_batch(utterances: UtteranceSet, idx) -> tuple[torch.Tensor, torch.Tensor]:
    """Utterances `idx` -> zero-padded float32 waveforms (B, S) and their samples (B,)."""
    waves = [utterances.waveform(int(i)) for i in idx]
    samples = torch.tensor([w.size for w in waves])
    batch = torch.zeros(len(waves), int(samples.max()))
    for row, wave in enumerate(waves):
        batch[row, : wave.size] = torch.from_numpy(wave)
    return batch, samples


def presence_queries(
    texts: list[str], rng: np.random.Generator, hard: float = 0.5
) -> tuple[list[list[str]], torch.Tensor]:
    """One query said and one not said per text (in a random order), and labels (B, 2).

    With probability `hard` the unsaid query comes from the said query's slot (`SLOTS`),
    when that slot has one left.

    Example:
        >>> queries, labels = presence_queries(["stop the fan"], np.random.default_rng(0))
        >>> sorted(zip(labels[0].tolist(), queries[0]))[1]
        (1.0, 'fan')
    """
    queries, labels = [], []
    for text in texts:
        padded = f" {text} "
        said = [q for q in QUERIES if f" {q} " in padded]
        unsaid = [q for q in QUERIES if f" {q} " not in padded]
        if not said:
            raise ValueError(f"{text!r} says none of the queries")
        positive = said[rng.integers(len(said))]
        slot = next(values for values in SLOTS.values() if positive in values)
        siblings = [q for q in slot if q in unsaid]
        pool = siblings if siblings and rng.random() < hard else unsaid
        pair = [positive, pool[rng.integers(len(pool))]]
        flip = bool(rng.integers(2))
        queries.append(pair[::-1] if flip else pair)
        labels.append([0.0, 1.0] if flip else [1.0, 0.0])
    return queries, torch.tensor(labels)


def order_pairs(texts: list[str], rng: np.random.Generator) -> tuple[list[list[str]], torch.Tensor]:
    """Two distinct words of each text, in a random order, and 1.0 where the first comes
    first in the text. (B, 2) labels... as (B,).

    Example:
        >>> pairs, labels = order_pairs(["up fan six"], np.random.default_rng(1))
        >>> words = "up fan six".split()
        >>> labels.item() == float(words.index(pairs[0][0]) < words.index(pairs[0][1]))
        True
    """
    pairs, labels = [], []
    for text in texts:
        words = text.split()
        a, b = rng.choice(len(words), 2, replace=False)
        pairs.append([words[a], words[b]])
        labels.append(float(a < b))
    return pairs, torch.tensor(labels)


def distinct_batches(
    texts: list[str], batch_size: int, rng: np.random.Generator
) -> list[list[int]]:
    """Indices of one epoch in batches whose texts all differ: every index once, in a random
    order; a text already in the batch waits for the next one (so the last batches of an
    epoch may be smaller).

    Example:
        >>> distinct_batches(["a", "a", "b"], 2, np.random.default_rng(0))
        [[2, 0], [1]]
    """
    batches, current, seen = [], [], set()

    def place(queue: list[int]) -> list[int]:
        nonlocal current, seen
        waiting = []
        for j in queue:
            if texts[j] in seen:
                waiting.append(j)
                continue
            current.append(j)
            seen.add(texts[j])
            if len(current) == batch_size:
                batches.append(current)
                current, seen = [], set()
        return waiting

    waiting: list[int] = []
    for i in rng.permutation(len(texts)).tolist():
        waiting = place(waiting + [i])
    while waiting:  # the repeated texts left at the end: one more batch each round
        if current:
            batches.append(current)
            current, seen = [], set()
        waiting = place(waiting)
    if current:
        batches.append(current)
    return batches


def encode_queries(
    texts: list[list[str]], max_chars: int, device="cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-utterance lists of Q texts -> ids (B, Q, L), lengths (B, Q), on `device`."""
    ids, lengths = encode_texts([t for row in texts for t in row], max_chars)
    shape = (len(texts), len(texts[0]))
    return ids.to(device).unflatten(0, shape), lengths.to(device).unflatten(0, shape)


def _loop(model, schedule: Schedule, loss_of_step, progress: bool, name: str) -> dict:
    """The loop the three trainings share: loss, clip, AdamW + one cycle, a history."""
    config = TrainConfig(
        epochs=1,
        learning_rate=schedule.learning_rate,
        weight_decay=schedule.weight_decay,
        seed=schedule.seed,
    )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer, scheduler = adamw_one_cycle(
        model, config, schedule.steps
    )  # frozen: no grad, skipped
    history = {"steps": [], "loss": [], "seconds": 0.0}
    start, running = time.perf_counter(), []
    model.train()
    for step in range(1, schedule.steps + 1):
        loss = loss_of_step(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, schedule.clip_grad_norm)
        optimizer.step()
        scheduler.step()
        running.append(loss.item())
        if step % schedule.log_every == 0 or step == schedule.steps:
            history["steps"].append(step)
            history["loss"].append(round(sum(running) / len(running), 5))
            running = []
            if progress:
                elapsed = time.perf_counter() - start
                print(
                    f"{name} step {step}/{schedule.steps}: loss {history['loss'][-1]:.4f} "
                    f"({elapsed:.0f} s)",
                    flush=True,
                )
    history["seconds"] = round(time.perf_counter() - start, 1)
    model.eval()
    return history


def said_matrix(texts: list[str], queries: list[str]) -> torch.Tensor:
    """1.0 where query j is said (as whole words) in text i, else 0.0: (len(texts), len(queries)).

    Example:
        >>> said_matrix(["stop the fan", "move up two steps"], ["fan", "up", "two"]).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    """
    return torch.tensor([[float(f" {q} " in f" {t} ") for q in queries] for t in texts])


def presence_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy where the said and the unsaid queries weigh half each (most
    pairs of a batch are unsaid)."""
    losses = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    said = labels > 0.5
    return (losses[said].mean() + losses[~said].mean()) / 2


def train_detector(
    model: SpokenTermDetector,
    utterances: UtteranceSet,
    schedule: Schedule = Schedule(),
    device="cpu",
    progress: bool = True,
) -> dict:
    """Train on presence alone. Each utterance of a batch brings one query it says and one it
    does not (`presence_queries`); every utterance is then asked every query of the batch
    (B x 2B pairs, labelled by `said_matrix`), as a contrastive batch uses all its pairs, with
    `presence_loss`. Returns the history {"steps", "loss", "seconds"}."""
    torch.manual_seed(schedule.seed)
    rng = np.random.default_rng([schedule.seed, 131])
    model.to(device)

    def loss_of_step(step: int) -> torch.Tensor:
        idx = rng.integers(len(utterances), size=schedule.batch_size)
        texts = [utterances.texts[i] for i in idx]
        waves, samples = audio_batch(utterances, idx)
        pairs, _ = presence_queries(texts, rng)
        queries = sorted({q for pair in pairs for q in pair})  # the batch's queries, once each
        ids, lengths = encode_texts(queries, model.config.max_chars)
        vectors, _ = model.text(ids.to(device), lengths.to(device))  # (N, E)
        frames, padding = model.audio(waves.to(device), samples.to(device))  # (B, T, E)
        every = vectors.expand(len(idx), -1, -1)  # (B, N, E): every query for every utterance
        logits, _ = model.fuse(every, frames, padding)  # (B, N)
        return presence_loss(logits, said_matrix(texts, queries).to(device))

    return _loop(model, schedule, loss_of_step, progress, "detector")


def train_dual(
    model: DualEncoder,
    utterances: UtteranceSet,
    schedule: Schedule = Schedule(),
    device="cpu",
    progress: bool = True,
) -> dict:
    """Train with symmetric InfoNCE on batches of distinct transcripts."""
    if len(set(utterances.texts)) < 2:
        raise ValueError("InfoNCE needs at least two different transcripts in the set")
    torch.manual_seed(schedule.seed)
    rng = np.random.default_rng([schedule.seed, 132])
    model.to(device)
    batches: list[list[int]] = []

    def loss_of_step(step: int) -> torch.Tensor:
        while not batches or len(batches[0]) < 2:
            if batches:
                batches.pop(0)
            if not batches:
                batches.extend(distinct_batches(utterances.texts, schedule.batch_size, rng))
        idx = batches.pop(0)
        waves, samples = audio_batch(utterances, idx)
        ids, lengths = encode_texts([utterances.texts[i] for i in idx], model.config.max_chars)
        return model(waves.to(device), samples.to(device), ids.to(device), lengths.to(device))

    return _loop(model, schedule, loss_of_step, progress, "dual encoder")


def encode_pairs(
    model: OrderClassifier, utterances: UtteranceSet, pairs, device="cpu", batch_size: int = 64
):
    """The frozen encoders over every utterance: frames (N, T, E), padding (N, T) and the
    pair vectors (N, 2, E), computed once (only the fusion trains)."""
    model.to(device)
    frames, padding, vectors = [], [], []
    for start in range(0, len(utterances), batch_size):
        idx = list(range(start, min(start + batch_size, len(utterances))))
        waves, samples = audio_batch(utterances, idx)
        ids, lengths = encode_queries(
            [pairs[i] for i in idx], model.encoders.config.max_chars, device
        )
        f, p, v = model.encode(waves.to(device), samples.to(device), ids, lengths)
        frames += list(f)
        padding += list(p)
        vectors.append(v)
    frames = torch.nn.utils.rnn.pad_sequence(frames, batch_first=True)
    padding = torch.nn.utils.rnn.pad_sequence(padding, batch_first=True, padding_value=True)
    return frames, padding, torch.cat(vectors)


def train_order(
    model: OrderClassifier,
    encoded: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    labels: torch.Tensor,
    schedule: Schedule = Schedule(),
    progress: bool = True,
) -> dict:
    """Train the fusion (the encoders stay frozen) on `encode_pairs`' output and the labels."""
    torch.manual_seed(schedule.seed)
    rng = np.random.default_rng([schedule.seed, 133])
    frames, padding, pairs = encoded
    device = frames.device

    def loss_of_step(step: int) -> torch.Tensor:
        idx = torch.from_numpy(rng.integers(len(labels), size=schedule.batch_size)).to(device)
        logits = model(frames[idx], padding[idx], pairs[idx])
        return F.binary_cross_entropy_with_logits(logits, labels.to(device)[idx])

    return _loop(model, schedule, loss_of_step, progress, f"order ({model.fusion})")
