"""Lesson 12's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain Python and torch (it does not import
``course_utils.attention``: its source is what ``solution()`` shows, so it must stand alone),
a function making the test inputs with the edge cases that expose common bugs, and the known
mistakes with the hint each earns. The references follow the conventions of
``course_utils.attention``: a mask is True where a query may attend; a sliding window of
`window` frames lets frame i see frames j with |i - j| <= window (and only j <= i in a causal,
streaming model); the online softmax keeps, per query, the running maximum of the scores, the
running sum of exp(score - maximum) and the running weighted sum of values (FlashAttention's
m, l and O). tests/exercises/test_lesson_12_bank.py checks that they agree with the package.
Importing this module registers them.

Example:
    >>> band_mask(3, 1, causal=True)
    tensor([[ True, False, False],
            [ True,  True, False],
            [False,  True,  True]])
    >>> receptive_field_seconds(layers=3, window=16, subsampling=4, hop_seconds=0.01)
    1.92

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import torch

from ..checker import Diagnostic, register
from ._cases import _randn

__all__ = ["band_mask", "online_softmax_step", "receptive_field_seconds"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def online_softmax_step(
    row_max: torch.Tensor,
    row_sum: torch.Tensor,
    accumulator: torch.Tensor,
    scores: torch.Tensor,
    values: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fold one block of keys into the running softmax of each query.

    row_max, row_sum: (queries, 1); accumulator: (queries, value_dim); scores: (queries,
    block) for this block's keys; values: (block, value_dim). Returns the new three.
    """
    new_max = torch.maximum(row_max, scores.amax(dim=-1, keepdim=True))  # (Q, 1)
    rescale = torch.exp(row_max - new_max)  # the old terms were exp(s - row_max): shrink them
    weights = torch.exp(scores - new_max)  # this block's terms, never above 1: no overflow
    row_sum = row_sum * rescale + weights.sum(dim=-1, keepdim=True)
    accumulator = accumulator * rescale + weights @ values  # (Q, Dv)
    return new_max, row_sum, accumulator  # the context is accumulator / row_sum, at the end


def band_mask(num_frames: int, window: int, causal: bool = False) -> torch.Tensor:
    """The (num_frames, num_frames) bool mask of a sliding window: True where frame i may
    attend to frame j, |i - j| <= window, and only j <= i when causal."""
    i = torch.arange(num_frames)[:, None]  # queries down the rows
    j = torch.arange(num_frames)[None, :]  # keys across the columns
    mask = (i - j).abs() <= window
    if causal:
        mask = mask & (j <= i)  # a streaming model cannot hear the future
    return mask


def receptive_field_seconds(
    layers: int, window: int, subsampling: int, hop_seconds: float
) -> float:
    """How far (seconds, on each side) an output frame can hear after `layers` stacked local
    attention layers of `window` frames each side, run on frames subsampled by
    `subsampling` from input frames `hop_seconds` apart."""
    frames = layers * window  # each layer reaches `window` frames further
    return frames * subsampling * hop_seconds  # one subsampled frame spans `subsampling` hops


# ----- 12.online_softmax_step -----


def _state(g: torch.Generator, queries: int, keys: int, value_dim: int, scale: float):
    """The state after a first block of keys, computed with the reference from a fresh start."""
    fresh = (
        torch.full((queries, 1), float("-inf")),
        torch.zeros(queries, 1),
        torch.zeros(queries, value_dim),
    )
    return online_softmax_step(*fresh, scale * _randn(g, queries, keys), _randn(g, keys, value_dim))


def _block(g: torch.Generator, queries: int, keys: int, value_dim: int, scale: float, shift=0.0):
    return shift + scale * _randn(g, queries, keys), _randn(g, keys, value_dim)


def _online_cases(g: torch.Generator) -> list[tuple]:
    fresh = (torch.full((4, 1), float("-inf")), torch.zeros(4, 1), torch.zeros(4, 3))
    return [
        (*_state(g, 4, 5, 3, 1.0), *_block(g, 4, 6, 3, 1.0)),
        (*_state(g, 6, 8, 2, 1.0), *_block(g, 6, 3, 2, 1.0, shift=4.0)),  # the maximum grows
        (*_state(g, 5, 4, 4, 1.0), *_block(g, 5, 7, 4, 1.0, shift=-4.0)),  # it stays
        (*fresh, *_block(g, 4, 5, 3, 2.0)),  # the first block: nothing seen yet
        (*_state(g, 3, 2, 2, 1.0), *_block(g, 3, 1, 2, 1.0)),  # a block of one key
        (*_state(g, 4, 6, 3, 30.0), *_block(g, 4, 6, 3, 30.0, shift=100.0)),  # exp(190) = inf
        (*_state(g, 8, 16, 4, 3.0), *_block(g, 8, 16, 4, 3.0)),
    ]


def _step_without(rescale_sum: bool, rescale_accumulator: bool):
    def wrong(row_max, row_sum, accumulator, scores, values):
        new_max = torch.maximum(row_max, scores.amax(dim=-1, keepdim=True))
        rescale = torch.exp(row_max - new_max)
        weights = torch.exp(scores - new_max)
        row_sum = (row_sum * rescale if rescale_sum else row_sum) + weights.sum(-1, keepdim=True)
        kept = accumulator * rescale if rescale_accumulator else accumulator
        return new_max, row_sum, kept + weights @ values

    return wrong


def _inverted(row_max, row_sum, accumulator, scores, values):
    new_max = torch.maximum(row_max, scores.amax(dim=-1, keepdim=True))
    rescale = torch.exp(new_max - row_max)  # upside down
    weights = torch.exp(scores - new_max)
    return (
        new_max,
        row_sum * rescale + weights.sum(-1, keepdim=True),
        (accumulator * rescale + weights @ values),
    )


def _no_max(row_max, row_sum, accumulator, scores, values):
    weights = torch.exp(scores)  # overflows for scores above about 88 in float32
    return row_max, row_sum + weights.sum(-1, keepdim=True), accumulator + weights @ values


def _not_finite(got) -> bool:
    return any(not torch.isfinite(torch.as_tensor(x)).all() for x in got[1:])


def _stale_max(args, got, expected) -> bool:
    """The returned maximum is not the running maximum of all scores seen."""
    return not torch.equal(torch.as_tensor(got[0]), expected[0])


def _rescale_grows(args, got, expected) -> bool:
    """The maximum is right, but the carried sum grew (or overflowed) where it should shrink."""
    grew = bool((torch.as_tensor(got[1]) > expected[1] * (1 + 1e-4) + 1e-6).any())
    return not _stale_max(args, got, expected) and (grew or _not_finite(got))


register(
    "12.online_softmax_step",
    online_softmax_step,
    _online_cases,
    [
        (
            _step_without(rescale_sum=True, rescale_accumulator=False),
            "You rescaled the running sum but not the accumulator. When a block raises the "
            "maximum, every term already in the accumulator was computed as exp(s - old max) "
            "and must shrink by exp(old max - new max), exactly like the sum; otherwise old "
            "keys keep too much weight in the context.",
        ),
        (
            _step_without(rescale_sum=False, rescale_accumulator=False),
            "Nothing you carried over is rescaled. When this block's scores raise the "
            "maximum, the old sum and accumulator (computed against the old maximum) must "
            "both be multiplied by exp(old max - new max) before this block's terms are added.",
        ),
        Diagnostic(
            _no_max,
            "Some of your numbers overflow to inf (or NaN): you took exp of the raw scores. "
            "Subtract the running maximum first, so that every exponent is at most 0, and keep "
            "that maximum up to date in the state.",
            symptom=_stale_max,
        ),
        Diagnostic(
            _inverted,
            "Your rescale factor is upside down: it should shrink the old terms, "
            "exp(old max - new max), a number between 0 and 1 (0 for the first block, whose "
            "old maximum is -inf).",
            symptom=_rescale_grows,
        ),
    ],
    "Three steps: the new running maximum; a factor exp(old max - new max) that brings the old "
    "sum and accumulator to the new maximum; then this block's exp(score - new max) added to "
    "the sum and, weighted by the values, to the accumulator.",
    outputs=("row_max", "row_sum", "accumulator"),
)


# ----- 12.band_mask -----


def _band_cases(g: torch.Generator) -> list[tuple]:
    del g  # the cases are fixed: every size and window that exposes an off-by-one
    return [(7, 2, False), (7, 2, True), (10, 3, True), (6, 0, False), (6, 0, True),
            (5, 9, False), (5, 9, True), (1, 1, True), (12, 1, False)]  # fmt: skip


def _band(num_frames, window, causal, strict=False, keep=None):
    i, j = torch.arange(num_frames)[:, None], torch.arange(num_frames)[None, :]
    mask = (i - j).abs() < window if strict else (i - j).abs() <= window
    return mask if keep is None else mask & keep(i, j)


def _past(i, j):
    return j <= i


def _future(i, j):
    return j >= i


register(
    "12.band_mask",
    band_mask,
    _band_cases,
    [
        (
            lambda t, w, causal: ~band_mask(t, w, causal),
            "Your mask is True where attention is forbidden. The course's masks (and "
            "PyTorch's boolean attn_mask) mean True = may attend.",
        ),
        (
            lambda t, w, causal: _band(t, w, causal, strict=True, keep=_past if causal else None),
            "Your window is one frame too narrow: a window of w frames reaches frames i - w "
            "to i + w, so |i - j| <= w (a window of 0 still lets a frame attend to itself).",
        ),
        (
            lambda t, w, causal: _band(t, w, causal, keep=_future if causal else None),
            "Your causal mask lets frame i attend to the future (j > i) and not to the past: "
            "a streaming model would need frames it has not received yet. Keep j <= i "
            "(the lower triangle).",
        ),
        (
            lambda t, w, causal: _band(t, w, False),
            "Your mask ignores `causal`: with causal=True, frame i must not see any j > i.",
        ),
    ],
    "Compare every query index i (rows) with every key index j (columns): allowed when they "
    "are at most `window` apart, and, when causal, only when j is not after i.",
    outputs=("mask",),
)


# ----- 12.receptive_field_seconds -----


def _field_cases(g: torch.Generator) -> list[tuple]:
    del g
    return [(3, 16, 4, 0.01), (1, 32, 4, 0.01), (4, 8, 2, 0.02), (2, 50, 1, 0.01),
            (6, 4, 8, 0.016), (1, 1, 1, 0.01)]  # fmt: skip


register(
    "12.receptive_field_seconds",
    receptive_field_seconds,
    _field_cases,
    [
        (
            lambda layers, window, subsampling, hop: layers * window * hop,
            "You counted input frames, but the attention runs after subsampling: one of its "
            "frames spans `subsampling` input hops.",
        ),
        (
            lambda layers, window, subsampling, hop: window * subsampling * hop,
            "That is one layer's reach. Each stacked layer attends to frames that already "
            "heard `window` frames further: the reaches add up over the layers.",
        ),
        (
            lambda layers, window, subsampling, hop: 2 * layers * window * subsampling * hop,
            "You gave the whole width of the field (both sides). The question asks how far it "
            "reaches on each side.",
        ),
        (
            lambda layers, window, subsampling, hop: window**layers * subsampling * hop,
            "The reach of stacked windows adds up (w + w + w), it does not multiply: layer 2 "
            "sees w frames around frames that each saw w frames around them.",
        ),
    ],
    "Find how many attention frames the stack reaches on one side (each layer adds `window`), "
    "then turn attention frames into input hops and hops into seconds.",
    outputs=("seconds",),
)
