"""Tests for course_utils.attention.streaming: chunk-by-chunk attention with a KV cache equals
offline causal (and banded causal) attention, and the cache stays within its window."""

import pytest
import torch

from course_utils.attention.functional import causal_mask, scaled_dot_product_attention
from course_utils.attention.local import band_mask
from course_utils.attention.streaming import KVCache, StreamingAttention, streaming_attention


def _qkv(shape, dtype=torch.float64, device="cpu"):
    torch.manual_seed(0)
    values_shape = (*shape[:-1], 5)
    kwargs = {"dtype": dtype, "device": device}
    return (
        torch.randn(shape, **kwargs),
        torch.randn(shape, **kwargs),
        torch.randn(values_shape, **kwargs),
    )


def _offline(queries, keys, values, window=None):
    """Causal attention over the whole sequence at once, in float64."""
    num_frames = queries.shape[-2]
    mask = causal_mask(num_frames) if window is None else band_mask(num_frames, window, True)
    q, k, v = (x.double() for x in (queries, keys, values))
    return scaled_dot_product_attention(q, k, v, mask.to(queries.device))[0]


# Equality with offline attention -------------------------------------------------------------


@pytest.mark.parametrize("num_frames", [1, 5, 37])
@pytest.mark.parametrize("chunk_size", [1, 3, 37])
@pytest.mark.parametrize("window", [None, 0, 4, 50])
@pytest.mark.parametrize(
    ("dtype", "atol"), [(torch.float64, 1e-10), (torch.float32, 1e-6)], ids=["f64", "f32"]
)
def test_equals_offline_causal_attention(num_frames, chunk_size, window, dtype, atol):
    q, k, v = _qkv((2, num_frames, 8), dtype)
    got = streaming_attention(q, k, v, chunk_size, window)
    assert got.dtype == dtype and got.shape == (2, num_frames, 5)
    torch.testing.assert_close(got.double(), _offline(q, k, v, window), rtol=0, atol=atol)


@pytest.mark.parametrize("window", [None, 3])
def test_equals_offline_with_heads(device, window):
    q, k, v = _qkv((1, 3, 23, 4), device=device)
    got = streaming_attention(q, k, v, chunk_size=5, window=window)  # 23 = 4 * 5 + 3
    torch.testing.assert_close(got, _offline(q, k, v, window), rtol=0, atol=1e-10)


def test_chunks_of_varying_sizes_and_gradients():
    """Any split of the stream gives the same result, and gradients flow through the cache."""
    q, k, v = _qkv((2, 12, 4))
    for x in (q, k, v):
        x.requires_grad_(True)
    stream = StreamingAttention(window=3)
    pieces = [stream.step(q[:, a:b], k[:, a:b], v[:, a:b]) for a, b in [(0, 1), (1, 6), (6, 12)]]
    got = torch.cat(pieces, dim=1)
    expected = _offline(q, k, v, 3)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)
    upstream = torch.randn_like(got)
    grads = torch.autograd.grad(got, (q, k, v), upstream)
    references = torch.autograd.grad(expected, (q, k, v), upstream)
    for g, e in zip(grads, references, strict=True):
        torch.testing.assert_close(g, e, rtol=0, atol=1e-10)


# The cache -----------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [0, 2, 5])
def test_cache_never_holds_more_than_the_window(window):
    q, k, v = _qkv((1, 20, 4))
    stream = StreamingAttention(window=window)
    for start in range(0, 20, 3):
        stream.step(q[:, start : start + 3], k[:, start : start + 3], v[:, start : start + 3])
        assert stream.cached_frames == min(window, start + 3)
        assert stream.cache.keys.shape[-2] <= window and stream.cache.values.shape[-2] <= window
    # The cache holds the most recent frames.
    if window:
        torch.testing.assert_close(stream.cache.keys, k[:, -window:], rtol=0, atol=0)


def test_unwindowed_cache_keeps_everything_and_reset_starts_a_fresh_stream():
    q, k, v = _qkv((1, 10, 4))
    stream = StreamingAttention()
    first = stream.step(q[:, :6], k[:, :6], v[:, :6])
    stream.step(q[:, 6:], k[:, 6:], v[:, 6:])
    assert stream.cached_frames == 10
    stream.reset()
    assert stream.cached_frames == 0 and stream.cache.keys is None
    torch.testing.assert_close(stream.step(q[:, :6], k[:, :6], v[:, :6]), first, rtol=0, atol=0)


def test_kv_cache_append_and_reset():
    cache = KVCache(window=4)
    assert cache.frames == 0
    keys, values = torch.arange(6.0).reshape(1, 6, 1), torch.zeros(1, 6, 2)
    cache.append(keys[:, :3], values[:, :3])
    assert cache.frames == 3
    cache.append(keys[:, 3:], values[:, 3:])
    assert cache.frames == 4 and cache.keys.flatten().tolist() == [2.0, 3.0, 4.0, 5.0]
    cache.reset()
    assert cache.frames == 0 and cache.values is None


# Errors --------------------------------------------------------------------------------------


def test_errors_say_what_was_expected():
    x = torch.randn(2, 6, 4)
    with pytest.raises(ValueError, match="same length"):
        streaming_attention(x, torch.randn(2, 7, 4), torch.randn(2, 7, 4), chunk_size=2)
    with pytest.raises(ValueError, match=r"chunk_size must be a positive int \(>= 1\)"):
        streaming_attention(x, x, x, chunk_size=0)
    with pytest.raises(ValueError, match="window must be >= 0"):
        StreamingAttention(window=-1)
    with pytest.raises(TypeError, match="window must be an int"):
        KVCache(window=1.5)
    with pytest.raises(ValueError, match=r"\(batch, frames, dim\) or \(batch, heads"):
        streaming_attention(x[0], x[0], x[0], chunk_size=2)
    stream = StreamingAttention()
    stream.step(x, x, x)
    with pytest.raises(ValueError, match=r"does not continue the cached stream.*reset\(\)"):
        stream.step(x[:1], x[:1], x[:1])  # another batch size
    with pytest.raises(ValueError, match="same length"):
        stream.step(x, x[:, :3], x[:, :3])
