"""Tests for course_utils.attention.chunked: the online softmax equals one softmax, and chunked
attention equals full attention (values and gradients, with and without checkpointing)."""

import pytest
import torch
import torch.nn.functional as F

from course_utils.attention.chunked import (
    OnlineSoftmaxState,
    chunked_attention,
    online_softmax_context,
    online_softmax_step,
)
from course_utils.attention.functional import causal_mask, scaled_dot_product_attention


def _qkv(leading, num_queries, num_keys, dim=8, value_dim=5, device="cpu", requires_grad=False):
    torch.manual_seed(0)
    kwargs = {"dtype": torch.float64, "device": device, "requires_grad": requires_grad}
    return (
        torch.randn(*leading, num_queries, dim, **kwargs),
        torch.randn(*leading, num_keys, dim, **kwargs),
        torch.randn(*leading, num_keys, value_dim, **kwargs),
    )


def _reference(queries, keys, values, causal=False, padding=None):
    """Full attention; causal and padding turned into the functional mask (True = attend)."""
    mask = None
    if causal:
        mask = causal_mask(queries.shape[-2], keys.shape[-2], device=queries.device)
    if padding is not None:
        keep = ~padding[:, None, :] if queries.ndim == 3 else ~padding[:, None, None, :]
        mask = keep if mask is None else mask & keep
    return scaled_dot_product_attention(queries, keys, values, mask)[0]


# The online softmax --------------------------------------------------------------------------


@pytest.mark.parametrize("splits", [[10], [3, 7], [1, 1, 1, 7], [4, 4, 2]])
def test_online_softmax_equals_one_softmax(splits):
    torch.manual_seed(0)
    scores = 5 * torch.randn(2, 4, 10, dtype=torch.float64)  # (..., Q, K)
    values = torch.randn(2, 10, 3, dtype=torch.float64)
    scores[0, 1, :3] = float("-inf")  # a row fully masked in the first block(s)
    scores[1, 2, :] = float("-inf")  # a row fully masked everywhere
    state = None
    for s, v in zip(scores.split(splits, dim=-1), values.split(splits, dim=-2), strict=True):
        state = online_softmax_step(state, s, v)
    assert isinstance(state, OnlineSoftmaxState)
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # the fully masked row -> 0
    torch.testing.assert_close(online_softmax_context(state), weights @ values, rtol=0, atol=1e-12)
    # The normaliser: row_sum * exp(row_max) is the sum of exp(scores) over the whole row.
    normaliser = torch.exp(scores).sum(dim=-1, keepdim=True)
    torch.testing.assert_close(
        state.row_sum * torch.exp(state.row_max), normaliser, rtol=1e-12, atol=0
    )
    assert torch.isfinite(state.row_max).all() and torch.isfinite(state.accumulator).all()


def test_a_fully_masked_row_gives_zeros():
    state = online_softmax_step(None, torch.full((1, 4), float("-inf")), torch.ones(4, 2))
    assert torch.equal(state.row_sum, torch.zeros(1, 1))
    assert torch.equal(online_softmax_context(state), torch.zeros(1, 2))


# Equality with full attention ----------------------------------------------------------------


@pytest.mark.parametrize("num_frames", [1, 5, 37, 100])
@pytest.mark.parametrize("chunks", [(1, 16), (7, 1), (16, 7), (512, 512)], ids=str)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("leading", [(2,), (1, 3)], ids=["3d-batch2", "4d-batch1"])
def test_equals_full_attention(num_frames, chunks, causal, leading):
    q, k, v = _qkv(leading, num_frames, num_frames)
    got = chunked_attention(q, k, v, causal, query_chunk=chunks[0], key_chunk=chunks[1])
    torch.testing.assert_close(got, _reference(q, k, v, causal), rtol=0, atol=1e-10)


@pytest.mark.parametrize("lengths", [(5, 37), (37, 5), (1, 100)], ids=str)
@pytest.mark.parametrize("causal", [False, True])
def test_cross_attention_lengths(device, lengths, causal):
    """Queries and keys of different lengths; causal is aligned at the top left."""
    q, k, v = _qkv((2, 2), *lengths, device=device)
    got = chunked_attention(q, k, v, causal, query_chunk=4, key_chunk=7)
    torch.testing.assert_close(got, _reference(q, k, v, causal), rtol=0, atol=1e-10)


@pytest.mark.parametrize("leading", [(3,), (3, 2)], ids=["3d", "4d"])
@pytest.mark.parametrize("causal", [False, True])
def test_padding_gets_no_weight(device, leading, causal):
    q, k, v = _qkv(leading, 17, 17, device=device)
    lengths = torch.tensor([17, 9, 1], device=device)
    padding = torch.arange(17, device=device)[None, :] >= lengths[:, None]  # (B, K)
    got = chunked_attention(q, k, v, causal, padding, query_chunk=5, key_chunk=4)
    torch.testing.assert_close(got, _reference(q, k, v, causal, padding), rtol=0, atol=1e-10)


@pytest.mark.parametrize("checkpoint", [False, True])
def test_fully_padded_sequence_gives_zeros_and_finite_gradients(checkpoint):
    q, k, v = _qkv((2,), 6, 9, requires_grad=True)
    padding = torch.zeros(2, 9, dtype=torch.bool)
    padding[1] = True
    context = chunked_attention(q, k, v, padding_mask=padding, key_chunk=4, checkpoint=checkpoint)
    assert torch.equal(context[1], torch.zeros_like(context[1]))
    context.sum().backward()
    for tensor in (q, k, v):
        assert torch.isfinite(tensor.grad).all()


# Gradients -----------------------------------------------------------------------------------


@pytest.mark.parametrize("checkpoint", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_gradients_equal_the_reference(checkpoint, causal):
    q, k, v = _qkv((2, 2), 13, 13, requires_grad=True)
    padding = torch.arange(13)[None, :] >= torch.tensor([13, 6])[:, None]
    upstream = torch.randn(2, 2, 13, 5, dtype=torch.float64)
    chunked = chunked_attention(q, k, v, causal, padding, 4, 3, checkpoint=checkpoint)
    got = torch.autograd.grad(chunked, (q, k, v), upstream)
    expected = torch.autograd.grad(_reference(q, k, v, causal, padding), (q, k, v), upstream)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=0, atol=1e-10)


@pytest.mark.parametrize("checkpoint", [False, True])
def test_gradcheck(checkpoint):
    q, k, v = _qkv((1,), 5, 6, dim=3, value_dim=2, requires_grad=True)
    padding = torch.tensor([[False] * 4 + [True] * 2])

    def attend(q, k, v):
        return chunked_attention(q, k, v, True, padding, 2, 2, checkpoint=checkpoint)

    assert torch.autograd.gradcheck(attend, (q, k, v))


# Long sequences ------------------------------------------------------------------------------


def test_long_sequence_equals_the_fused_kernel():
    """T = 20,000: (T, T) float32 scores would take 1.6 GB; chunked holds one 4 MB tile."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, 20_000, 8) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v)  # fused: no (T, T) matrix on the CPU
    torch.testing.assert_close(chunked_attention(q, k, v), expected, rtol=0, atol=1e-5)


# Errors --------------------------------------------------------------------------------------


def test_errors_say_what_was_expected():
    q = torch.randn(2, 6, 4)
    with pytest.raises(ValueError, match=r"query_chunk must be a positive int \(>= 1\)"):
        chunked_attention(q, q, q, query_chunk=0)
    with pytest.raises(TypeError, match="key_chunk must be a positive int"):
        chunked_attention(q, q, q, key_chunk=2.0)
    with pytest.raises(ValueError, match=r"\(batch, frames, dim\) or \(batch, heads"):
        chunked_attention(q[0], q[0], q[0])
    with pytest.raises(ValueError, match="keys and values must have the same length"):
        chunked_attention(q, q, torch.randn(2, 5, 4))
    with pytest.raises(TypeError, match=r"bool tensor \(True = padding\)"):
        chunked_attention(q, q, q, padding_mask=torch.zeros(2, 6, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(batch, keys\) = \(2, 6\)"):
        chunked_attention(q, q, q, padding_mask=torch.zeros(6, dtype=torch.bool))
    with pytest.raises(ValueError, match="same number of keys"):
        online_softmax_step(None, torch.randn(2, 3), torch.randn(4, 2))
