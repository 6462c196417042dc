"""Lesson 12's detector: shapes at any length, local attention with a wide window is full
attention, gradients flow, eval is deterministic, bad input is refused clearly."""

import math

import numpy as np
import pytest
import torch

from course_utils.longform import (
    DetectorConfig,
    LongformDetector,
    check_recording,
    detect,
    receptive_field_seconds,
)

torch.set_num_threads(1)


def _model(**overrides):
    torch.manual_seed(0)
    return LongformDetector(DetectorConfig.preset("tiny", **overrides)).eval()


@pytest.mark.parametrize("attention", ["local", "full"])
@pytest.mark.parametrize("batch,frames", [(1, 101), (3, 257), (2, 8), (1, 1)])
def test_output_shapes(attention, batch, frames):
    model = _model(attention=attention)
    logits = model(torch.randn(batch, 40, frames))
    assert logits.shape == (batch, math.ceil(math.ceil(frames / 2) / 2), 9)
    assert model.output_frames(frames) == logits.shape[1]


def test_features_run_at_100_frames_per_second():
    model = _model()
    assert model.features(torch.randn(2, 16000)).shape == (2, 40, 101)
    assert model.config.output_hop_seconds == pytest.approx(0.04)


def test_backward_reaches_every_parameter():
    model = _model().train()
    model(torch.randn(2, 40, 120)).logsumexp(-1).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_eval_is_deterministic():
    model, x = _model(), torch.randn(2, 40, 300)
    assert torch.equal(model(x), model(x))


def test_local_attention_with_a_wide_window_is_full_attention():
    local = _model(attention="local", window=200)
    full = LongformDetector(DetectorConfig.preset("tiny", attention="full")).eval()
    full.load_state_dict(local.state_dict())
    x = torch.randn(2, 40, 400)  # 100 output frames, all inside the window
    torch.testing.assert_close(local(x), full(x), atol=1e-5, rtol=1e-4)
    narrow = _model(attention="local", window=2)
    narrow.load_state_dict(local.state_dict())
    assert not torch.allclose(narrow(x), full(x), atol=1e-3)


@pytest.mark.parametrize("attention", ["local", "full"])
def test_padding_does_not_change_the_valid_frames(attention):
    model = _model(attention=attention)
    x = torch.randn(1, 40, 203)
    alone = model(x)
    padded = torch.cat([x, torch.randn(1, 40, 60)], -1)
    batch = model(torch.cat([padded, torch.randn(1, 40, 263)]), lengths=torch.tensor([203, 263]))
    torch.testing.assert_close(batch[0, : alone.shape[1]], alone[0], atol=1e-5, rtol=1e-4)


def test_receptive_field():
    config = DetectorConfig()  # 3 blocks, window 16, kernel 15: 69 output frames a side
    assert receptive_field_seconds(config) == pytest.approx((3 * 23 * 4 + 3) / 100)
    assert receptive_field_seconds(DetectorConfig(attention="full")) == math.inf


def test_bad_configs_and_features_are_refused():
    with pytest.raises(ValueError, match="attention"):
        DetectorConfig(attention="sparse")
    with pytest.raises(ValueError, match="preset"):
        DetectorConfig.preset("huge")
    with pytest.raises(ValueError, match="n_mels=40"):
        _model()(torch.randn(1, 64, 100))
    with pytest.raises(ValueError, match="n_mels=40"):
        _model()(torch.randn(40, 100))


@pytest.mark.parametrize(
    "waveform,rate,message",
    [(np.zeros(16000, np.float32) + 0.1, 8000, "16000 Hz"),
     (np.full(16000, np.nan, np.float32), 16000, "NaN"),
     (np.zeros(16000, np.float32), 16000, "silent"),
     (np.zeros(0, np.float32), 16000, "empty"),
     (np.ones((2, 16000), np.float32), 16000, "shape"),
     (np.ones(100, np.float32), 16000, "too short")],
)  # fmt: skip
def test_bad_recordings_are_refused(waveform, rate, message):
    with pytest.raises(ValueError, match=message):
        check_recording(waveform, rate)
    with pytest.raises(ValueError, match=message):
        detect(_model(), waveform, rate, ["k"] * 8)


@pytest.mark.parametrize("seconds", [0.25, 3.3, 61.7])
def test_detect_runs_at_any_length(seconds):
    wave = 0.05 * np.random.default_rng(0).standard_normal(round(seconds * 16000))
    events = detect(_model(), wave.astype(np.float32), 16000, [f"k{i}" for i in range(8)])
    assert all(0 <= a < b <= seconds + 0.05 for a, b, _ in events)
