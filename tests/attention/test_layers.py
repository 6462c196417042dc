"""Tests for course_utils.attention: masks, masked softmax, SDPA against PyTorch, the modules."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.attention import (
    SCORES,
    AdditiveAttention,
    AttentionPooling,
    DotProductAttention,
    LocationSensitiveAttention,
    causal_mask,
    dot_score,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    scaled_dot_score,
)

FEW = settings(max_examples=25, deadline=None)


def _qkv(batch=2, queries=3, keys=5, dim=4, value_dim=6, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, queries, dim, generator=g, dtype=dtype),
        torch.randn(batch, keys, dim, generator=g, dtype=dtype),
        torch.randn(batch, keys, value_dim, generator=g, dtype=dtype),
    )


# Masks ------------------------------------------------------------------------------------


def test_padding_mask_marks_frames_past_each_length():
    mask = padding_mask(torch.tensor([2, 4, 0]), max_len=5)
    expected = torch.tensor([[0, 0, 1, 1, 1], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]], dtype=torch.bool)
    assert mask.dtype == torch.bool and torch.equal(mask, expected)


@pytest.mark.parametrize(
    "lengths, max_len, error",
    [
        (torch.tensor([3, 5]), 4, ValueError),
        (torch.tensor([-1, 2]), None, ValueError),
        (torch.tensor([1.0, 2.0]), None, TypeError),
        (torch.tensor([[1, 2]]), None, ValueError),
    ],
)
def test_padding_mask_rejects_bad_lengths(lengths, max_len, error):
    with pytest.raises(error):
        padding_mask(lengths, max_len)


def test_padding_mask_without_validation_reads_no_lengths_back():
    """validate=False (inside a forward) gives the same mask for good lengths, no checks."""
    lengths = torch.tensor([2, 4, 0])
    assert torch.equal(padding_mask(lengths, 5, validate=False), padding_mask(lengths, 5))
    assert not padding_mask(torch.tensor([6]), 5, validate=False).any()  # too long: unchecked
    with pytest.raises(TypeError):
        padding_mask(torch.tensor([1.0]), 5, validate=False)  # dtypes are free to check


def test_causal_mask_is_lower_triangle_aligned_like_torch():
    mask = causal_mask(3, 4)
    assert torch.equal(mask, torch.ones(3, 4, dtype=torch.bool).tril())
    q, k, v = _qkv(queries=3, keys=4)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, mask)[0], expected)


# masked_softmax ---------------------------------------------------------------------------


@st.composite
def _scores_and_mask(draw):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 7)))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    scores = 10 * torch.randn(shape, generator=g, dtype=torch.float64)
    mask = torch.rand(shape, generator=g) < draw(st.floats(0.0, 1.0))
    return scores, mask


@FEW
@given(_scores_and_mask())
def test_masked_softmax_rows_sum_to_one_and_masked_keys_get_zero(scores_and_mask):
    scores, mask = scores_and_mask
    weights = masked_softmax(scores, mask)
    assert torch.isfinite(weights).all()
    assert (weights[~mask] == 0).all()
    has_key = mask.any(-1)
    sums = weights.sum(-1)
    torch.testing.assert_close(sums[has_key], torch.ones_like(sums[has_key]))
    assert (sums[~has_key] == 0).all()


def test_masked_softmax_without_mask_is_softmax_and_other_dims_work():
    scores = torch.randn(2, 3, 4)
    torch.testing.assert_close(masked_softmax(scores), scores.softmax(-1))
    mask = torch.rand(2, 3, 4) > 0.3
    mask[:, 0] = True
    weights = masked_softmax(scores, mask, dim=1)
    torch.testing.assert_close(weights.sum(1), torch.ones(2, 4))


@pytest.mark.parametrize(
    "mask, error",
    [
        (torch.ones(2, 3, 4), TypeError),  # float, not bool
        (torch.ones(3, 3, 4, dtype=torch.bool), ValueError),  # batch 3 vs 2
        (torch.ones(2, 3, 5, dtype=torch.bool), ValueError),  # 5 keys vs 4
        (torch.ones(1, 2, 3, 4, dtype=torch.bool), ValueError),  # would grow the scores
    ],
)
def test_masked_softmax_rejects_bad_masks(mask, error):
    with pytest.raises(error, match="mask"):
        masked_softmax(torch.randn(2, 3, 4), mask)


def test_fully_masked_rows_are_zero_with_finite_gradients():
    q, k, v = (t.requires_grad_() for t in _qkv())
    mask = torch.ones(2, 3, 5, dtype=torch.bool)
    mask[0, 1] = False
    for need_weights in (True, False):
        context, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=need_weights)
        assert torch.isfinite(context).all() and (context[0, 1] == 0).all()
        if need_weights:
            assert (weights[0, 1] == 0).all()
        context.square().sum().backward()
        for t in (q, k, v):
            assert torch.isfinite(t.grad).all()
        assert (q.grad[0, 1] == 0).all()


# Scores and scaled_dot_product_attention --------------------------------------------------


def test_scores_are_dot_products_and_scaled_by_sqrt_dim():
    q, k, _ = _qkv(dim=9)
    expected = torch.einsum("bqd,bkd->bqk", q, k)
    torch.testing.assert_close(dot_score(q, k), expected)
    torch.testing.assert_close(scaled_dot_score(q, k), expected / 3)
    with pytest.raises(ValueError, match="same feature size"):
        dot_score(q, torch.randn(2, 5, 8, dtype=torch.float64))


def _masks(batch, queries, keys):
    lengths = torch.tensor([keys, max(1, keys - 2)][:batch])
    return {
        "none": None,
        "padding": ~padding_mask(lengths, keys)[:, None, :],  # (B, 1, K)
        "causal": causal_mask(queries, keys),  # (Q, K)
    }


@pytest.mark.parametrize("mask_kind", ["none", "padding", "causal"])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("heads", [None, 3])
def test_sdpa_equals_torch_in_float64(mask_kind, need_weights, heads):
    q, k, v = _qkv(batch=2, queries=5, keys=5, dim=8)
    if heads is not None:  # (batch, heads, time, head_dim)
        offsets = 0.1 * torch.arange(heads)[:, None, None]  # different content per head
        q, k, v = (t[:, None].expand(-1, heads, -1, -1) + offsets for t in (q, k, v))
    mask = _masks(2, 5, 5)[mask_kind]
    if mask is not None and heads is not None and mask.ndim == 3:
        mask = mask[:, None]  # (B, 1, 1, K)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    context, weights = scaled_dot_product_attention(q, k, v, mask, need_weights=need_weights)
    torch.testing.assert_close(context, expected, atol=1e-10, rtol=0)
    assert (weights is None) != need_weights
    if need_weights:
        torch.testing.assert_close(weights @ v, expected, atol=1e-10, rtol=0)


def test_sdpa_gradcheck_with_mask():
    q, k, v = (t.requires_grad_() for t in _qkv(batch=1, queries=3, keys=4, dim=3, value_dim=2))
    mask = torch.tensor([[True, True, False, False], [True, True, True, False], [True] * 4])

    def attend(q, k, v):
        return scaled_dot_product_attention(q, k, v, mask)[0]

    assert torch.autograd.gradcheck(attend, (q, k, v))


def test_sdpa_dropout_only_in_training():
    q, k, v = _qkv()
    eval_1 = scaled_dot_product_attention(q, k, v, dropout=0.5, training=False)
    eval_2 = scaled_dot_product_attention(q, k, v, dropout=0.5, training=False)
    torch.testing.assert_close(eval_1[0], eval_2[0])
    torch.manual_seed(0)
    trained, weights = scaled_dot_product_attention(q, k, v, dropout=0.5)
    assert not torch.allclose(trained, eval_1[0])
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, dtype=torch.float64))


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((2, 3, 4), (2, 5, 3), (2, 5, 6)), "same feature size"),
        (((2, 3, 4), (2, 5, 4), (2, 6, 6)), "same length"),
        (((2, 3, 4), (1, 5, 4), (1, 5, 6)), "batch"),
        (((3, 4), (2, 5, 4), (2, 5, 6)), "like queries"),
    ],
)
def test_sdpa_rejects_mismatched_shapes(shapes, match):
    q, k, v = (torch.randn(s) for s in shapes)
    with pytest.raises(ValueError, match=match):
        scaled_dot_product_attention(q, k, v)


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5])
def test_dropout_outside_unit_interval_is_rejected(dropout):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        scaled_dot_product_attention(*_qkv(), dropout=dropout)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        AdditiveAttention(4, 4, 8, dropout=dropout)


# Modules ----------------------------------------------------------------------------------


def _modules(dim=8):
    return {
        "additive": AdditiveAttention(query_dim=dim, key_dim=dim, hidden_dim=12, dropout=0.3),
        **{score: DotProductAttention(score, query_dim=dim, dropout=0.3) for score in SCORES},
    }


@pytest.mark.parametrize("name", ["additive", *SCORES])
@pytest.mark.parametrize("batch", [1, 3])
def test_module_shapes_masks_backward_and_eval_determinism(name, batch, device):
    torch.manual_seed(0)
    module = _modules()[name].to(device)
    queries = torch.randn(batch, 4, 8, device=device)
    keys = torch.randn(batch, 6, 8, device=device, requires_grad=True)
    values = torch.randn(batch, 6, 5, device=device)
    padded = padding_mask(torch.tensor([6, 3, 2][:batch], device=device), 6)
    context, weights = module(queries, keys, values, padded)
    assert context.shape == (batch, 4, 5) and weights.shape == (batch, 4, 6)
    assert context.device.type == weights.device.type == device
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, 4, device=device))
    assert (weights.masked_select(padded[:, None, :]) == 0).all()
    context.sum().backward()
    assert keys.grad is not None and torch.isfinite(keys.grad).all()
    assert all(p.grad is not None for p in module.parameters())
    module.eval()
    first, second = module(queries, keys, values, padded), module(queries, keys, values, padded)
    torch.testing.assert_close(first[0], second[0], rtol=0, atol=0)


def test_additive_attention_scores_follow_bahdanau():
    torch.manual_seed(0)
    module = AdditiveAttention(query_dim=3, key_dim=5, hidden_dim=7)
    q, k, v = torch.randn(1, 2, 3), torch.randn(1, 4, 5), torch.randn(1, 4, 2)
    _, weights = module(q, k, v)
    scores = torch.empty(2, 4)
    for i in range(2):
        for j in range(4):
            projected = module.query_proj.weight @ q[0, i] + module.key_proj.weight @ k[0, j]
            hidden = torch.tanh(projected)
            scores[i, j] = module.v.weight[0] @ hidden
    torch.testing.assert_close(weights[0], scores.softmax(-1))


def test_luong_general_and_concat_scores():
    torch.manual_seed(0)
    q, k, v = torch.randn(1, 2, 3), torch.randn(1, 4, 5), torch.randn(1, 4, 2)
    general = DotProductAttention("general", query_dim=3, key_dim=5)
    _, weights = general(q, k, v)
    torch.testing.assert_close(weights[0], (q[0] @ general.weight.weight @ k[0].T).softmax(-1))
    concat = DotProductAttention("concat", query_dim=3, key_dim=5)
    _, weights = concat(q, k, v)
    pairs = torch.cat([q[0, :, None].expand(-1, 4, -1), k[0, None].expand(2, -1, -1)], -1)
    scores = concat.v(torch.tanh(concat.weight(pairs))).squeeze(-1)
    torch.testing.assert_close(weights[0], scores.softmax(-1))


def test_additive_attention_gradcheck():
    torch.manual_seed(0)
    module = AdditiveAttention(query_dim=3, key_dim=2, hidden_dim=4).double()
    shapes = ((1, 2, 3), (1, 3, 2), (1, 3, 2))
    q, k, v = (torch.randn(s, dtype=torch.float64, requires_grad=True) for s in shapes)
    mask = torch.tensor([[False, False, True]])
    assert torch.autograd.gradcheck(lambda q, k, v: module(q, k, v, mask)[0], (q, k, v))


def test_module_errors_are_specific():
    with pytest.raises(ValueError, match="dot, scaled_dot, general, concat"):
        DotProductAttention("cosine")
    with pytest.raises(ValueError, match="query_dim"):
        DotProductAttention("general")
    module = AdditiveAttention(query_dim=4, key_dim=6, hidden_dim=8)
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 6), torch.randn(2, 5, 6)
    with pytest.raises(ValueError, match="key_dim=6"):
        module(q, torch.randn(2, 5, 4), v)
    with pytest.raises(ValueError, match="batch"):
        module(q[:1], k, v)
    with pytest.raises(ValueError, match=r"\(batch, keys\) = \(2, 5\)"):
        module(q, k, v, torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="True = padding"):
        module(q, k, v, torch.zeros(2, 5))


# AttentionPooling -------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 4])
def test_attention_pooling_shapes_masks_and_backward(batch, device):
    torch.manual_seed(0)
    pooling = AttentionPooling(input_dim=6, hidden_dim=10).to(device)
    inputs = torch.randn(batch, 9, 6, device=device, requires_grad=True)
    padded = padding_mask(torch.tensor([9, 4, 1, 7][:batch], device=device), 9)
    context, weights = pooling(inputs, padded)
    assert context.shape == (batch, 6) and weights.shape == (batch, 9)
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, device=device))
    assert (weights[padded] == 0).all()
    torch.testing.assert_close(context, torch.einsum("bt,btd->bd", weights, inputs))
    context.sum().backward()
    assert torch.isfinite(inputs.grad).all() and (inputs.grad[padded] == 0).all()
    pooling.eval()
    torch.testing.assert_close(pooling(inputs, padded)[0], pooling(inputs, padded)[0])


def test_attention_pooling_all_padding_gives_zeros():
    pooling = AttentionPooling(input_dim=3, hidden_dim=4)
    context, weights = pooling(torch.randn(2, 5, 3), torch.ones(2, 5, dtype=torch.bool))
    assert (context == 0).all() and (weights == 0).all()


@FEW
@given(time=st.integers(1, 12), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_attention_pooling_ignores_frame_order(time, batch, seed):
    torch.manual_seed(seed)
    pooling = AttentionPooling(input_dim=5, hidden_dim=7).double()
    inputs = torch.randn(batch, time, 5, dtype=torch.float64)
    padded = torch.rand(batch, time) < 0.3
    order = torch.randperm(time)
    context, weights = pooling(inputs, padded)
    shuffled, shuffled_weights = pooling(inputs[:, order], padded[:, order])
    torch.testing.assert_close(shuffled, context)
    torch.testing.assert_close(shuffled_weights, weights[:, order])


# LocationSensitiveAttention ---------------------------------------------------------------


def _location_inputs(batch, keys=7, device="cpu", dtype=torch.float32, seed=0):
    """query (B, 6), keys (B, K, 8), values (B, K, 5), previous weights (B, 2, K)."""
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(batch, 6, generator=g, dtype=dtype)
    keys_ = torch.randn(batch, keys, 8, generator=g, dtype=dtype)
    values = torch.randn(batch, keys, 5, generator=g, dtype=dtype)
    last = torch.rand(batch, keys, generator=g, dtype=dtype).softmax(-1)
    previous = torch.stack([last, last + torch.rand(batch, keys, generator=g, dtype=dtype)], 1)
    return [t.to(device) for t in (query, keys_, values, previous)]


def _location_attention(use_location=True, kernel_size=3, dtype=torch.float32):
    torch.manual_seed(0)
    return LocationSensitiveAttention(
        query_dim=6, key_dim=8, hidden_dim=10, n_filters=4, kernel_size=kernel_size,
        use_location=use_location,
    ).to(dtype)  # fmt: skip


@pytest.mark.parametrize("use_location", [True, False])
@pytest.mark.parametrize("batch", [1, 3])
def test_location_attention_shapes_masks_and_backward(batch, use_location, device):
    module = _location_attention(use_location).to(device)
    query, keys, values, previous = _location_inputs(batch, device=device)
    keys.requires_grad_()
    padded = padding_mask(torch.tensor([7, 3, 1][:batch], device=device), 7)
    context, weights = module(query, keys, values, previous, padded)
    assert context.shape == (batch, 5) and weights.shape == (batch, 7)
    assert context.device.type == weights.device.type == device
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, device=device))
    assert (weights[padded] == 0).all() and (weights[~padded] > 0).all()
    torch.testing.assert_close(context, torch.einsum("bk,bkd->bd", weights, values))
    context.square().sum().backward()
    assert torch.isfinite(keys.grad).all() and (keys.grad[padded] == 0).all()
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
    assert hasattr(module, "location_conv") == use_location


@pytest.mark.parametrize("use_location", [True, False])
def test_location_attention_fully_padded_row_is_zero_not_nan(use_location):
    module = _location_attention(use_location)
    query, keys, values, previous = _location_inputs(2)
    query.requires_grad_()
    padded = torch.zeros(2, 7, dtype=torch.bool)
    padded[1] = True
    context, weights = module(query, keys, values, previous, padded)
    assert torch.isfinite(context).all() and torch.isfinite(weights).all()
    assert (weights[1] == 0).all() and (context[1] == 0).all()
    torch.testing.assert_close(weights[0].sum(), torch.tensor(1.0))
    context.sum().backward()
    assert torch.isfinite(query.grad).all() and (query.grad[1] == 0).all()


def test_location_attention_projected_keys_give_the_same_result():
    module = _location_attention()
    query, keys, values, previous = _location_inputs(3)
    padded = padding_mask(torch.tensor([7, 4, 2]), 7)
    projected = module.project_keys(keys)
    assert projected.shape == (3, 7, 10)
    first = module(query, keys, values, previous, padded)
    second = module(query, keys, values, previous, padded, projected_keys=projected)
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # ... and the precomputed keys are really used (not recomputed from `keys`).
    shifted = module(query, keys, values, previous, padded, projected_keys=projected + 1.0)
    assert not torch.allclose(shifted[1], first[1])


def test_location_term_uses_the_previous_weights_only_when_asked():
    query, keys, values, previous = _location_inputs(2)
    other = previous.flip(-1)
    content = _location_attention(use_location=False)
    first = content(query, keys, values, previous)
    for changed in (other, None, torch.zeros(2, 1, 3)):  # ignored, whatever its shape
        for a, b in zip(first, content(query, keys, values, changed), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    location = _location_attention(use_location=True)
    _, weights = location(query, keys, values, previous)
    _, moved = location(query, keys, values, other)
    assert (weights - moved).abs().max() > 1e-3


def _location_reference(module, query, keys, values, previous, padded):
    """score_j = v^T tanh(W s + V h_j + b + U (F * prev)_j), softmax over the valid keys."""
    W, V, b = module.query_proj.weight, module.key_proj.weight, module.key_proj.bias
    v, U = module.v.weight[0], module.location_proj.weight
    filters = module.location_conv.weight  # (n_filters, in_channels, kernel)
    n_filters, channels, width = filters.shape
    batch, num_keys, _ = keys.shape
    half = width // 2
    weights = torch.zeros(batch, num_keys, dtype=query.dtype)
    for i in range(batch):
        scores = []
        for j in range(num_keys):
            location = torch.zeros(n_filters, dtype=query.dtype)  # (F * prev)_j, zero padded
            for k in range(width):
                frame = j + k - half
                if 0 <= frame < num_keys:
                    location += filters[:, :, k] @ previous[i, :, frame]
            energy = W @ query[i] + V @ keys[i, j] + b + U @ location
            scores.append(v @ torch.tanh(energy))
        scores = torch.stack(scores)
        valid = ~padded[i]
        weights[i, valid] = scores[valid].softmax(-1)
    return torch.einsum("bk,bkd->bd", weights, values), weights


@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_location_attention_equals_the_formula(kernel_size):
    module = _location_attention(kernel_size=kernel_size, dtype=torch.float64)
    query, keys, values, previous = _location_inputs(2, keys=6, dtype=torch.float64)
    padded = padding_mask(torch.tensor([6, 4]), 6)
    with torch.no_grad():
        context, weights = module(query, keys, values, previous, padded)
        expected_context, expected_weights = _location_reference(
            module, query, keys, values, previous, padded
        )
    torch.testing.assert_close(weights, expected_weights)
    torch.testing.assert_close(context, expected_context)


def test_location_attention_errors():
    module = _location_attention()
    query, keys, values, previous = _location_inputs(2)
    for bad in (previous[:, :1], previous[..., :-1], previous[:1], None):
        with pytest.raises(ValueError, match=r"previous_weights must have shape.*\(2, 2, 7\)"):
            module(query, keys, values, bad)
    for kernel_size in (0, 4, -3):
        with pytest.raises(ValueError, match="kernel_size must be a positive odd number"):
            LocationSensitiveAttention(6, 8, 10, kernel_size=kernel_size)
    with pytest.raises(ValueError, match="query"):
        module(query[:, None], keys, values, previous)  # one query per example: (batch, dim)
    with pytest.raises(ValueError, match="key_dim=8"):
        module(query, keys[..., :4], values, previous)
