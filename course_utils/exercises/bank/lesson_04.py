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

__all__ = ["causal_padding_mask", "merge_heads", "split_heads"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Split (batch, time, heads * head_dim) into (batch, heads, time, head_dim)."""
    batch, time, dim = x.shape
    head_dim = dim // num_heads
    x = x.reshape(batch, time, num_heads, head_dim)  # (batch, time, heads, head_dim)
    return x.transpose(1, 2)  # (batch, heads, time, head_dim)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """Merge (batch, heads, time, head_dim) into (batch, time, heads * head_dim): the Concat."""
    batch, heads, time, head_dim = x.shape
    x = x.transpose(1, 2)  # (batch, time, heads, head_dim)
    return x.reshape(batch, time, heads * head_dim)  # head h: features h * head_dim onwards


def causal_padding_mask(padding_mask: torch.Tensor) -> torch.Tensor:
    """SDPA's bool mask (batch, 1, time, time), True = may attend: key <= query, not padding."""
    time = padding_mask.shape[1]
    ones = torch.ones(time, time, dtype=torch.bool, device=padding_mask.device)
    causal = ones.tril()  # (queries, keys): True where key <= query
    return causal & ~padding_mask[:, None, None, :]  # keys on the last axis; (B, 1, T, T)


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


# ----- 04.merge_heads -----


def _merge_cases(g: torch.Generator) -> list[tuple]:
    sizes = [(2, 4, 5, 3), (1, 2, 3, 8), (2, 3, 1, 2), (3, 1, 4, 8), (2, 4, 4, 4)]
    return [(_randn(g, b, heads, t, hd),) for b, heads, t, hd in sizes]


register(
    "04.merge_heads",
    merge_heads,
    _merge_cases,
    [
        (
            lambda x: x.reshape(x.shape[0], x.shape[2], -1),
            "The shape is right but frames and heads are scrambled: you reshaped (B, H, T, Dh) "
            "straight to (B, T, E). Move the heads axis next to head_dim first, then merge them.",
        ),
        (
            lambda x: x.permute(0, 2, 3, 1).flatten(2),
            "Features are interleaved across heads: head i's features must stay a block of "
            "head_dim consecutive features, in head order (heads before head_dim).",
        ),
        (
            lambda x: x.sum(dim=1),
            "You added the heads together; the Concat keeps every head's features side by "
            "side, so the feature axis grows to heads * head_dim.",
        ),
    ],
    "Undo split_heads: put time before heads, then merge the (heads, head_dim) axes into one.",
    outputs=("merged",),
)


# ----- 04.causal_padding_mask -----


def _causal_cases(g: torch.Generator) -> list[tuple]:
    sizes = [(2, 5), (1, 4), (3, 6), (2, 1)]
    cases = [(torch.rand(b, t, generator=g) < 0.3,) for b, t in sizes]
    lengths = torch.tensor([6, 3, 1])
    cases.append((torch.arange(6)[None, :] >= lengths[:, None],))  # padding at the end
    cases.append((torch.zeros(2, 4, dtype=torch.bool),))  # no padding: causal only
    return cases


def _causal(padding_mask: torch.Tensor) -> torch.Tensor:
    time = padding_mask.shape[1]
    return torch.ones(time, time, dtype=torch.bool).tril()


register(
    "04.causal_padding_mask",
    causal_padding_mask,
    _causal_cases,
    [
        (
            lambda m: _causal(m) & m[:, None, None, :],
            "Polarity: your mask lets queries attend to the padding and blocks the real frames. "
            "padding_mask is True = padding; SDPA's attn_mask is True = may attend.",
        ),
        (
            lambda m: _causal(m) & ~m[:, None, :, None],
            "You masked padded *queries* (rows); padding must hide *keys* (columns). Put the "
            "time axis of padding_mask last.",
        ),
        (
            lambda m: _causal(m).T & ~m[:, None, None, :],
            "Your causal part lets each query see the future and not the past: keep the lower "
            "triangle (key <= query).",
        ),
        (
            lambda m: _causal(m) & ~m[:, None, :],
            "Add the heads axis: the mask must be (batch, 1, time, time), so that it broadcasts "
            "over the heads of (batch, heads, time, time) scores.",
        ),
    ],
    "True where the key is not padding AND the key is not in the query's future; shape "
    "(batch, 1, time, time), broadcast over heads.",
    outputs=("mask",),
)
