"""Streaming attention: causal self-attention over audio that arrives a chunk at a time.

A live recogniser or a synthesiser sees frames as they come. With causal attention a frame
never looks ahead, so the output for the frames received so far never changes later: each new
chunk of C frames only needs its own queries against the keys and values of the past and of
the chunk itself. Keeping those past keys and values in a cache (the "KV cache" of every
autoregressive decoder; Transformer-XL, Dai et al. 2019, reuses a previous segment the same
way) avoids recomputing them, and each step costs C * (cached + C) scores instead of T * T.

With a `window` (the sliding window of Longformer, Beltagy et al. 2020, made causal) a query
at time t attends to keys in [t - window, t] only, so the cache needs no more than the last
`window` frames: memory stays constant however long the stream. Fed the same frames, the
stream equals offline causal (or banded causal) attention exactly, whatever the chunk size;
`streaming_attention` runs a whole sequence through it, which is how the tests check that.

Shapes: B batch, H heads, C frames per chunk, P cached frames, T frames in all, d features
per query and key, Dv per value.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import torch

from ._checks import check_positive_int, check_sequence_qkv, check_tensor, check_window
from .functional import scaled_dot_product_attention

__all__ = ["KVCache", "StreamingAttention", "streaming_attention"]


class KVCache:
    """The past keys and values of one stream, optionally capped to the last `window` frames.

    Args:
        window: frames to keep (a query at time t attends to keys in [t - window, t], so the
            next chunk needs exactly the last `window` past frames); None (default) keeps all.

    Attributes:
        keys: (batch[, heads], frames, dim) cached keys, or None before the first `append`.
        values: (batch[, heads], frames, value_dim) cached values, or None.

    Example:
        >>> cache = KVCache(window=4)
        >>> cache.append(torch.randn(1, 3, 8), torch.randn(1, 3, 8))
        >>> cache.append(torch.randn(1, 3, 8), torch.randn(1, 3, 8))
        >>> cache.frames, cache.keys.shape
        (4, torch.Size([1, 4, 8]))

    Notebook: 12_long_audio_efficient_attention.
    """

    def __init__(self, window: int | None = None):
        self.window = None if window is None else check_window(window)
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None

    @property
    def frames(self) -> int:
        """How many past frames are cached."""
        return 0 if self.keys is None else self.keys.shape[-2]

    def append(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Cache a chunk's keys (..., C, d) and values (..., C, Dv); drop frames past the window."""
        check_tensor(keys, "keys", (3, 4), "(batch, frames, dim) or (batch, heads, frames, dim)")
        check_sequence_qkv(keys, keys, values)
        if self.keys is not None:
            self.check_continues(keys, values)
            keys = torch.cat([self.keys, keys], dim=-2)  # (..., P + C, d)
            values = torch.cat([self.values, values], dim=-2)  # (..., P + C, Dv)
        if self.window is not None:
            start = max(keys.shape[-2] - self.window, 0)
            keys, values = keys[..., start:, :], values[..., start:, :]  # (..., <= window, d)
        self.keys, self.values = keys, values

    def check_continues(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        """Raise unless a chunk's keys and values match the cached ones but for their length."""
        if self.keys is None:
            return
        cached = (self.keys.shape[:-2], self.keys.shape[-1], self.values.shape[-1])
        chunk = (keys.shape[:-2], keys.shape[-1], values.shape[-1])
        if cached != chunk or keys.ndim != self.keys.ndim:
            raise ValueError(
                f"the chunk does not continue the cached stream: cached keys "
                f"{tuple(self.keys.shape)} and values {tuple(self.values.shape)}, chunk keys "
                f"{tuple(keys.shape)} and values {tuple(values.shape)} (only the frames axis "
                f"may differ); call reset() to start a new stream"
            )

    def reset(self) -> None:
        """Forget the stream: the next `append` starts a new one."""
        self.keys, self.values = None, None


class StreamingAttention:
    """Causal self-attention fed one chunk of frames at a time, with a `KVCache` of the past.

    Each `step` attends the chunk's queries to the cached past and to the chunk itself, causal
    inside the chunk (and within `window` frames when set), then caches the chunk's keys and
    values. The mask is built for (C, cached + C) only. No parameters: project the frames into
    queries, keys and values before calling it, as `MultiHeadAttention` does.

    Args:
        window: a query at time t attends to keys in [t - window, t]; None (default) attends
            to the whole past.

    Example:
        >>> stream = StreamingAttention(window=8)
        >>> x = torch.randn(1, 5, 4)
        >>> stream.step(x, x, x).shape, stream.cached_frames
        (torch.Size([1, 5, 4]), 5)

    Notebook: 12_long_audio_efficient_attention.
    """

    def __init__(self, window: int | None = None):
        self.window = None if window is None else check_window(window)
        self.cache = KVCache(window)

    @property
    def cached_frames(self) -> int:
        """How many past frames the next step will attend to (at most `window`)."""
        return self.cache.frames

    def reset(self) -> None:
        """Forget the past: the next `step` starts a new stream."""
        self.cache.reset()

    def step(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Attend the next chunk of frames to the past and to itself, then cache it.

        Args:
            queries: (batch, frames, dim) or (batch, heads, frames, head_dim), the chunk's C
                frames.
            keys: like `queries`, the same C frames.
            values: (batch[, heads], frames, value_dim).

        Returns:
            context (batch[, heads], frames, value_dim) of the chunk's frames.
        """
        check_sequence_qkv(queries, keys, values, same_length=True)
        self.cache.check_continues(keys, values)
        past = self.cache.frames
        if past:
            keys_all = torch.cat([self.cache.keys, keys], dim=-2)  # (..., P + C, d)
            values_all = torch.cat([self.cache.values, values], dim=-2)  # (..., P + C, Dv)
        else:
            keys_all, values_all = keys, values
        mask = _step_mask(queries.shape[-2], past, self.window, queries.device)  # (C, P + C)
        context, _ = scaled_dot_product_attention(
            queries, keys_all, values_all, mask, need_weights=False
        )
        self.cache.append(keys, values)
        return context  # (..., C, Dv)


def streaming_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    chunk_size: int,
    window: int | None = None,
) -> torch.Tensor:
    """Run a whole sequence through `StreamingAttention`, `chunk_size` frames per step.

    Equals offline causal attention (banded causal attention, `band_mask(T, window, True)`,
    when `window` is set) for any chunk size; the last chunk may be shorter. Only the context
    is returned: the (T, T) weights are never built.

    Args:
        queries: (batch, frames, dim) or (batch, heads, frames, head_dim).
        keys: like `queries`, the same number of frames (self-attention).
        values: (batch[, heads], frames, value_dim).
        chunk_size: frames per step, a positive int.
        window: a query at time t attends to keys in [t - window, t]; None (default) attends
            to the whole past.

    Returns:
        context (batch[, heads], frames, value_dim).

    Example:
        >>> x = torch.randn(2, 10, 4)
        >>> offline = torch.nn.functional.scaled_dot_product_attention(x, x, x, is_causal=True)
        >>> torch.allclose(streaming_attention(x, x, x, chunk_size=3), offline, atol=1e-6)
        True

    Notebook: 12_long_audio_efficient_attention.
    """
    check_sequence_qkv(queries, keys, values, same_length=True)
    check_positive_int(chunk_size, "chunk_size")
    stream = StreamingAttention(window)
    chunks = []
    for start in range(0, queries.shape[-2], chunk_size):
        q, k, v = (x[..., start : start + chunk_size, :] for x in (queries, keys, values))
        chunks.append(stream.step(q, k, v))  # (..., C, Dv)
    return torch.cat(chunks, dim=-2)  # (..., T, Dv)


def _step_mask(
    num_queries: int, past: int, window: int | None, device: torch.device
) -> torch.Tensor:
    """(C, P + C) bool, True = may attend: query r sits at frame P + r, key j at frame j."""
    query_frames = past + torch.arange(num_queries, device=device)[:, None]  # (C, 1)
    key_frames = torch.arange(past + num_queries, device=device)[None, :]  # (1, P + C)
    allowed = key_frames <= query_frames  # (C, P + C), causal
    if window is not None:
        allowed = allowed & (query_frames - key_frames <= window)
    return allowed
