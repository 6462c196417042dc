"""Lesson 02's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (it does not import
``course_utils.attention``: its source is what ``solution()`` shows, so it must stand alone),
a function making seeded test inputs with the edge cases that expose common bugs, and the
known mistakes with the hint each earns. Importing this module registers them.

Notebook: 02_additive_attention.
"""

from __future__ import annotations

import torch

from ..checker import Diagnostic, register
from ._cases import _randn, _sums_to_one

__all__ = ["attention_pooling"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def attention_pooling(
    inputs: torch.Tensor, w: torch.Tensor, W: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention pooling of inputs (batch, time, dim): a_i = w^T tanh(W h_i + b), softmax over
    time, c = sum_i p_i h_i."""
    hidden = torch.tanh(inputs @ W.T + b)  # (batch, time, hidden_dim)
    scores = hidden @ w  # (batch, time): one score a_i per frame
    weights = torch.softmax(scores, dim=-1)  # over time: each clip's weights sum to 1
    context = (weights.unsqueeze(-1) * inputs).sum(dim=1)  # (batch, dim)
    return context, weights


# ----- 02.attention_pooling -----


def _pooling_cases(g: torch.Generator) -> list[tuple]:
    sizes = [(2, 6, 4, 3), (1, 5, 3, 4), (3, 1, 4, 2), (2, 7, 5, 5), (4, 3, 2, 6)]
    return [
        (_randn(g, b, t, d), _randn(g, h), _randn(g, h, d), _randn(g, h)) for b, t, d, h in sizes
    ]


def _pool_softmax_over_features(inputs, w, W, b):
    scores = torch.tanh(inputs @ W.T + b) @ w.unsqueeze(-1)  # (batch, time, 1)
    weights = torch.softmax(scores, dim=-1).squeeze(-1)  # softmax over a size-1 axis: all 1
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


def _pool_without_tanh(inputs, w, W, b):
    weights = torch.softmax((inputs @ W.T + b) @ w, dim=-1)
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


def _pool_unnormalised(inputs, w, W, b):
    weights = torch.tanh(inputs @ W.T + b) @ w
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


register(
    "02.attention_pooling",
    attention_pooling,
    _pooling_cases,
    [
        Diagnostic(
            _pool_softmax_over_features,
            "Your weights do not sum to 1 over time: the softmax ran over another axis (the "
            "batch, or a size-1 feature axis, which makes every weight 1). Take the softmax "
            "over the time axis of the (batch, time) scores.",
            symptom=lambda args, got, exp: (
                not _sums_to_one(got[1], -1)
                and (_sums_to_one(got[1], 0) or bool(((got[1] - 1).abs() < 1e-6).all()))
            ),
        ),
        (
            _pool_without_tanh,
            "Your scores miss the tanh: a_i = w^T tanh(W h_i + b).",
        ),
        Diagnostic(
            _pool_unnormalised,
            "Your weights are not normalised: turn the scores a_i into weights with a softmax "
            "over time, so that each clip's weights sum to 1.",
            symptom=lambda args, got, exp: not _sums_to_one(got[1], -1),
        ),
        (
            lambda inputs, w, W, b: (inputs.mean(dim=1), attention_pooling(inputs, w, W, b)[1]),
            "Your context is the plain mean over time; weight each frame by its attention "
            "weight instead: c = sum_i p_i h_i.",
        ),
    ],
    "Score each frame with w^T tanh(W h_i + b), softmax the scores over time, and sum the "
    "frames weighted by those probabilities.",
    outputs=("context", "weights"),
    weights_output=1,
)
