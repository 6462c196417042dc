"""Sliding-window (local) attention: each frame attends to its neighbours within `window`.

Full self-attention scores every pair of frames: a (T, T) matrix, O(T^2) time and memory.
An hour of audio at 100 frames per second is T = 360,000 frames, and that matrix would hold
1.3e11 numbers. Audio is mostly local, so the Longformer (Beltagy et al. 2020, "Longformer:
The Long-Document Transformer", section 3.1) lets frame i attend only to frames j with
|i - j| <= window: a band of width 2 * window + 1, O(T * window) work.

Computing the band without the (T, T) matrix is a block-sparse trick. Cut the T frames into
blocks of `window` frames. Every key within `window` of a query lies in the query's own block
or in one of its two neighbours, so each block of queries scores a (block, 3 * block) tile of
keys (previous, own and next block; previous and own only when causal). A small band mask
inside the tile keeps exactly |i - j| <= window, and it is the same for every tile, because
only the offset i - j matters. All tiles are computed in one batched matrix product: memory is
3 * T * block scores instead of T * T, and the weights are never built as a (T, T) matrix.

`band_mask` is the O(T^2) reference: the same band as a (T, T) bool mask, for small T, for
the pictures of the lesson and for the tests.

Shapes: B batch, H heads, T frames, d features per query and key, Dv per value, N blocks,
W block length.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._checks import check_key_padding, check_sequence_qkv, check_window
from .functional import masked_softmax

__all__ = ["band_mask", "local_attention"]


def band_mask(
    num_frames: int,
    window: int,
    causal: bool = False,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Let frame i attend to frames j with |i - j| <= window (and j <= i when causal).

    The O(T^2) reference for `local_attention`: pass it as the functional `mask` of
    `scaled_dot_product_attention` to get the same result with the full (T, T) matrix.

    Args:
        num_frames: T, the number of frames (queries and keys).
        window: frames on each side a frame may attend to; 0 means itself only.
        causal: also forbid the future, j > i (default False).
        device: where to create the mask; None (default) is the CPU. Pass `x.device`.

    Returns:
        bool (frames, frames), **True = may attend**; broadcasts over batch and heads.

    Example:
        >>> band_mask(4, 1).int()
        tensor([[1, 1, 0, 0],
                [1, 1, 1, 0],
                [0, 1, 1, 1],
                [0, 0, 1, 1]], dtype=torch.int32)

    Notebook: 12_long_audio_efficient_attention.
    """
    check_window(window)
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
    frames = torch.arange(num_frames, device=device)
    offset = frames[:, None] - frames[None, :]  # (T, T), i - j
    allowed = offset.abs() <= window
    return allowed & (offset >= 0) if causal else allowed


def local_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    window: int,
    causal: bool = False,
    padding_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sliding-window self-attention in O(T * window) memory (Beltagy et al. 2020).

    Equal to `scaled_dot_product_attention(queries, keys, values, band_mask(T, window,
    causal))`, softmax(Q K^T / sqrt(d)) V restricted to |i - j| <= window, but computed block
    by block: the (T, T) scores and weights are never built, which is the point, so only the
    context is returned.

    Args:
        queries: (batch, frames, dim) or (batch, heads, frames, head_dim).
        keys: like `queries`, the same number of frames (self-attention).
        values: (batch, frames, value_dim) or (batch, heads, frames, value_dim).
        window: frames on each side a frame may attend to; 0 means itself only.
        causal: attend to the past and present only, j <= i (default False).
        padding_mask: bool (batch, frames), **True = padding** (ignored as keys); None
            (default) keeps every frame. Broadcasts over heads. A query with no allowed key
            gets a zero context.

    Returns:
        context (batch[, heads], frames, value_dim).

    Example:
        >>> q, k, v = torch.randn(2, 100, 8), torch.randn(2, 100, 8), torch.randn(2, 100, 4)
        >>> local_attention(q, k, v, window=3).shape
        torch.Size([2, 100, 4])

    Notebook: 12_long_audio_efficient_attention.
    """
    check_sequence_qkv(queries, keys, values, same_length=True)
    check_window(window)
    keep = check_key_padding(padding_mask, keys)  # (B, [1,] T), True = may attend
    if keep is None:
        keep = torch.ones(1, keys.shape[-2], dtype=torch.bool, device=keys.device)  # (1, T)
    num_frames = queries.shape[-2]
    block = max(window, 1)
    num_blocks = math.ceil(num_frames / block)
    tail = num_blocks * block - num_frames  # padding frames that complete the last block
    # One block of padding before (block 0's "previous") and, unless causal, one after (the
    # last block's "next"), plus the tail that completes the last block.
    pad = (block, tail + (0 if causal else block))
    q = F.pad(queries, (0, 0, 0, tail)).unflatten(-2, (num_blocks, block))  # (..., N, W, d)
    k = _tiles(F.pad(keys, (0, 0, *pad)), block, num_blocks)  # (..., N, 3W, d), 2W when causal
    v = _tiles(F.pad(values, (0, 0, *pad)), block, num_blocks)  # (..., N, 3W, Dv)
    # Padding frames (outside 0..T-1) are not keys: pad the keep mask with False.
    keep = F.pad(keep, pad, value=False)[..., None]  # (B, [1,] L, 1)
    keep = _tiles(keep, block, num_blocks)[..., 0]  # (B, [1,] N, 3W)
    scores = q @ k.transpose(-2, -1) / math.sqrt(queries.shape[-1])  # (..., N, W, 3W)
    mask = _tile_band(block, window, causal, keys.device) & keep[..., None, :]  # (..., N, W, 3W)
    weights = masked_softmax(scores, mask)  # (..., N, W, 3W), zero rows where all masked
    context = (weights @ v).flatten(-3, -2)  # (..., N * W, Dv)
    return context[..., :num_frames, :]  # (..., T, Dv)


def _tiles(x: torch.Tensor, block: int, count: int) -> torch.Tensor:
    """(..., (N + s) * W, d) padded frames -> (..., N, (s + 1) * W, d) overlapping key tiles.

    With one block of padding before (s = 1 causal, s = 2 otherwise), tile n holds the frames
    of blocks n - 1, n (and n + 1) of the unpadded sequence, side by side; `count` is N.
    """
    blocks = x.unflatten(-2, (-1, block))  # (..., N + s, W, d)
    shifts = range(blocks.shape[-3] - count + 1)  # 0..s
    parts = [blocks[..., s : s + count, :, :] for s in shifts]  # s + 1 of (..., N, W, d)
    return torch.cat(parts, dim=-2)  # (..., N, (s + 1) * W, d)


def _tile_band(block: int, window: int, causal: bool, device: torch.device) -> torch.Tensor:
    """The band inside one (W, tile) tile: query r of a block against column c of its tile.

    Query r sits at frame n * W + r and column c at frame (n - 1) * W + c, so i - j = W + r - c
    whatever the block n: one mask serves every tile.
    """
    width = 2 * block if causal else 3 * block
    rows = torch.arange(block, device=device)[:, None]
    cols = torch.arange(width, device=device)[None, :]
    offset = block + rows - cols  # (W, tile), i - j
    allowed = offset.abs() <= window
    return allowed & (offset >= 0) if causal else allowed
