"""Lesson 13's fusions: cross-attention by hand, the detector's shapes, the order classifier."""

import math

import numpy as np
import pytest
import torch

from course_utils.audiotext import (
    CrossAttention,
    DetectorConfig,
    OrderClassifier,
    Schedule,
    SpokenTermDetector,
    encode_pairs,
    encode_queries,
    make_utterances,
    order_pairs,
    output_lengths,
    time_features,
    train_order,
)

torch.set_num_threads(1)
TINY = DetectorConfig(d_model=16, audio_blocks=1)


def test_cross_attention_is_softmax_of_scaled_scores_times_values():
    torch.manual_seed(0)
    module = CrossAttention(d_model=8, heads=1).double().eval()
    g = torch.Generator().manual_seed(1)
    queries = torch.randn(2, 3, 8, generator=g, dtype=torch.float64)
    frames = torch.randn(2, 5, 8, generator=g, dtype=torch.float64)
    padding = torch.tensor([[False] * 5, [False, False, False, True, True]])
    context, weights = module(queries, frames, padding)

    attention = module.attention
    q, k, v = attention.q_proj(queries), attention.k_proj(frames), attention.v_proj(frames)
    scores = q @ k.transpose(1, 2) / math.sqrt(8)  # (B, Q, T)
    scores = scores.masked_fill(padding[:, None, :], float("-inf"))
    expected_weights = torch.softmax(scores, dim=-1)
    expected_context = attention.out_proj(expected_weights @ v)
    assert weights.shape == (2, 3, 5) and context.shape == (2, 3, 8)
    assert torch.allclose(weights, expected_weights, atol=1e-12)
    assert torch.allclose(context, expected_context, atol=1e-12)


def test_cross_attention_gives_padded_frames_exactly_zero_weight():
    torch.manual_seed(0)
    module = CrossAttention(d_model=8, heads=2).eval()
    padding = torch.tensor([[False] * 6, [False, False, True, True, True, True]])
    frames = torch.randn(2, 6, 8)
    _, weights = module(torch.randn(2, 4, 8), frames, padding)
    assert torch.all(weights[1, :, 2:] == 0)
    assert torch.all(weights[:, :, :2] > 0)
    assert torch.allclose(weights.sum(dim=-1), torch.ones(2, 4), atol=1e-6)
    # what lies under the padding cannot change the context
    noisy = frames.clone()
    noisy[1, 2:] = 100 * torch.randn(4, 8)
    queries = torch.zeros(2, 4, 8)
    clean_context, _ = module(queries, frames, padding)
    noisy_context, _ = module(queries, noisy, padding)
    assert torch.allclose(clean_context[1], noisy_context[1], atol=1e-6)


def _detector_inputs(queries):
    g = torch.Generator().manual_seed(2)
    waves = 0.1 * torch.randn(2, 16_000, generator=g)
    samples = torch.tensor([16_000, 9000])
    waves[1, 9000:] = 0
    return waves, samples, *encode_queries(queries, TINY.max_chars)


def test_detector_shapes_with_padded_audio_and_queries_of_different_lengths():
    torch.manual_seed(0)
    model = SpokenTermDetector(TINY).eval()
    queries = [["fan", "living room", "up"], ["kitchen", "six", "television"]]
    waves, samples, ids, lengths = _detector_inputs(queries)
    assert ids.shape == (2, 3, len("living room")) and lengths.tolist() == [[3, 11, 2], [7, 3, 10]]
    with torch.no_grad():
        logits, weights = model(waves, samples, ids, lengths)
    valid = output_lengths(samples).tolist()
    assert valid == [26, 15]
    assert logits.shape == (2, 3) and weights.shape == (2, 3, 26)
    assert torch.isfinite(logits).all()
    assert torch.all(weights[1, :, 15:] == 0)
    assert torch.allclose(weights.sum(dim=-1), torch.ones(2, 3), atol=1e-5)


def test_a_query_logit_does_not_depend_on_the_other_queries_of_its_row():
    torch.manual_seed(0)
    model = SpokenTermDetector(TINY).eval()
    few = _detector_inputs([["fan", "up"], ["six", "left"]])
    many = _detector_inputs([["fan", "living room", "kitchen"], ["six", "television", "up"]])
    with torch.no_grad():
        logits_few, weights_few = model(*few)
        logits_many, weights_many = model(*many)
    assert torch.allclose(logits_few[:, 0], logits_many[:, 0], atol=1e-5)
    assert torch.allclose(weights_few[:, 0], weights_many[:, 0], atol=1e-5)
    assert not torch.allclose(logits_many[:, 0], logits_many[:, 1], atol=1e-4)


def test_time_features_hold_seconds_then_sinusoids():
    features = time_features(5, dim=4)
    assert features.shape == (5, 5)
    assert torch.allclose(features[:, 0], torch.arange(5) * 0.04)
    assert torch.allclose(features[0, 1:], torch.tensor([0.0, 1.0, 0.0, 1.0]))  # sin 0, cos 0
    assert torch.allclose(features[1, 1:3], torch.tensor([math.sin(1.0), math.cos(1.0)]))


def _order_data(model):
    lists = make_utterances("word lists", "train", 4, use_cache=False)
    pairs, labels = order_pairs(lists.texts, np.random.default_rng(0))
    return encode_pairs(model, lists, pairs), labels


@pytest.mark.parametrize("fusion", ["cross", "concat"])
def test_order_classifier_shapes(fusion):
    torch.manual_seed(0)
    model = OrderClassifier(SpokenTermDetector(TINY), fusion).eval()
    (frames, padding, pair), labels = _order_data(model)
    assert frames.shape[0] == padding.shape[0] == pair.shape[0] == len(labels) == 4
    assert frames.shape[2] == 16 and pair.shape[1:] == (2, 16)
    assert padding.shape == frames.shape[:2] and padding.any()  # the utterances differ in length
    with torch.no_grad():
        logits = model(frames, padding, pair)
    assert logits.shape == (4,) and torch.isfinite(logits).all()


@pytest.mark.parametrize("fusion", ["cross", "concat"])
def test_order_classifier_trains_its_fusion_and_leaves_the_encoders_frozen(fusion):
    torch.manual_seed(0)
    detector = SpokenTermDetector(TINY)
    model = OrderClassifier(detector, fusion)
    assert not any(p.requires_grad for p in model.encoders.parameters())
    assert all(p.requires_grad for p in detector.parameters())  # the detector itself untouched
    encoded, labels = _order_data(model)
    encoders = {k: v.clone() for k, v in model.encoders.state_dict().items()}
    fusion_part = model.head if fusion == "cross" else model.mixer  # cross: only the head trains
    fused = {k: v.clone() for k, v in fusion_part.state_dict().items()}
    head = {k: v.clone() for k, v in model.head.state_dict().items()}
    history = train_order(
        model, encoded, labels, Schedule(steps=1, batch_size=4, log_every=1), progress=False
    )
    assert history["steps"] == [1] and math.isfinite(history["loss"][0])
    assert all(torch.equal(v, encoders[k]) for k, v in model.encoders.state_dict().items())
    assert any(not torch.equal(v, fused[k]) for k, v in fusion_part.state_dict().items())
    assert any(not torch.equal(v, head[k]) for k, v in model.head.state_dict().items())
    assert not model.encoders.training


def test_order_classifier_keeps_its_encoders_in_eval_mode():
    model = OrderClassifier(SpokenTermDetector(TINY), "concat").train()
    assert model.training and model.mixer.training
    assert not model.encoders.training and not model.encoders.audio.input_norm.training


def test_order_classifier_rejects_an_unknown_fusion():
    with pytest.raises(ValueError, match="fusion must be one of"):
        OrderClassifier(SpokenTermDetector(TINY), "sum")
