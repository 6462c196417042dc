"""Tests for course_utils.augment.batch: noise at a random SNR and VTLP, per batch."""

import pytest
import torch

from course_utils.audio.features import LogMel
from course_utils.augment.batch import (
    Echo,
    FrequencyWarp,
    NoiseMixer,
    frequency_warp,
    mel_band_centers,
)


def test_band_centres_match_the_front_end_filters():
    frontend = LogMel(16000, n_mels=40)
    filters = frontend.mel.mel_scale.fb  # (freqs, n_mels)
    freqs = torch.linspace(0, 8000, filters.shape[0])
    peaks = freqs[filters.argmax(dim=0)]
    centers = mel_band_centers(40, 16000)
    assert (peaks - centers).abs().max() <= 8000 / (filters.shape[0] - 1)


def test_identity_for_factor_one_and_energy_moves_up_for_factor_above_one(device):
    frontend = LogMel(16000, n_mels=40)
    t = torch.arange(16000) / 16000
    tone = frontend(torch.sin(2 * torch.pi * 1000 * t))[None].to(device)  # (1, 40, 101)
    centers = mel_band_centers(40, 16000)
    same = frequency_warp(tone, torch.ones(1, device=device), centers)
    torch.testing.assert_close(same, tone, atol=1e-4, rtol=0)
    up = frequency_warp(tone, torch.tensor([1.3], device=device), centers)
    peak = int(tone[0, :, 50].argmax())
    moved = int(up[0, :, 50].argmax())
    expected = int((centers - 1300 * centers[peak] / 1000).abs().argmin())
    assert moved > peak and abs(moved - expected) <= 1


def test_gradient_and_module_modes(device):
    warp = FrequencyWarp(40, 16000).to(device)
    x = torch.randn(4, 40, 30, device=device, requires_grad=True)
    warp.train()(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert warp.eval()(x) is x
    torch.manual_seed(0)
    a = FrequencyWarp(40, 16000).train()(x)
    torch.manual_seed(0)
    b = FrequencyWarp(40, 16000).train()(x)
    torch.testing.assert_close(a, b)


def test_bad_inputs():
    centers = mel_band_centers(40, 16000)
    with pytest.raises(ValueError, match="batch, n_mels, frames"):
        frequency_warp(torch.randn(40, 10), torch.ones(1), centers)
    with pytest.raises(ValueError, match="positive"):
        frequency_warp(torch.randn(1, 40, 10), torch.zeros(1), centers)
    with pytest.raises(ValueError, match="max_factor"):
        FrequencyWarp(40, 16000, max_factor=0.5)
    with pytest.raises(ValueError):
        mel_band_centers(40, 0)


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 20.0])
def test_noise_mixer_reaches_the_drawn_snr(snr_db, device):
    mixer = NoiseMixer(16000, prob=1.0, snr_db_range=(snr_db, snr_db)).to(device)
    clean = torch.randn(8, 12000, device=device) * torch.linspace(0.1, 1, 8, device=device)[:, None]
    noise = mixer(clean) - clean
    measured = 10 * torch.log10(clean.pow(2).mean(1) / noise.pow(2).mean(1))
    torch.testing.assert_close(measured, torch.full_like(measured, snr_db), atol=1e-3, rtol=0)


def test_noise_mixer_longer_than_its_bank_and_probability_zero():
    mixer = NoiseMixer(8000, prob=1.0, bank_seconds=0.5)
    assert mixer(torch.randn(2, 20000)).shape == (2, 20000)
    quiet = NoiseMixer(8000, prob=0.0)
    x = torch.randn(3, 800)
    assert quiet(x) is x
    assert NoiseMixer(8000, prob=1.0).eval()(x) is x


def test_noise_mixer_bad_inputs():
    with pytest.raises(ValueError, match="prob"):
        NoiseMixer(16000, prob=1.5)
    with pytest.raises(ValueError, match="snr_db_range"):
        NoiseMixer(16000, snr_db_range=(10.0, 0.0))
    with pytest.raises(ValueError):
        NoiseMixer(16000)(torch.randn(16000))  # (time,) instead of (batch, time)


def test_echo_adds_one_delayed_copy(device):
    echo = Echo(8000, prob=1.0, delay_range=(0.000625, 0.000625), gain_range=(0.5, 0.5)).to(device)
    x = torch.randn(3, 40, device=device)
    y = echo(x)
    torch.testing.assert_close(y[:, :5], x[:, :5])
    torch.testing.assert_close(y[:, 5:], x[:, 5:] + 0.5 * x[:, :-5])
    assert echo.eval()(x) is x
    assert Echo(8000, prob=0.0).train()(x) is x


def test_echo_bad_inputs():
    with pytest.raises(ValueError, match="prob"):
        Echo(16000, prob=-0.1)
    with pytest.raises(ValueError, match="delay_range"):
        Echo(16000, delay_range=(0.2, 0.1))
    with pytest.raises(ValueError):
        Echo(16000, prob=1.0)(torch.randn(100))
