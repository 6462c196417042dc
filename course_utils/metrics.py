"""Metrics: accuracy, the confusion matrix, the models' predictions, and CER / WER.

Lesson 06 scores its keyword spotters on voices never heard in training. Accuracy says how
often a model is right; the confusion matrix says *what* it takes for what (rows: the true
class, columns: the predicted one), which is where a learner sees that "off" and "up" or
"four" and "for"-like words are the hard pairs.

`error_rate` scores transcripts (lesson 08): the Levenshtein distance between reference
and hypothesis, in characters (CER) or words (WER), summed over the test set and divided
by the reference length, computed with `torchaudio.functional.edit_distance`.

Notebook: 06_audio_classification (and 08_speech_recognition for `error_rate`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torchaudio.functional as AF
from torch import nn

__all__ = [
    "accuracy",
    "attended_span",
    "confusion_matrix",
    "error_rate",
    "predict",
    "sampling_margin",
    "top_confusions",
]


def sampling_margin(a: float, b: float, n: int, sigmas: float = 2.0) -> float:
    """How far two success rates measured on `n` items each can differ by chance alone.

    A lesson that asserts "model A is no worse than model B" on a test set of n clips must
    allow for the sample: one clip of 44 is 2.3 points. The margin is `sigmas` standard
    errors of the difference of two independent proportions,
    sqrt((a (1 - a) + b (1 - b)) / n), and never less than one item (1 / n). For the same
    items scored twice (paired) this is conservative.

    Args:
        a, b: the two rates, in [0, 1] (accuracies, or 1 - error rates).
        n: items behind each rate (> 0).
        sigmas: standard errors of the difference to allow (2: about 95 %).

    Returns:
        the margin, as a rate: assert ``a >= b - sampling_margin(a, b, n)``.

    Example:
        >>> round(sampling_margin(0.864, 0.886, 44), 3)
        0.141
        >>> sampling_margin(1.0, 1.0, 50)  # no spread left: one item
        0.02
    """
    if n <= 0:
        raise ValueError(f"expected a positive number of items, got n={n}")
    if not (0.0 <= a <= 1.0 and 0.0 <= b <= 1.0):
        raise ValueError(f"expected two rates in [0, 1], got {a} and {b}")
    spread = math.sqrt((a * (1 - a) + b * (1 - b)) / n)
    return max(sigmas * spread, 1.0 / n)


def attended_span(weights: torch.Tensor, share: float = 0.8) -> tuple[int, int]:
    """The shortest run of frames ``weights[start:stop]`` holding at least `share` of the weight.

    Where a model listened, as a stretch of time: lesson 06 plays the stretch that holds 80 %
    of attention pooling's weight. Of equally short runs, the earliest.

    Args:
        weights: (frames,) non-negative attention weights summing to 1.
        share: the part of the weight the run must hold, in (0, 1].

    Returns:
        (start, stop) frame indices, stop exclusive.

    Example:
        >>> attended_span(torch.tensor([0.05, 0.1, 0.6, 0.2, 0.05]), 0.8)
        (2, 4)
    """
    if weights.ndim != 1 or len(weights) == 0:
        raise ValueError(f"expected weights of shape (frames,), got {tuple(weights.shape)}")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must lie in (0, 1], got {share}")
    weights = weights.detach().cpu().double()
    if not (torch.isfinite(weights).all() and (weights >= 0).all()):
        raise ValueError("weights must be finite and non-negative")
    frames = len(weights)
    cumulative = torch.cat([torch.zeros(1, dtype=torch.float64), weights.cumsum(0)])
    # from each start, the first stop whose run holds enough (float32 weights may sum 1e-7 short)
    stops = torch.searchsorted(cumulative, cumulative[:-1] + share - 1e-6)  # (frames,)
    lengths = torch.where(stops <= frames, stops - torch.arange(frames), frames + 1)
    start = int(lengths.argmin())  # the first of equally short runs: the earliest
    return start, min(int(stops[start]), frames)


def _check_labels(predictions: torch.Tensor, labels: torch.Tensor) -> None:
    if predictions.ndim != 1 or predictions.shape != labels.shape:
        raise ValueError(
            f"expected predictions and labels of the same shape (n,), got "
            f"{tuple(predictions.shape)} and {tuple(labels.shape)}"
        )
    if predictions.numel() == 0:
        raise ValueError("no predictions to score: the evaluation set is empty")


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of `predictions` (n,) equal to `labels` (n,); logits (n, classes) are argmaxed.

    Example:
        >>> accuracy(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2]))
        0.75
    """
    if predictions.ndim == 2:
        predictions = predictions.argmax(dim=-1)
    _check_labels(predictions, labels)
    return (predictions == labels).float().mean().item()


def confusion_matrix(
    predictions: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Counts (num_classes, num_classes): entry [i, j] = clips of class i predicted as j.

    Rows sum to the number of clips of each true class; the diagonal holds the correct ones.

    Example:
        >>> confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), 3)
        tensor([[1, 0, 0],
                [0, 1, 0],
                [0, 1, 1]])
    """
    _check_labels(predictions, labels)
    if int(predictions.max()) >= num_classes or int(labels.max()) >= num_classes:
        raise ValueError(f"labels and predictions must be < num_classes={num_classes}")
    if int(predictions.min()) < 0 or int(labels.min()) < 0:
        raise ValueError("labels and predictions must be non-negative class indices")
    flat = labels.long() * num_classes + predictions.long()  # one bin per (true, predicted)
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def top_confusions(
    matrix: torch.Tensor, classes: Iterable[str], k: int = 5
) -> list[tuple[str, str, int]]:
    """The `k` largest off-diagonal entries as (true class, predicted class, count).

    Example:
        >>> m = torch.tensor([[5, 2], [0, 7]])
        >>> top_confusions(m, ["on", "off"])
        [('on', 'off', 2)]
    """
    classes = list(classes)
    if matrix.shape != (len(classes), len(classes)):
        raise ValueError(f"matrix is {tuple(matrix.shape)} but there are {len(classes)} classes")
    errors = matrix.clone()
    errors.fill_diagonal_(0)
    counts, flat = errors.flatten().sort(descending=True)
    n = len(classes)
    pairs = zip(counts[:k].tolist(), flat[:k].tolist(), strict=True)
    return [(classes[i // n], classes[i % n], c) for c, i in pairs if c > 0]


@torch.no_grad()
def predict(
    model: nn.Module, loader: Iterable, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run `model` in eval mode over `loader`'s (features, labels) batches.

    The model returns logits, or an object with a `.logits` attribute (`ClassifierOutput`).

    Returns:
        predicted classes (n,) and true labels (n,), on the CPU.
    """
    was_training = model.training
    model.eval()
    predictions, labels = [], []
    for features, targets in loader:
        output = model(features.to(device))
        logits = getattr(output, "logits", output)
        predictions.append(logits.argmax(dim=-1).cpu())
        labels.append(targets.cpu())
    model.train(was_training)
    return torch.cat(predictions), torch.cat(labels)


def error_rate(references: list[str], hypotheses: list[str], unit: str = "char") -> float:
    """Total edit distance over total reference length: CER (unit "char") or WER ("word").

    Substitutions, deletions and insertions each count 1; insertions can push the rate
    above 1. Words are split on whitespace; characters include the spaces between words.

    Example:
        >>> error_rate(["one two three"], ["one too three"], unit="word")
        0.3333333333333333
        >>> error_rate(["abcd"], ["abd"])
        0.25
    """
    if unit not in ("char", "word"):
        raise ValueError(f"unit must be 'char' or 'word', got {unit!r}")
    if len(references) != len(hypotheses) or not references:
        raise ValueError(
            f"expected equally many references and hypotheses (at least one), got "
            f"{len(references)} and {len(hypotheses)}"
        )
    split = (lambda text: list(text)) if unit == "char" else str.split
    pairs = zip(references, hypotheses, strict=True)
    errors = sum(AF.edit_distance(split(r), split(h)) for r, h in pairs)
    total = sum(len(split(r)) for r in references)
    if total == 0:
        raise ValueError("the references are all empty: the error rate is undefined")
    return errors / total
