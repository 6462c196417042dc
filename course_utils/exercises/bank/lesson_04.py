"""Lesson 04's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (it does not import
``course_utils.attention``: its source is what ``solution()`` shows, so it must stand alone),
a function making seeded test inputs with the edge cases that expose common bugs, and the
known mistakes with the hint each earns. Importing this module registers them.

Notebook: 04_multi_head_self_attention.
"""

from __future__ import annotations

import torch

from ..checker import register
from ._cases import _randn

__all__ = ["split_heads"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Split (batch, time, heads * head_dim) into (batch, heads, time, head_dim)."""
    batch, time, dim = x.shape
    head_dim = dim // num_heads
    x = x.reshape(batch, time, num_heads, head_dim)  # (batch, time, heads, head_dim)
    return x.transpose(1, 2)  # (batch, heads, time, head_dim)


# ----- 04.split_heads -----


def _split_cases(g: torch.Generator) -> list[tuple]:
    sizes = [(2, 5, 4, 3), (1, 3, 2, 8), (2, 1, 3, 2), (3, 4, 1, 8), (2, 6, 8, 2)]
    return [(_randn(g, b, t, h * hd), h) for b, t, h, hd in sizes]


def _split_without_transpose(x, num_heads):
    batch, time, dim = x.shape
    return x.reshape(batch, time, num_heads, dim // num_heads)


def _split_by_raw_view(x, num_heads):
    batch, time, dim = x.shape
    return x.reshape(batch, num_heads, time, dim // num_heads)


def _split_swapped_sizes(x, num_heads):
    batch, time, dim = x.shape
    return x.reshape(batch, time, dim // num_heads, num_heads).transpose(1, 2)


register(
    "04.split_heads",
    split_heads,
    _split_cases,
    [
        (
            _split_without_transpose,
            "You reshaped to (batch, time, heads, head_dim) but stopped there; the heads "
            "axis must come before time: (batch, heads, time, head_dim).",
        ),
        (
            _split_by_raw_view,
            "The shape is right but time and heads are scrambled: reshaping straight to "
            "(batch, heads, time, head_dim) mixes frames into heads. Split the last axis into "
            "(heads, head_dim) first, then swap the time and heads axes.",
        ),
        (
            _split_swapped_sizes,
            "Your head_dim is wrong: you split the last axis into (head_dim, heads) instead of "
            "(heads, head_dim). Each head gets a block of dim / num_heads consecutive "
            "features.",
        ),
    ],
    "Split the feature axis into (num_heads, head_dim), each head a block of dim / num_heads "
    "consecutive features, then move the heads axis in front of time.",
    outputs=("heads",),
)
