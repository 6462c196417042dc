"""course_utils.restoration.discriminators: 8 critics, their features, any length, errors."""

import pytest
import torch

from course_utils.restoration.discriminators import (
    Discriminators,
    MultiPeriodDiscriminator,
    MultiResolutionSTFTDiscriminator,
    PeriodDiscriminator,
    STFTDiscriminator,
)


@pytest.fixture(scope="module")
def critic():
    torch.manual_seed(0)
    return Discriminators()


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("samples", [4000, 8191, 8192])
def test_eight_logits_and_eight_feature_lists(critic, samples, batch):
    with torch.no_grad():
        logits, features = critic(torch.randn(batch, samples) * 0.1)
    assert len(logits) == 8 and len(features) == 8
    assert [len(f) for f in features] == [5] * 8  # 3 STFT, then 5 period, 5 layers each
    for score, layers in zip(logits, features, strict=True):
        assert score.dim() == 4 and score.shape[:2] == (batch, 1)
        assert torch.isfinite(score).all()
        for layer in layers:
            assert layer.dim() == 4 and layer.shape[0] == batch


def test_order_is_stft_then_period(critic):
    with torch.no_grad():
        _, features = critic(torch.randn(1, 4000) * 0.1)
    assert [f[0].shape[1] for f in features[:3]] == [16, 16, 16]  # STFT channels
    assert [f[-1].shape[-1] for f in features[3:]] == [2, 3, 5, 7, 11]  # the periods


def test_different_lengths_give_different_map_sizes(critic):
    with torch.no_grad():
        short, _ = critic(torch.randn(2, 3000) * 0.1)
        long, _ = critic(torch.randn(2, 9000) * 0.1)
    for a, b in zip(short, long, strict=True):
        assert a.shape[-2] < b.shape[-2]  # time (STFT frames or period rows) grows


@pytest.mark.parametrize("samples", [1000, 1001, 8191])
@pytest.mark.parametrize("period", [2, 3, 5, 7, 11])
def test_period_discriminator_folds_into_period_columns(period, samples):
    torch.manual_seed(0)
    d = PeriodDiscriminator(period)
    with torch.no_grad():
        logits, features = d(torch.randn(2, samples) * 0.1)
    assert len(features) == 5
    rows = -(-samples // period)  # reflect-padded to a multiple of the period
    assert [f.shape[1] for f in features] == [16, 32, 64, 64, 64]
    for f in features:
        assert f.shape[0] == 2 and f.shape[-1] == period
    assert features[0].shape[2] == -(-rows // 3)  # stride 3 down the rows
    assert logits.shape == (2, 1, features[-1].shape[2], period)


def test_stft_discriminator_shapes():
    torch.manual_seed(0)
    d = STFTDiscriminator(512, 128)
    with torch.no_grad():
        logits, features = d(torch.randn(2, 4000) * 0.1)
    frames, bins = 4000 // 128 + 1, 257
    assert features[0].shape == (2, 16, frames, -(-bins // 2))  # stride 2 along frequency
    assert len(features) == 5
    assert features[-1].shape == features[-2].shape  # the last layer keeps the size
    assert logits.shape == (2, 1, *features[-1].shape[2:])


def test_multi_discriminators_alone():
    torch.manual_seed(0)
    wave = torch.randn(2, 3000) * 0.1
    with torch.no_grad():
        stft_logits, stft_features = MultiResolutionSTFTDiscriminator()(wave)
        period_logits, period_features = MultiPeriodDiscriminator()(wave)
    assert len(stft_logits) == len(stft_features) == 3
    assert len(period_logits) == len(period_features) == 5


@pytest.mark.parametrize("shape", [(2, 1, 4000), (4000,), (1, 1, 1, 4000)])
def test_non_batch_input_is_refused(critic, shape):
    with pytest.raises(ValueError, match=r"discriminators take waveforms \(batch, samples\)"):
        critic(torch.zeros(shape))
    with pytest.raises(ValueError, match=r"\(batch, samples\)"):
        PeriodDiscriminator(3)(torch.zeros(shape))
    with pytest.raises(ValueError, match=r"\(batch, samples\)"):
        STFTDiscriminator(256, 64)(torch.zeros(shape))


def test_gradients_flow_to_the_input(critic):
    wave = (torch.randn(1, 2000) * 0.1).requires_grad_(True)
    logits, features = critic(wave)
    loss = sum(score.mean() for score in logits) + sum(f[-1].abs().mean() for f in features)
    loss.backward()
    assert wave.grad is not None and torch.isfinite(wave.grad).all()
    assert wave.grad.abs().sum() > 0
    for name, parameter in critic.named_parameters():
        assert parameter.grad is not None, name
    critic.zero_grad(set_to_none=True)


def test_each_discriminator_sees_the_input():
    """Every sub-discriminator's score depends on the waveform (not only on its length)."""
    torch.manual_seed(0)
    critic = Discriminators()
    wave = (torch.randn(1, 2000) * 0.1).requires_grad_(True)
    logits, _ = critic(wave)
    for score in logits:
        (grad,) = torch.autograd.grad(score.sum(), wave, retain_graph=True)
        assert grad.abs().sum() > 0
