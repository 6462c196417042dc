"""Lesson 03's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (it does not import
``course_utils.attention``: its source is what ``solution()`` shows, so it must stand alone),
a function making seeded test inputs with the edge cases that expose common bugs, and the
known mistakes with the hint each earns. Importing this module registers them.

Notebook: 03_dot_product_attention.
"""

from __future__ import annotations

import torch

from ..checker import register
from ._cases import _randn

__all__ = ["luong_general_score"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def luong_general_score(queries: torch.Tensor, keys: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Luong's "general" score q^T W k for every query (b, q, d) and key (b, k, d)."""
    return queries @ W @ keys.transpose(-2, -1)  # (batch, queries, keys)


# ----- 03.luong_general_score -----


def _luong_cases(g: torch.Generator) -> list[tuple]:
    sizes = [(2, 3, 4, 5), (1, 2, 6, 3), (3, 4, 1, 4), (2, 5, 3, 2)]
    return [(_randn(g, b, q, d), _randn(g, b, k, d), _randn(g, d, d)) for b, q, k, d in sizes]


register(
    "03.luong_general_score",
    luong_general_score,
    _luong_cases,
    [
        (
            lambda queries, keys, W: queries @ W.T @ keys.transpose(-2, -1),
            "Your scores use W transposed (q^T W^T k): W is applied on the wrong side. The "
            "general score is q^T W k: W maps each key into the query space.",
        ),
        (
            lambda queries, keys, W: queries @ keys.transpose(-2, -1),
            "Your scores ignore W: that is Luong's 'dot' score. The 'general' score puts the "
            "learned matrix between them: q^T W k.",
        ),
    ],
    "For every query-key pair, score = q^T W k; batched, that is queries times W times the "
    "transposed keys, giving (batch, queries, keys).",
    outputs=("scores",),
)
