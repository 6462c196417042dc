"""Tests for course_utils.attention.transformer: multi-head attention against nn.MultiheadAttention,
positional encodings with known values, and the encoder block's masking."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_utils.attention.functional import causal_mask, padding_mask
from course_utils.attention.transformer import (
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoderBlock,
)

FEW = settings(max_examples=25, deadline=None)


def _pair(embed_dim=12, num_heads=3, bias=True):
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True).eval()
    with torch.no_grad():  # torch initialises biases to zero; make them matter
        for name, p in reference.named_parameters():
            if "bias" in name:
                p.normal_()
    return reference, MultiHeadAttention.from_torch(reference)


# MultiHeadAttention against nn.MultiheadAttention -------------------------------------------


@pytest.mark.parametrize("masking", ["none", "padding", "causal", "both"])
@pytest.mark.parametrize("bias", [True, False])
def test_multi_head_attention_equals_torch(masking, bias):
    reference, ours = _pair(bias=bias)
    assert not ours.training
    query, key = torch.randn(2, 5, 12), torch.randn(2, 7, 12)
    value = torch.randn(2, 7, 12)
    # Our padding_mask and torch's key_padding_mask share a polarity (True = padding), but
    # torch's attn_mask means True = NOT allowed: the negation of our causal mask.
    padded = padding_mask(torch.tensor([7, 4]), 7) if masking in ("padding", "both") else None
    causal = masking in ("causal", "both")
    attn_mask = ~causal_mask(5, 7) if causal else None
    kwargs = {"key_padding_mask": padded, "attn_mask": attn_mask}
    expected, averaged = reference(query, key, value, **kwargs)
    _, per_head = reference(query, key, value, average_attn_weights=False, **kwargs)

    def ours_(**flags):
        return ours(query, key, value, padded, causal=causal, **flags)

    context, weights = ours_(need_weights=True)
    torch.testing.assert_close(context, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights, averaged, atol=1e-5, rtol=1e-5)
    context, weights = ours_(need_weights=True, average_weights=False)
    assert weights.shape == (2, 3, 5, 7)
    torch.testing.assert_close(weights, per_head, atol=1e-5, rtol=1e-5)
    context, weights = ours_()  # the fused kernel
    assert weights is None
    torch.testing.assert_close(context, expected, atol=1e-5, rtol=1e-5)


def test_from_torch_copies_not_shares_and_rejects_unsupported():
    reference, ours = _pair()
    with torch.no_grad():
        reference.in_proj_weight.zero_()
    assert ours.q_proj.weight.abs().sum() > 0
    with pytest.raises(ValueError, match="kdim"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, kdim=4, vdim=4))
    with pytest.raises(ValueError, match="add_bias_kv"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, add_bias_kv=True))
    with pytest.raises(TypeError, match="MultiheadAttention"):
        MultiHeadAttention.from_torch(nn.Linear(8, 8))


def test_embed_dim_must_divide_into_heads():
    with pytest.raises(ValueError, match=r"num_heads \(3\) must divide embed_dim \(10\)"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        MultiHeadAttention(8, 2, dropout=1.0)


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((2, 5, 8), (2, 7, 6), (2, 7, 8)), r"key must have shape \(batch, time, 8\)"),
        (((2, 5, 8), (3, 7, 8), (3, 7, 8)), "batch size"),
        (((2, 5, 8), (2, 7, 8), (2, 6, 8)), "same length"),
    ],
)
def test_multi_head_attention_rejects_mismatched_inputs(shapes, match):
    q, k, v = (torch.randn(s) for s in shapes)
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(8, 2)(q, k, v)


@pytest.mark.parametrize("batch", [1, 3])
def test_multi_head_attention_shapes_masks_backward_eval(batch, device):
    torch.manual_seed(0)
    attention = MultiHeadAttention(16, 4, dropout=0.5).to(device)
    x = torch.randn(batch, 9, 16, device=device, requires_grad=True)
    padded = padding_mask(torch.tensor([9, 5, 2][:batch], device=device), 9)
    context, weights = attention(x, x, x, padded, need_weights=True, average_weights=False)
    assert context.shape == (batch, 9, 16) and weights.shape == (batch, 4, 9, 9)
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, 4, 9, device=device))
    assert (weights.masked_select(padded[:, None, None, :]) == 0).all()
    context.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in attention.parameters())
    attention.eval()
    with torch.no_grad():
        first = attention(x, x, x, padded)[0]
        torch.testing.assert_close(attention(x, x, x, padded)[0], first, rtol=0, atol=0)
        fused_vs_explicit = attention(x, x, x, padded, need_weights=True)[0]
        torch.testing.assert_close(fused_vs_explicit, first, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multi_head_attention_gradcheck(need_weights):
    torch.manual_seed(0)
    attention = MultiHeadAttention(4, 2).double()
    x = torch.randn(1, 3, 4, dtype=torch.float64, requires_grad=True)
    padded = torch.tensor([[False, False, True]])

    def attend(x):
        return attention(x, x, x, padded, causal=True, need_weights=need_weights)[0]

    assert torch.autograd.gradcheck(attend, (x,))


def test_multi_head_attention_fully_masked_rows_are_zero_not_nan():
    attention = MultiHeadAttention(8, 2).eval()
    x = torch.randn(2, 4, 8, requires_grad=True)
    padded = torch.tensor([[True] * 4, [False, False, True, True]])
    for need_weights in (True, False):
        context, _ = attention(x, x, x, padded, need_weights=need_weights)
        assert torch.isfinite(context).all()
        # The zero context of padded-everywhere rows is then only out_proj's bias.
        torch.testing.assert_close(context[0], attention.out_proj.bias.expand(4, 8))
        x.grad = None
        context.sum().backward()
        assert torch.isfinite(x.grad).all()


@FEW
@given(time=st.integers(1, 10), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_self_attention_is_permutation_equivariant(time, batch, seed):
    torch.manual_seed(seed)
    attention = MultiHeadAttention(8, 2).double().eval()
    block = TransformerEncoderBlock(8, 2, 16).double().eval()
    x = torch.randn(batch, time, 8, dtype=torch.float64)
    padded = torch.rand(batch, time) < 0.3
    order = torch.randperm(time)
    context, weights = attention(x, x, x, padded, need_weights=True)
    shuffled, shuffled_weights = attention(
        x[:, order], x[:, order], x[:, order], padded[:, order], need_weights=True
    )
    torch.testing.assert_close(shuffled, context[:, order])
    torch.testing.assert_close(shuffled_weights, weights[:, order][:, :, order])
    torch.testing.assert_close(
        block(x[:, order], padded[:, order])[0], block(x, padded)[0][:, order]
    )


# Positional encodings -----------------------------------------------------------------------


def test_sinusoidal_values_at_known_positions():
    dim = 16
    encoding = SinusoidalPositionalEncoding(dim, max_len=200)
    table = encoding(torch.zeros(1, 200, dim))[0]
    for pos in (0, 1, 7, 199):
        for i in (0, 3, 7):
            angle = pos / 10000 ** (2 * i / dim)
            assert math.isclose(table[pos, 2 * i], math.sin(angle), abs_tol=1e-6)
            assert math.isclose(table[pos, 2 * i + 1], math.cos(angle), abs_tol=1e-6)
    assert "table" not in encoding.state_dict()


def test_sinusoidal_follows_input_dtype_and_device_and_errors(device):
    encoding = SinusoidalPositionalEncoding(8, max_len=10)
    x = torch.ones(2, 10, 8, dtype=torch.float64, device=device)
    y = encoding(x)
    assert y.dtype == torch.float64 and y.device.type == device
    torch.testing.assert_close(y - x, y[:1].expand(2, -1, -1) - x)
    with pytest.raises(ValueError, match="max_len=10"):
        encoding(torch.zeros(1, 11, 8))
    with pytest.raises(ValueError, match="even"):
        SinusoidalPositionalEncoding(7)


def test_learned_encoding_adds_trainable_positions_and_errors_past_max_len(device):
    encoding = LearnedPositionalEncoding(6, max_len=20).to(device)
    x = torch.zeros(3, 12, 6, device=device)
    y = encoding(x)
    assert y.shape == (3, 12, 6)
    torch.testing.assert_close(y[1], encoding.positions[:12])
    y.sum().backward()
    assert encoding.positions.grad[:12].eq(3).all() and encoding.positions.grad[12:].eq(0).all()
    with pytest.raises(ValueError, match="max_len=20"):
        encoding(torch.zeros(1, 21, 6, device=device))
    with pytest.raises(ValueError, match=r"\(batch, time, 6\)"):
        encoding(torch.zeros(1, 5, 4, device=device))


# TransformerEncoderBlock --------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("batch", [1, 2])
def test_encoder_block_shapes_backward_and_eval(norm_first, batch, device):
    torch.manual_seed(0)
    block = TransformerEncoderBlock(16, 4, 32, dropout=0.2, norm_first=norm_first).to(device)
    x = torch.randn(batch, 7, 16, device=device, requires_grad=True)
    padded = padding_mask(torch.tensor([7, 3][:batch], device=device), 7)
    y, weights = block(x, padded, need_weights=True)
    assert y.shape == (batch, 7, 16) and weights.shape == (batch, 4, 7, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, 4, 7, device=device))
    assert (weights.masked_select(padded[:, None, None, :]) == 0).all()
    assert block(x)[1] is None
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in block.parameters())
    block.eval()
    with torch.no_grad():
        torch.testing.assert_close(block(x, padded)[0], block(x, padded)[0], rtol=0, atol=0)


@pytest.mark.parametrize("norm_first", [True, False])
def test_encoder_block_ignores_padded_frames_content(norm_first):
    torch.manual_seed(0)
    block = TransformerEncoderBlock(8, 2, 16, norm_first=norm_first).eval()
    x = torch.randn(2, 6, 8)
    padded = padding_mask(torch.tensor([6, 4]), 6)
    noisy = x.clone()
    noisy[1, 4:] = 100 * torch.randn(2, 8)
    y, _ = block(x, padded)
    y_noisy, _ = block(noisy, padded)
    valid = ~padded
    torch.testing.assert_close(y_noisy[valid], y[valid])
    assert not torch.allclose(y_noisy[1, 4:], y[1, 4:])  # the test can see a change
