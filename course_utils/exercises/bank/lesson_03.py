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

__all__ = ["luong_general_score", "masked_mean", "padding_mask"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def luong_general_score(queries: torch.Tensor, keys: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Luong's "general" score q^T W k for every query (b, q, d) and key (b, k, d)."""
    return queries @ W @ keys.transpose(-2, -1)  # (batch, queries, keys)


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Bool (batch, max_len), True = padding: frame t of clip b is padding when t >= lengths[b]."""
    frames = torch.arange(max_len, device=lengths.device)  # (max_len,)
    return frames[None, :] >= lengths[:, None]  # (batch, max_len)


def masked_mean(h: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
    """Mean of h (batch, frames, dim) over the valid frames (padding_mask False) -> (batch, dim)."""
    valid = (~padding_mask).unsqueeze(-1).to(h.dtype)  # (batch, frames, 1), 1 = valid
    return (h * valid).sum(dim=1) / valid.sum(dim=1)  # sum of valid frames / their number


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


# ----- 03.padding_mask -----


def _mask_cases(g: torch.Generator) -> list[tuple]:
    return [
        (torch.tensor([4, 1, 6, 0]), 6),  # a clip with no frame, one with no padding
        (torch.randint(1, 20, (5,), generator=g), 20),
        (torch.tensor([3]), 3),  # batch 1, nothing padded
        (torch.tensor([1, 1]), 1),  # a single frame
        (torch.randint(0, 9, (3,), generator=g), 12),  # max_len longer than every clip
    ]


register(
    "03.padding_mask",
    padding_mask,
    _mask_cases,
    [
        (
            lambda lengths, max_len: torch.arange(max_len)[None, :] < lengths[:, None],
            "The polarity is inverted: True must mark PADDING (the frames past each clip's "
            "length), not the valid frames.",
        ),
        (
            lambda lengths, max_len: torch.arange(max_len)[None, :] > lengths[:, None],
            "Off by one: a clip of length n has valid frames 0 .. n - 1, so frame n is "
            "already padding.",
        ),
        (
            lambda lengths, max_len: (torch.arange(max_len)[None, :] >= lengths[:, None]).long(),
            "The positions are right, but return a bool tensor (True/False), not numbers: "
            "masks index and fill tensors only when they are bool.",
        ),
    ],
    "Compare every position 0 .. max_len - 1 with each clip's length, broadcasting a row of "
    "positions against a column of lengths.",
    outputs=("padding_mask",),
)


# ----- 03.masked_mean -----


def _mean_cases(g: torch.Generator) -> list[tuple]:
    cases = []
    for lengths, frames, dim in [([7, 4, 1], 7, 5), ([3], 3, 4), ([2, 9], 9, 1), ([1, 1], 6, 3)]:
        frame = torch.arange(frames)
        cases.append(
            (_randn(g, len(lengths), frames, dim), frame >= torch.tensor(lengths)[:, None])
        )
    return cases


def _valid(padding_mask: torch.Tensor) -> torch.Tensor:
    return (~padding_mask).unsqueeze(-1).float()


register(
    "03.masked_mean",
    masked_mean,
    _mean_cases,
    [
        (
            lambda h, padding_mask: (h * _valid(padding_mask)).mean(dim=1),
            "You zeroed the padding but divided by all frames: divide by the number of VALID "
            "frames of each clip.",
        ),
        (
            lambda h, padding_mask: h.mean(dim=1),
            "The padded frames are still in your average: leave out the frames where "
            "padding_mask is True.",
        ),
        (
            lambda h, padding_mask: (
                (h * (1 - _valid(padding_mask))).sum(1) / (1 - _valid(padding_mask)).sum(1)
            ),
            "You averaged the padded frames: padding_mask is True = padding, so keep the frames "
            "where it is False.",
        ),
    ],
    "Turn the mask into 1 for valid frames and 0 for padding, sum the weighted frames over "
    "time, and divide by how many valid frames each clip has.",
    outputs=("mean",),
)
