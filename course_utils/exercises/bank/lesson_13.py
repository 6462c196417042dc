"""Lesson 13's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (its source is what ``solution()``
shows, so it does not import ``course_utils.audiotext``), a function making the test inputs
with the edge cases that expose common bugs, and the known mistakes with the hint each earns.
The conventions are ``course_utils.audiotext``'s: a padding mask is True on padded audio
frames; cross-attention has text queries (one row per query) and audio frames as keys and
values; InfoNCE pairs row i of the audio with row i of the text and caps exp(s) at 100, as
CLIP does; recall@k counts a tie with the right candidate against it.
tests/exercises/test_lesson_13_bank.py checks that they agree with the package. Importing
this module registers them.

Example:
    >>> round(info_nce(torch.eye(3), torch.eye(3), 0.0).item(), 4)
    0.5514

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..checker import register
from ._cases import _randn

__all__ = ["cross_attention", "info_nce", "recall_at_k"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def cross_attention(
    queries: torch.Tensor, frames: torch.Tensor, padding: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Text queries (B, Q, D) attend over audio frames (B, T, D); padding (B, T) is True on
    padded frames. Returns the context (B, Q, D) and the weights (B, Q, T)."""
    scores = queries @ frames.transpose(1, 2) / math.sqrt(queries.shape[-1])  # (B, Q, T)
    scores = scores.masked_fill(padding[:, None, :], float("-inf"))  # padding: never attended
    weights = scores.softmax(dim=-1)  # over time: each query's row sums to 1
    return weights @ frames, weights


def info_nce(audio: torch.Tensor, text: torch.Tensor, logit_scale: float) -> torch.Tensor:
    """Symmetric InfoNCE of B matching pairs (row i of `audio`, row i of `text`), unit
    vectors (B, D), with the learned temperature 1 / exp(logit_scale), exp capped at 100."""
    scale = min(math.exp(logit_scale), 100.0)
    logits = scale * audio @ text.T  # (B, B): row i = audio i against every text
    targets = torch.arange(audio.shape[0])  # the match of row i is column i
    loss = torch.nn.functional.cross_entropy
    return (loss(logits, targets) + loss(logits.T, targets)) / 2  # audio -> text, text -> audio


def recall_at_k(similarity: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    """Share of the N queries (rows of `similarity`, (N, M)) whose right candidate
    `targets[i]` is among the k most similar; a tie with the right one counts against it."""
    right = similarity[torch.arange(similarity.shape[0]), targets]  # (N,)
    rank = (similarity >= right[:, None]).sum(dim=1) - 1  # candidates at least as good, itself out
    return (rank < k).float().mean().item()


# ----- 13.cross_attention -----


def _cross_cases(g: torch.Generator) -> list[tuple]:
    def case(b, q, t, d, valid):
        padding = torch.arange(t)[None, :] >= torch.tensor(valid)[:, None]  # (B, T)
        return _randn(g, b, q, d), _randn(g, b, t, d), padding

    return [
        case(2, 3, 6, 4, [6, 4]),
        case(1, 1, 5, 8, [5]),
        case(3, 2, 7, 4, [7, 2, 5]),
        case(2, 4, 3, 16, [1, 3]),
        case(4, 1, 9, 2, [9, 9, 6, 3]),
    ]


def _cross(queries, frames, padding, dim=-1, scale=True, mask="padding"):
    scores = queries @ frames.transpose(1, 2)
    if scale:
        scores = scores / math.sqrt(queries.shape[-1])
    if mask == "padding":
        scores = scores.masked_fill(padding[:, None, :], float("-inf"))
    elif mask == "inverted":
        scores = scores.masked_fill(~padding[:, None, :], -1e9)
    weights = scores.softmax(dim=dim)
    return weights @ frames, weights


register(
    "13.cross_attention",
    cross_attention,
    _cross_cases,
    [
        (
            lambda q, f, p: _cross(q, f, p, mask=None),
            "Padded frames get weight: the padding mask is not applied. Set their scores to "
            "-inf before the softmax (masked_fill with padding[:, None, :]), so each query "
            "listens only to real audio.",
        ),
        (
            lambda q, f, p: _cross(q, f, p, mask="inverted"),
            "Your mask is upside down: the padding mask is True on padded frames, the frames "
            "to exclude. Fill the scores where padding is True, not where it is False.",
        ),
        (
            lambda q, f, p: _cross(q, f, p, dim=1),
            "Your softmax runs over the queries (dim 1), so each frame's weights sum to 1 "
            "across the words. Each query needs a distribution over time: softmax over the "
            "last axis, the frames.",
        ),
        (
            lambda q, f, p: _cross(q, f, p, scale=False),
            "The scores are not scaled: divide q . k by sqrt(d), as in lesson 03, or the "
            "softmax saturates as d grows.",
        ),
    ],
    "Scores are queries times frames transposed, over sqrt(d); padded frames are filled with "
    "-inf; the softmax runs over time; the context is the weights times the frames.",
    outputs=("context", "weights"),
    weights_output=1,
)


# ----- 13.info_nce -----


def _unit(g: torch.Generator, b: int, d: int) -> torch.Tensor:
    return F.normalize(_randn(g, b, d), dim=-1)


def _nce_cases(g: torch.Generator) -> list[tuple]:
    a = _unit(g, 5, 8)
    close = F.normalize(a + 0.3 * _randn(g, 5, 8), dim=-1)  # texts near their audio
    return [
        (a, close, math.log(1 / 0.07)),
        (_unit(g, 3, 4), _unit(g, 3, 4), 0.0),
        (_unit(g, 6, 16), _unit(g, 6, 16), 2.0),
        (a, close, 8.0),  # exp(8) > 100: capped
        (_unit(g, 2, 3), _unit(g, 2, 3), 1.0),
    ]


def _nce(audio, text, logit_scale, both=True, exp=True, cap=True):
    scale = math.exp(logit_scale) if exp else logit_scale
    scale = min(scale, 100.0) if cap else scale
    logits = scale * audio @ text.T
    targets = torch.arange(audio.shape[0])
    if not both:
        return F.cross_entropy(logits, targets)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


register(
    "13.info_nce",
    info_nce,
    _nce_cases,
    [
        (
            lambda a, t, s: _nce(a, t, s, both=False),
            "You only score audio -> text (the rows). InfoNCE here is symmetric: also score "
            "text -> audio (the columns, logits.T) and average the two cross-entropies.",
        ),
        (
            lambda a, t, s: _nce(a, t, s, exp=False),
            "logit_scale is the log of the inverse temperature: multiply the similarities by "
            "exp(logit_scale), not by logit_scale itself (learning the log keeps it positive).",
        ),
        (
            lambda a, t, s: _nce(a, t, s, cap=False),
            "exp(logit_scale) must be capped at 100 (as CLIP does): without the cap a large "
            "scale makes the logits explode and the training unstable.",
        ),
    ],
    "Logits are exp(s) (at most 100) times audio @ text.T; the right match of row i is column "
    "i; average the cross-entropy over rows and the one over columns.",
    outputs=("loss",),
)


# ----- 13.recall_at_k -----


def _recall_cases(g: torch.Generator) -> list[tuple]:
    tie = torch.tensor([[0.5, 0.5, 0.1], [0.2, 0.9, 0.9], [0.3, 0.3, 0.3]])
    return [
        (_randn(g, 8, 8), torch.arange(8), 1),
        (_randn(g, 8, 8), torch.arange(8), 3),
        (_randn(g, 6, 10), torch.randint(0, 10, (6,), generator=g), 2),
        (tie, torch.arange(3), 1),
        (tie, torch.arange(3), 2),
        (_randn(g, 5, 5), torch.arange(5), 5),
    ]


def _recall(similarity, targets, k, strict=False, off=0, transpose=False):
    if transpose:
        similarity = similarity.T
    right = similarity[torch.arange(similarity.shape[0]), targets]
    better = similarity > right[:, None] if strict else similarity >= right[:, None]
    rank = better.sum(dim=1) - (0 if strict else 1)
    return (rank < k + off).float().mean().item()


register(
    "13.recall_at_k",
    recall_at_k,
    _recall_cases,
    [
        (
            lambda s, t, k: _recall(s, t, k, strict=True),
            "A tie with the right candidate counts in its favour in your version. A model "
            "that gives every candidate the same score would then reach recall 1: count the "
            "candidates at least as similar (>=), the right one left out.",
        ),
        (
            lambda s, t, k: _recall(s, t, k, off=1),
            "Off by one: a rank counted from 0 is in the top k when it is below k "
            "(rank < k), so recall@1 accepts only rank 0.",
        ),
    ],
    "For each row, take the right candidate's similarity, count the other candidates that are "
    "at least as similar (that is its rank from 0), and count a hit when the rank is below k.",
    outputs=("recall",),
)
