"""Lesson 13's retrieval: InfoNCE by hand, recall@k by hand, the dual encoder's embeddings."""

import math

import pytest
import torch

from course_utils.audiotext import (
    DualConfig,
    DualEncoder,
    encode_texts,
    info_nce,
    recall_at_k,
)

torch.set_num_threads(1)
TINY = DualConfig(d_model=16, embed_dim=8, audio_blocks=1, audio_layers=1)


def _at_angles(degrees):
    radians = torch.tensor(degrees, dtype=torch.float64) * math.pi / 180
    return torch.stack([radians.cos(), radians.sin()], dim=1)  # unit vectors (B, 2)


def test_info_nce_matches_a_hand_worked_3_by_3_case():
    audio = _at_angles([0, 90, 180])
    text = _at_angles([0, 60, 120])
    # cosines, row i = audio i:  [1, 1/2, -1/2], [0, r3/2, r3/2], [-1, -1/2, 1/2];
    # logit scale log 2 doubles them: logits [2, 1, -1], [0, r3, r3], [-2, -1, 1].
    r3 = math.sqrt(3)
    audio_to_text = [
        math.log(math.exp(2) + math.exp(1) + math.exp(-1)) - 2,  # row 0, target 0
        math.log(math.exp(0) + 2 * math.exp(r3)) - r3,  # row 1, target 1
        math.log(math.exp(-2) + math.exp(-1) + math.exp(1)) - 1,  # row 2, target 2
    ]
    text_to_audio = [
        math.log(math.exp(2) + math.exp(0) + math.exp(-2)) - 2,  # column 0
        math.log(math.exp(1) + math.exp(r3) + math.exp(-1)) - r3,  # column 1
        math.log(math.exp(-1) + math.exp(r3) + math.exp(1)) - 1,  # column 2
    ]
    expected = (sum(audio_to_text) / 3 + sum(text_to_audio) / 3) / 2
    loss = info_nce(audio, text, math.log(2))
    assert loss.ndim == 0
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_info_nce_is_symmetric_in_audio_and_text():
    g = torch.Generator().manual_seed(0)
    audio = torch.nn.functional.normalize(torch.randn(5, 4, generator=g), dim=1)
    text = torch.nn.functional.normalize(torch.randn(5, 4, generator=g), dim=1)
    forward = info_nce(audio, text, 1.5)
    assert torch.allclose(forward, info_nce(text, audio, 1.5), atol=1e-6)
    assert not torch.allclose(forward, info_nce(audio, text.flip(0), 1.5), atol=1e-3)


def test_info_nce_caps_the_inverse_temperature_at_100():
    g = torch.Generator().manual_seed(1)
    audio = torch.nn.functional.normalize(torch.randn(4, 3, generator=g), dim=1)
    text = torch.nn.functional.normalize(torch.randn(4, 3, generator=g), dim=1)
    capped = info_nce(audio, text, math.log(100))
    assert torch.allclose(info_nce(audio, text, 50.0), capped, atol=1e-6)
    assert not torch.allclose(info_nce(audio, text, math.log(50)), capped, atol=1e-4)
    scale = torch.tensor(50.0, requires_grad=True)
    info_nce(audio, text, scale).backward()
    assert scale.grad == 0  # past the cap, the learned scale gets no gradient


@pytest.mark.parametrize(
    "audio_shape, text_shape",
    [((3, 2), (2, 2)), ((3, 2), (3, 4)), ((1, 2), (1, 2)), ((4,), (4,))],
)
def test_info_nce_rejects_mismatched_shapes_and_a_batch_of_one(audio_shape, text_shape):
    with pytest.raises(ValueError, match="same shape"):
        info_nce(torch.ones(audio_shape), torch.ones(text_shape), 0.0)


SIMILARITY = torch.tensor(
    [
        [0.9, 0.1, 0.2, 0.3],  # target 0: ranked 1st
        [0.5, 0.4, 0.6, 0.1],  # target 1: 0.5 and 0.6 above it, ranked 3rd
        [0.3, 0.8, 0.7, 0.0],  # target 2: 0.8 above it, ranked 2nd
        [0.1, 0.2, 0.3, 0.0],  # target 3: last
    ]
)


@pytest.mark.parametrize("k, expected", [(1, 1 / 4), (2, 2 / 4), (3, 3 / 4), (4, 1.0)])
def test_recall_at_k_on_a_hand_ranked_matrix(k, expected):
    assert recall_at_k(SIMILARITY, torch.arange(4), k) == pytest.approx(expected)


def test_recall_at_k_follows_the_targets():
    targets = torch.tensor([0, 2, 1, 2])  # row 1: 0.6 is the best; row 2: 0.8; row 3: 0.3
    assert recall_at_k(SIMILARITY, targets, 1) == pytest.approx(1.0)
    assert recall_at_k(SIMILARITY.T, torch.arange(4), 1) == pytest.approx(2 / 4)  # columns


def test_a_tie_with_the_right_candidate_counts_against_it():
    similarity = torch.tensor([[0.5, 0.5, 0.1], [0.2, 0.9, 0.1], [0.3, 0.3, 0.3]])
    targets = torch.arange(3)
    assert recall_at_k(similarity, targets, 1) == pytest.approx(1 / 3)
    assert recall_at_k(similarity, targets, 2) == pytest.approx(2 / 3)
    assert recall_at_k(similarity, targets, 3) == pytest.approx(1.0)


@pytest.mark.parametrize("k", [0, 5])
def test_recall_at_k_rejects_k_outside_the_candidates(k):
    with pytest.raises(ValueError, match=r"k must lie in \[1, 4\]"):
        recall_at_k(SIMILARITY, torch.arange(4), k)


@pytest.mark.parametrize("targets", [torch.arange(3), torch.zeros(4, 1, dtype=torch.long)])
def test_recall_at_k_rejects_mismatched_targets(targets):
    with pytest.raises(ValueError, match="targets"):
        recall_at_k(SIMILARITY, targets, 1)


def test_dual_encoder_embeddings_have_unit_norm():
    torch.manual_seed(0)
    model = DualEncoder(TINY).eval()
    with torch.no_grad():
        audio = model.embed_audio(0.1 * torch.randn(3, 16_000), torch.tensor([16_000, 9000, 4000]))
        text = model.embed_text(*encode_texts(["stop the fan", "up", "open the door"], 48))
    assert audio.shape == text.shape == (3, 8)
    assert torch.allclose(audio.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(text.norm(dim=1), torch.ones(3), atol=1e-5)


def test_learned_logit_scale_starts_at_one_over_the_temperature_and_learns():
    torch.manual_seed(0)
    model = DualEncoder(TINY)
    assert model.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    assert math.exp(model.logit_scale.item()) == pytest.approx(1 / 0.07)
    ids, lengths = encode_texts(["stop the fan", "up"], 48)
    loss = model(0.1 * torch.randn(2, 16_000), torch.tensor([16_000, 12_000]), ids, lengths)
    loss.backward()
    assert loss.ndim == 0 and loss.item() > 0
    assert model.logit_scale.grad is not None and model.logit_scale.grad != 0
    assert model.text_proj.weight.grad.abs().sum() > 0
    assert model.audio_proj.weight.grad.abs().sum() > 0
