"""Lesson 01's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (it does not import
``course_utils.attention``: its source is what ``solution()`` shows, so it must stand alone),
a function making seeded test inputs with the edge cases that expose common bugs, and the
known mistakes with the hint each earns. Importing this module registers them.

Notebook: 01_attention_as_weighted_average.
"""

from __future__ import annotations

import math

import torch

from ..checker import Diagnostic, register
from ._cases import _randn, _random_mask, _sums_to_one

__all__ = ["softmax_over_keys", "scaled_dot_product", "masked_softmax"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def softmax_over_keys(scores: torch.Tensor) -> torch.Tensor:
    """Softmax over the keys (last axis) of scores (batch, queries, keys)."""
    shifted = scores - scores.amax(dim=-1, keepdim=True)  # largest is 0: exp cannot overflow
    exp = shifted.exp()
    return exp / exp.sum(dim=-1, keepdim=True)  # (batch, queries, keys), rows sum to 1


def scaled_dot_product(
    queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(Q K^T / sqrt(d)) V for queries (b, q, d), keys (b, k, d), values (b, k, dv)."""
    dim = queries.shape[-1]
    scores = queries @ keys.transpose(-2, -1) / math.sqrt(dim)  # (batch, queries, keys)
    weights = torch.softmax(scores, dim=-1)  # over keys: each query's weights sum to 1
    context = weights @ values  # (batch, queries, value_dim)
    return context, weights


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over keys where mask is True (may attend); masked positions get exactly 0."""
    filled = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: no weight
    weights = torch.softmax(filled, dim=-1)  # a fully masked row is 0 / 0 = NaN here...
    return weights.masked_fill(~mask, 0.0)  # ...and all zeros after this line


# ----- 01.softmax_over_keys -----


def _softmax_cases(g: torch.Generator) -> list[tuple]:
    return [
        (_randn(g, 2, 3, 5),),
        (_randn(g, 1, 4, 6),),  # batch 1
        (_randn(g, 3, 2, 1),),  # a single key: every weight is 1
        (3 * _randn(g, 2, 5, 5),),  # queries == keys: a wrong axis keeps the shape
        (1000 + 10 * _randn(g, 2, 3, 4),),  # exp(1000) overflows float32
    ]


register(
    "01.softmax_over_keys",
    softmax_over_keys,
    _softmax_cases,
    [
        Diagnostic(
            lambda scores: torch.softmax(scores, dim=1),
            "Your weights sum to 1 along another axis, not along the keys. Each query needs "
            "its own distribution over the keys: normalise over the last axis (dim=-1).",
            symptom=lambda args, got, exp: (
                not _sums_to_one(got, -1) and (_sums_to_one(got, -2) or _sums_to_one(got, 0))
            ),
        ),
        (
            lambda scores: scores / scores.sum(dim=-1, keepdim=True),
            "Your rows sum to 1, but some weights are negative or above 1: dividing the scores "
            "by their sum is not a softmax. Exponentiate first, then normalise.",
        ),
        (
            lambda scores: scores,
            "Your function returns the scores unchanged; turn them into weights with a softmax "
            "over the keys.",
        ),
        (
            lambda scores: scores.exp(),
            "You exponentiated the scores but did not normalise them: each row of weights "
            "must sum to 1 over the keys.",
        ),
        Diagnostic(
            lambda scores: scores.exp() / scores.exp().sum(dim=-1, keepdim=True),
            "Right on ordinary scores, but NaN or inf for large ones (around 1000): exp "
            "overflows. Softmax does not change when you subtract a constant from a row, so "
            "subtract each row's maximum before exponentiating.",
            symptom=lambda args, got, exp: (
                bool(args[0].abs().max() > 80) and not bool(torch.isfinite(got).all())
            ),
        ),
    ],
    "softmax(s)_j = exp(s_j) / sum_k exp(s_k), taken over the keys (the last axis); "
    "subtracting the row maximum first keeps exp from overflowing.",
    outputs=("weights",),
    weights_output=0,
)


# ----- 01.scaled_dot_product -----


def _attention_cases(g: torch.Generator) -> list[tuple]:
    sizes = [(2, 3, 4, 8, 5), (1, 5, 7, 16, 3), (3, 1, 1, 4, 2), (2, 4, 6, 3, 6)]
    return [
        (_randn(g, b, q, d), _randn(g, b, k, d), _randn(g, b, k, dv)) for b, q, k, d, dv in sizes
    ]


def _unscaled(queries, keys, values):
    weights = torch.softmax(queries @ keys.transpose(-2, -1), dim=-1)
    return weights @ values, weights


def _scaled_by_dim(queries, keys, values):
    scores = queries @ keys.transpose(-2, -1) / queries.shape[-1]
    weights = torch.softmax(scores, dim=-1)
    return weights @ values, weights


def _softmax_over_queries(queries, keys, values):
    scores = queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
    weights = torch.softmax(scores, dim=-2)
    return weights @ values, weights


register(
    "01.scaled_dot_product",
    scaled_dot_product,
    _attention_cases,
    [
        (
            _unscaled,
            "Your weights are too peaked: the scores are missing their scale. Dot products of "
            "d-dimensional vectors grow like sqrt(d); divide the scores by sqrt(d).",
        ),
        (
            _scaled_by_dim,
            "Your weights are too flat: you divided the scores by d. The spread of a dot "
            "product grows like sqrt(d), so divide by sqrt(d) instead.",
        ),
        (
            _softmax_over_queries,
            "Your softmax runs over the queries axis: each column sums to 1 instead of each "
            "row. Every query needs its own weights over the keys (dim=-1).",
        ),
        (
            lambda q, k, v: scaled_dot_product(q, k, v)[0],
            "You return only the context; return the tuple (context, weights).",
        ),
        (
            lambda q, k, v: scaled_dot_product(q, k, v)[::-1],
            "Your results are in the wrong order; return (context, weights).",
        ),
    ],
    "scores = queries keys^T (keys transposed: (batch, dim, keys)), scaled by 1/sqrt(dim); "
    "softmax over the keys; context = weights values.",
    outputs=("context", "weights"),
    weights_output=1,
)


# ----- 01.masked_softmax -----


def _masked_cases(g: torch.Generator) -> list[tuple]:
    causal = torch.ones(4, 6, dtype=torch.bool).tril().expand(1, 4, 6)
    with_empty_row = _random_mask(g, 2, 3, 4)
    with_empty_row[0, 1] = False  # a fully masked row: its weights must be all zero
    return [
        (2 * _randn(g, 2, 3, 5), _random_mask(g, 2, 3, 5)),
        (2 * _randn(g, 1, 4, 6), causal.clone()),  # batch 1, causal mask
        (2 * _randn(g, 2, 3, 4), with_empty_row),
        (_randn(g, 3, 2, 1), torch.tensor([True, False] * 3).reshape(3, 2, 1)),  # single key
        (_randn(g, 2, 4, 5), torch.ones(2, 4, 5, dtype=torch.bool)),  # nothing masked
    ]


def _mixed_rows(mask: torch.Tensor, got: torch.Tensor) -> torch.Tensor:
    """Rows with both masked and unmasked keys whose weights are all finite."""
    return mask.any(-1) & ~mask.all(-1) & torch.isfinite(got).all(-1)


def _polarity_inverted(args, got, expected) -> bool:
    mask, got = args[1], got.detach()
    rows = _mixed_rows(mask, got)
    on_masked = got.masked_fill(mask, 0.0).sum(-1)[rows]
    return bool(rows.any()) and bool((on_masked > 0.99).all())


def _leaks_to_masked(args, got, expected) -> bool:
    mask, got = args[1], got.detach()
    rows = _mixed_rows(mask, got)
    return bool((got.masked_fill(mask, 0.0).abs()[rows] > 1e-6).any())


def _fully_masked_not_zero(args, got, expected) -> bool:
    empty, got = ~args[1].any(-1), got.detach()
    return bool(~(got[empty].abs() <= 1e-6).all())  # NaN compares False, so it counts


register(
    "01.masked_softmax",
    masked_softmax,
    _masked_cases,
    [
        Diagnostic(
            lambda scores, mask: masked_softmax(scores, ~mask),
            "Your weights sit exactly on the positions where the mask is False: the polarity "
            "is inverted. Here True means 'may attend'; positions with False get weight 0.",
            symptom=_polarity_inverted,
        ),
        Diagnostic(
            lambda scores, mask: torch.softmax(scores * mask, dim=-1),
            "Masked positions (mask False) still get clearly nonzero weight. A masked score "
            "must become -inf (or a huge negative number) before the softmax; setting it to 0 "
            "or a moderate number leaves exp(score) well above 0.",
            symptom=_leaks_to_masked,
        ),
        Diagnostic(
            lambda scores, mask: torch.softmax(scores.masked_fill(~mask, -torch.inf), dim=-1),
            "Rows whose keys are all masked give NaN or nonzero weights (softmax of a row of "
            "-inf is 0/0). Fully masked rows must give all-zero weights: set them to zero "
            "after the softmax.",
            symptom=_fully_masked_not_zero,
        ),
    ],
    "Fill the masked scores (mask False) with -inf, take the softmax over the keys, and make "
    "sure rows with no allowed key come out as zeros, not NaN.",
    outputs=("weights",),
    weights_output=0,
)
