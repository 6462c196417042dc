"""Exact attention in chunks: the online softmax, as in FlashAttention, in plain PyTorch.

softmax(Q K^T / sqrt(d)) V seems to need a whole row of scores before the first weight can be
normalised, hence the (Q, K) matrix. The online softmax (Milakov & Gimelshein 2018, "Online
normalizer calculation for softmax") removes that need: walk over the keys a block at a time
and keep, for each query, three running numbers, the largest score seen so far m, the sum of
exp(score - m) and the weighted sum of values with those same weights. When a block brings a
larger maximum m', the old sum and accumulator are rescaled by exp(m - m'); at the end,
accumulator / sum is exactly the softmax-weighted average. Rabe & Staats 2021 ("Self-attention
does not need O(n^2) memory") apply it to attention in chunks of queries and keys, and
FlashAttention (Dao et al. 2022) fuses it into one GPU kernel that keeps each tile in fast
on-chip memory.

`chunked_attention` is that algorithm with Python loops: memory for the scores is one
(query_chunk, key_chunk) tile per batch and head, never (Q, K), and the weights are never
built. It is slower than a fused kernel but shows every step. For training, see `checkpoint`:
autograd would otherwise keep every tile for the backward pass.

Shapes: Q queries, K keys, d features per query and key, Dv per value; "..." the leading
(batch[, heads]) axes.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.utils.checkpoint

from ._checks import check_key_padding, check_positive_int, check_sequence_qkv

__all__ = [
    "OnlineSoftmaxState",
    "chunked_attention",
    "online_softmax_context",
    "online_softmax_step",
]


class OnlineSoftmaxState(NamedTuple):
    """The running numbers of the online softmax, per query row.

    Attributes:
        row_max: (..., Q, 1) largest score seen so far (the most negative finite number
            while every score of the row has been masked).
        row_sum: (..., Q, 1) sum of exp(score - row_max) over the keys seen so far.
        accumulator: (..., Q, Dv) sum of exp(score - row_max) * value over those keys.
    """

    row_max: torch.Tensor
    row_sum: torch.Tensor
    accumulator: torch.Tensor


def online_softmax_step(
    state: OnlineSoftmaxState | None, scores: torch.Tensor, values: torch.Tensor
) -> OnlineSoftmaxState:
    """Fold one block of keys into the running softmax (Milakov & Gimelshein 2018, alg. 3).

    With m the old maximum and m' = max(m, rowmax(scores)), the old sum and accumulator are
    rescaled by exp(m - m'), then exp(scores - m') and exp(scores - m') @ values are added.
    `online_softmax_context` turns the state into the context.

    Args:
        state: the state after the previous blocks, or None to start a fresh row.
        scores: (..., Q, Kb) scores of this block of keys; masked keys as -inf.
        values: (..., Kb, Dv) the values of this block of keys.

    Returns:
        the updated `OnlineSoftmaxState`.

    Example:
        >>> scores, values = torch.randn(2, 6), torch.randn(6, 3)
        >>> state = online_softmax_step(None, scores[:, :4], values[:4])
        >>> state = online_softmax_step(state, scores[:, 4:], values[4:])
        >>> reference = torch.softmax(scores, -1) @ values
        >>> torch.allclose(online_softmax_context(state), reference, atol=1e-6)
        True

    Notebook: 12_long_audio_efficient_attention.
    """
    if scores.shape[-1] != values.shape[-2]:
        raise ValueError(
            f"scores (..., queries, keys) {tuple(scores.shape)} and values (..., keys, "
            f"value_dim) {tuple(values.shape)} must have the same number of keys"
        )
    # The result does not depend on the shift m (it cancels in accumulator / sum), so no
    # gradient flows through it. While a row is all -inf, clamping m to the most negative
    # finite number gives exp(-inf - m) = 0 instead of exp(-inf + inf) = NaN.
    lowest = torch.finfo(scores.dtype).min
    block_max = scores.detach().amax(dim=-1, keepdim=True).clamp_min(lowest)  # (..., Q, 1)
    if state is None:
        row_max = block_max
        row_sum = torch.zeros_like(block_max)  # (..., Q, 1)
        accumulator = scores.new_zeros(*scores.shape[:-1], values.shape[-1])  # (..., Q, Dv)
    else:
        row_max, row_sum, accumulator = state
    new_max = torch.maximum(row_max, block_max)  # (..., Q, 1)
    rescale = torch.exp(row_max - new_max)  # (..., Q, 1), <= 1
    weights = torch.exp(scores - new_max)  # (..., Q, Kb), unnormalised
    return OnlineSoftmaxState(
        row_max=new_max,
        row_sum=row_sum * rescale + weights.sum(dim=-1, keepdim=True),
        accumulator=accumulator * rescale + weights @ values,
    )


def online_softmax_context(state: OnlineSoftmaxState) -> torch.Tensor:
    """The context of an online softmax: accumulator / row_sum, and zeros where nothing was seen.

    A row whose keys were all masked has row_sum = 0 and accumulator = 0: it gets a zero
    context (never NaN) and finite gradients, as in `masked_softmax`.

    Args:
        state: the `OnlineSoftmaxState` after the last block.

    Returns:
        context (..., Q, Dv).

    Example:
        >>> state = online_softmax_step(None, torch.full((1, 3), float("-inf")), torch.ones(3, 2))
        >>> online_softmax_context(state)
        tensor([[0., 0.]])

    Notebook: 12_long_audio_efficient_attention.
    """
    row_sum = state.row_sum
    safe_sum = torch.where(row_sum > 0, row_sum, torch.ones_like(row_sum))  # (..., Q, 1)
    return state.accumulator / safe_sum  # (..., Q, Dv)


def chunked_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    causal: bool = False,
    padding_mask: torch.Tensor | None = None,
    query_chunk: int = 1024,
    key_chunk: int = 1024,
    checkpoint: bool = False,
) -> torch.Tensor:
    """Exact attention, softmax(Q K^T / sqrt(d)) V, one (query_chunk, key_chunk) tile at a time.

    A loop over chunks of queries; for each, a loop over chunks of keys folded in with
    `online_softmax_step` (Rabe & Staats 2021; Dao et al. 2022). The forward pass holds one
    tile of scores per batch and head, never the (Q, K) matrix; the weights are never built,
    which is the point, so only the context is returned.

    Autograd, however, saves what each step needs for the backward pass: every tile of every
    chunk, O(Q * K) memory again although the forward is O(Q + K). `checkpoint=True` wraps each
    query chunk in `torch.utils.checkpoint.checkpoint`, which keeps only the chunk's inputs and
    output and recomputes its tiles during the backward pass: O(Q + K) memory for about one
    more forward pass of compute, the trade FlashAttention's backward pass makes too.

    Args:
        queries: (batch, queries, dim) or (batch, heads, queries, head_dim).
        keys: (batch, keys, dim) or (batch, heads, keys, head_dim); may differ in length
            from the queries (cross-attention).
        values: (batch, keys, value_dim) or (batch, heads, keys, value_dim).
        causal: query i attends to keys 0..i only, aligned at the top left like
            `causal_mask`; key chunks wholly in the future are skipped (default False).
        padding_mask: bool (batch, keys), **True = padding** (ignored); None (default) keeps
            every key. Broadcasts over heads. A query with no allowed key gets zeros.
        query_chunk: queries per chunk, a positive int (default 1024).
        key_chunk: keys per chunk, a positive int (default 1024).
        checkpoint: recompute each query chunk in the backward pass instead of storing its
            tiles (default False).

    Returns:
        context (batch[, heads], queries, value_dim).

    Example:
        >>> q, k, v = torch.randn(1, 2, 50, 8), torch.randn(1, 2, 70, 8), torch.randn(1, 2, 70, 4)
        >>> context = chunked_attention(q, k, v, query_chunk=16, key_chunk=16)
        >>> reference = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        >>> context.shape, torch.allclose(context, reference, atol=1e-5)
        (torch.Size([1, 2, 50, 4]), True)

    Notebook: 12_long_audio_efficient_attention.
    """
    check_sequence_qkv(queries, keys, values)
    check_positive_int(query_chunk, "query_chunk")
    check_positive_int(key_chunk, "key_chunk")
    keep = check_key_padding(padding_mask, keys)  # (B, [1,] K), True = may attend
    chunks = []
    for start in range(0, queries.shape[-2], query_chunk):
        chunk = queries[..., start : start + query_chunk, :]  # (..., Qc, d)
        args = (chunk, keys, values, keep, start, causal, key_chunk)
        if checkpoint:
            context = torch.utils.checkpoint.checkpoint(_query_chunk, *args, use_reentrant=False)
        else:
            context = _query_chunk(*args)
        chunks.append(context)  # (..., Qc, Dv)
    return torch.cat(chunks, dim=-2)  # (..., Q, Dv)


def _query_chunk(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    keep: torch.Tensor | None,
    start: int,
    causal: bool,
    key_chunk: int,
) -> torch.Tensor:
    """Attention of the queries start..start+Qc-1 over all keys, one key chunk at a time."""
    num_queries, num_keys = queries.shape[-2], keys.shape[-2]
    # Causal: the chunk's last query is start + Qc - 1, so later keys are all in the future.
    stop = min(num_keys, start + num_queries) if causal else num_keys
    query_frames = torch.arange(start, start + num_queries, device=queries.device)  # (Qc,)
    scale = 1 / math.sqrt(queries.shape[-1])
    state = None
    for first in range(0, stop, key_chunk):
        last = min(first + key_chunk, num_keys)
        scores = queries @ keys[..., first:last, :].transpose(-2, -1) * scale  # (..., Qc, Kc)
        allowed = None
        if causal:
            key_frames = torch.arange(first, last, device=queries.device)  # (Kc,)
            allowed = key_frames[None, :] <= query_frames[:, None]  # (Qc, Kc)
        if keep is not None:
            padding = keep[..., None, first:last]  # (B, [1,] 1, Kc)
            allowed = padding if allowed is None else allowed & padding
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        state = online_softmax_step(state, scores, values[..., first:last, :])
    return online_softmax_context(state)  # (..., Qc, Dv)
