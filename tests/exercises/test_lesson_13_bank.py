"""Lesson 13's exercises agree with the package they teach: the reference cross-attention is
``audiotext.CrossAttention`` with identity projections (and the functional attention of
lesson 03 with a padding mask), the reference InfoNCE is ``audiotext.info_nce`` and the
reference recall@k is ``audiotext.recall_at_k``. test_bank.py checks that every listed
mistake gets its hint."""

import math

import pytest
import torch

from course_utils import audiotext
from course_utils.attention import functional
from course_utils.exercises import get_exercise


def _reference(name):
    return get_exercise(f"13.{name}").reference


def _cases(name):
    return get_exercise(f"13.{name}").make_cases(torch.Generator().manual_seed(0))


def _identity_cross_attention(d_model: int) -> audiotext.CrossAttention:
    module = audiotext.CrossAttention(d_model, heads=1)
    inner = module.attention
    with torch.no_grad():
        for proj in (inner.q_proj, inner.k_proj, inner.v_proj, inner.out_proj):
            proj.weight.copy_(torch.eye(d_model))
            proj.bias.zero_()
    return module.eval()


def test_cross_attention_is_the_package_block_with_identity_projections():
    mine = _reference("cross_attention")
    for queries, frames, padding in _cases("cross_attention"):
        context, weights = mine(queries, frames, padding)
        block = _identity_cross_attention(queries.shape[-1])
        with torch.no_grad():
            expected_context, expected_weights = block(queries, frames, padding)
        torch.testing.assert_close(context, expected_context, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(weights, expected_weights, rtol=1e-5, atol=1e-6)


def test_cross_attention_is_masked_scaled_dot_product_attention():
    mine = _reference("cross_attention")
    for queries, frames, padding in _cases("cross_attention"):
        expected, weights = functional.scaled_dot_product_attention(
            queries, frames, frames, mask=~padding[:, None, :]
        )
        got, got_weights = mine(queries, frames, padding)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
        assert torch.all(got_weights.masked_select(padding[:, None, :].expand_as(got_weights)) == 0)


def test_info_nce_is_the_package_loss():
    mine = _reference("info_nce")
    for audio, text, logit_scale in _cases("info_nce"):
        torch.testing.assert_close(
            mine(audio, text, logit_scale), audiotext.info_nce(audio, text, logit_scale)
        )


def test_info_nce_by_hand_on_two_pairs():
    audio = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    text = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    # logits (scale 1): rows [[0.6, 0], [0.8, 1]], columns: the transpose
    rows = (
        -math.log(math.exp(0.6) / (math.exp(0.6) + 1)) - math.log(math.e / (math.exp(0.8) + math.e))
    ) / 2
    columns = (
        -math.log(math.exp(0.6) / (math.exp(0.6) + math.exp(0.8))) - math.log(math.e / (1 + math.e))
    ) / 2
    assert _reference("info_nce")(audio, text, 0.0).item() == pytest.approx((rows + columns) / 2)


def test_recall_at_k_is_the_package_recall():
    mine = _reference("recall_at_k")
    for similarity, targets, k in _cases("recall_at_k"):
        assert mine(similarity, targets, k) == pytest.approx(
            audiotext.recall_at_k(similarity, targets, k)
        )
