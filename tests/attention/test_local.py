"""Tests for course_utils.attention.local: sliding-window attention equals full attention under
`band_mask`, in values and gradients, with padding, at lengths no (T, T) matrix would fit."""

import pytest
import torch

from course_utils.attention.functional import scaled_dot_product_attention
from course_utils.attention.local import band_mask, local_attention


def _qkv(shape, value_dim=5, device="cpu", requires_grad=False):
    torch.manual_seed(0)
    kwargs = {"dtype": torch.float64, "device": device, "requires_grad": requires_grad}
    values_shape = (*shape[:-1], value_dim)
    return (
        torch.randn(shape, **kwargs),
        torch.randn(shape, **kwargs),
        torch.randn(values_shape, **kwargs),
    )


def _reference(queries, keys, values, window, causal=False, padding=None):
    """Full attention with the (T, T) band mask, padding turned into the functional mask."""
    mask = band_mask(queries.shape[-2], window, causal, device=queries.device)  # (T, T)
    if padding is not None:
        keep = ~padding[:, None, :]  # (B, 1, T), True = may attend
        mask = mask & (keep if queries.ndim == 3 else keep[:, None])
    return scaled_dot_product_attention(queries, keys, values, mask)[0]


# band_mask -----------------------------------------------------------------------------------


def test_band_mask_by_hand():
    expected = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]).bool()
    assert torch.equal(band_mask(4, 1, causal=True), expected)
    assert torch.equal(band_mask(3, 0), torch.eye(3, dtype=torch.bool))
    assert band_mask(5, 10).all()


# Equality with full attention ----------------------------------------------------------------


@pytest.mark.parametrize("num_frames", [1, 5, 37, 100])
@pytest.mark.parametrize("window", [0, 1, 3, 16, 150])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("leading", [(2,), (1, 3)], ids=["3d-batch2", "4d-batch1"])
def test_equals_full_attention_with_band_mask(num_frames, window, causal, leading):
    q, k, v = _qkv((*leading, num_frames, 8))
    expected = _reference(q, k, v, window, causal)
    torch.testing.assert_close(
        local_attention(q, k, v, window, causal), expected, rtol=0, atol=1e-10
    )


@pytest.mark.parametrize("heads", [None, 2])
@pytest.mark.parametrize("causal", [False, True])
def test_padding_gets_no_weight(device, heads, causal):
    shape = (3, 23, 4) if heads is None else (3, heads, 23, 4)
    q, k, v = _qkv(shape, device=device)
    lengths = torch.tensor([23, 10, 1], device=device)
    padding = torch.arange(23, device=device)[None, :] >= lengths[:, None]  # (B, T)
    got = local_attention(q, k, v, window=4, causal=causal, padding_mask=padding)
    expected = _reference(q, k, v, 4, causal, padding)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)
    # Changing the padded keys and values changes nothing for the queries that can see them.
    k2, v2 = k.clone(), v.clone()
    k2[1, ..., 10:, :], v2[1, ..., 10:, :] = 100.0, 100.0
    again = local_attention(q, k2, v2, window=4, causal=causal, padding_mask=padding)
    torch.testing.assert_close(again, got, rtol=0, atol=1e-10)


def test_fully_padded_sequence_gives_zeros_and_finite_gradients():
    q, k, v = _qkv((2, 9, 4), requires_grad=True)
    padding = torch.zeros(2, 9, dtype=torch.bool)
    padding[1] = True
    context = local_attention(q, k, v, window=2, padding_mask=padding)
    assert torch.equal(context[1], torch.zeros_like(context[1]))
    context.sum().backward()
    for tensor in (q, k, v):
        assert torch.isfinite(tensor.grad).all()


def test_a_query_whose_window_is_all_padding_gets_zeros():
    """window=0 and padding: the padded frames' own queries see no key at all."""
    q, k, v = _qkv((1, 6, 3))
    padding = torch.tensor([[False, False, False, True, True, True]])
    context = local_attention(q, k, v, window=0, padding_mask=padding)
    assert torch.equal(context[0, 3:], torch.zeros(3, 5, dtype=torch.float64))
    torch.testing.assert_close(context[0, :3], v[0, :3], rtol=0, atol=1e-12)  # itself only


# Gradients -----------------------------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
def test_gradients_equal_the_reference(causal):
    q, k, v = _qkv((2, 2, 19, 4), requires_grad=True)
    padding = torch.arange(19)[None, :] >= torch.tensor([19, 12])[:, None]
    upstream = torch.randn(2, 2, 19, 5, dtype=torch.float64)
    got = torch.autograd.grad(local_attention(q, k, v, 3, causal, padding), (q, k, v), upstream)
    expected = torch.autograd.grad(_reference(q, k, v, 3, causal, padding), (q, k, v), upstream)
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=0, atol=1e-10)


@pytest.mark.parametrize("causal", [False, True])
def test_gradcheck(causal):
    q, k, v = _qkv((1, 7, 3), value_dim=2, requires_grad=True)
    padding = torch.tensor([[False] * 5 + [True] * 2])
    assert torch.autograd.gradcheck(
        lambda q, k, v: local_attention(q, k, v, 2, causal, padding), (q, k, v)
    )


# Long sequences: memory O(T * window), never (T, T) ------------------------------------------


def test_runs_at_a_length_where_a_full_matrix_would_not_fit():
    """T = 100,000: a (T, T) float32 matrix would take 40 GB; the band takes ~20 MB."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 100_000, 8) for _ in range(3))
    context = local_attention(q, k, v, window=16)
    assert context.shape == (1, 100_000, 8)
    assert torch.isfinite(context).all()
    # Spot check a stretch in the middle against full attention on the frames it can see.
    start, stop = 50_000, 50_040
    near = slice(start - 16, stop + 16)
    mask = band_mask(stop - start + 32, 16)[16:-16]  # (40, 72), queries against nearby keys
    expected, _ = scaled_dot_product_attention(q[:, start:stop], k[:, near], v[:, near], mask)
    torch.testing.assert_close(context[:, start:stop], expected, rtol=1e-5, atol=1e-5)


# Errors --------------------------------------------------------------------------------------


def test_errors_say_what_was_expected():
    q = torch.randn(2, 6, 4)
    with pytest.raises(ValueError, match="same length"):
        local_attention(q, torch.randn(2, 7, 4), torch.randn(2, 7, 4), window=2)
    with pytest.raises(ValueError, match=r"window must be >= 0"):
        local_attention(q, q, q, window=-1)
    with pytest.raises(TypeError, match="window must be an int"):
        local_attention(q, q, q, window=2.5)
    with pytest.raises(ValueError, match=r"\(batch, frames, dim\) or \(batch, heads"):
        local_attention(q[0], q[0], q[0], window=2)
    with pytest.raises(TypeError, match=r"bool tensor \(True = padding\)"):
        local_attention(q, q, q, window=2, padding_mask=torch.zeros(2, 6))
    with pytest.raises(ValueError, match=r"\(batch, keys\) = \(2, 6\)"):
        local_attention(q, q, q, window=2, padding_mask=torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="num_frames must be a positive int"):
        band_mask(0, 2)
