"""Tests for course_utils.audio.features: librosa and torchaudio agree, known answers, shapes."""

from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import torch
import torchaudio

from course_utils.audio.features import (
    MFCC,
    LogMel,
    deltas,
    frame_lengths,
    log_mel_spectrogram,
    mfcc,
    num_frames,
    standardize,
)

SR, N_FFT, HOP, N_MELS = 16_000, 400, 160, 40


def speech_like(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A 220 Hz buzz with a 3 Hz syllable envelope plus noise: voiced parts and quiet gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    voiced = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    return (0.2 * voiced * envelope + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def librosa_mel_power(y: np.ndarray, **kwargs) -> np.ndarray:
    return librosa.feature.melspectrogram(
        y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, center=True,
        pad_mode="reflect", **kwargs,
    )  # fmt: skip


def test_mel_power_matches_librosa():
    y = speech_like()
    ours = LogMel().mel(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(ours, librosa_mel_power(y), rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("top_db", [80.0, 40.0, None])
def test_log_mel_matches_librosa(top_db):
    y = speech_like()
    ours = log_mel_spectrogram(torch.from_numpy(y), top_db=top_db).numpy()
    ref = librosa.power_to_db(librosa_mel_power(y), ref=1.0, amin=1e-10, top_db=top_db)
    assert ours.shape == ref.shape == (N_MELS, num_frames(y.size, HOP))
    assert np.abs(ours - ref).max() < 1e-2  # dB; measured about 1e-4


def test_log_mel_matches_librosa_with_band_limits():
    y = speech_like()
    ours = log_mel_spectrogram(y, f_min=50.0, f_max=7600.0, n_mels=64)
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(
            y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=64, fmin=50.0, fmax=7600.0,
            pad_mode="reflect",
        ),
        top_db=80.0,
    )  # fmt: skip
    assert np.abs(ours.numpy() - ref).max() < 1e-2


def test_mfcc_matches_librosa_full_pipeline():
    y = speech_like()
    ours = mfcc(torch.from_numpy(y)).numpy()
    ref = librosa.feature.mfcc(
        y=y, sr=SR, n_mfcc=13, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, center=True,
        pad_mode="reflect", dct_type=2, norm="ortho",
    )  # fmt: skip
    assert ours.shape == ref.shape == (13, 101)
    np.testing.assert_allclose(ours, ref, atol=1e-3, rtol=0)  # documented in MFCC


def test_mfcc_matches_librosa_from_same_log_mel():
    log_mel = log_mel_spectrogram(speech_like())
    ref = librosa.feature.mfcc(S=log_mel.numpy(), n_mfcc=20, dct_type=2, norm="ortho")
    np.testing.assert_allclose(mfcc(speech_like(), n_mfcc=20).numpy(), ref, atol=1e-3, rtol=0)


def test_mfcc_matches_torchaudio_transform():
    y = torch.from_numpy(speech_like())
    melkwargs = dict(n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, norm="slaney", mel_scale="slaney")
    ref = torchaudio.transforms.MFCC(SR, n_mfcc=13, melkwargs=melkwargs)(y)
    torch.testing.assert_close(MFCC()(y), ref)


@pytest.mark.parametrize("freq", [250.0, 1000.0, 3000.0])
def test_sinusoid_energy_peaks_in_its_mel_band(freq):
    t = torch.arange(SR, dtype=torch.float64) / SR
    features = log_mel_spectrogram(torch.sin(2 * math.pi * freq * t).float())  # (n_mels, frames)
    # The band whose Slaney triangle is highest at `freq` must hold the most energy.
    fbank = torchaudio.functional.melscale_fbanks(
        N_FFT // 2 + 1, 0.0, SR / 2, N_MELS, SR, norm="slaney", mel_scale="slaney"
    )  # (freq_bins, n_mels)
    expected_band = int(fbank[round(freq * N_FFT / SR)].argmax())
    assert int(features.mean(dim=-1).argmax()) == expected_band


def test_batch_features_do_not_depend_on_batch_mates():
    loud, quiet = torch.from_numpy(speech_like()), 1e-3 * torch.from_numpy(speech_like(seed=1))
    batch = log_mel_spectrogram(torch.stack([loud, quiet]))  # (batch, n_mels, frames)
    torch.testing.assert_close(batch[1], log_mel_spectrogram(quiet))


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((1600,), (N_MELS, 11)),
        ((3, 1600), (3, N_MELS, 11)),
        ((2, 3, 1601), (2, 3, N_MELS, 11)),
    ],
)
def test_shapes(shape, expected):
    waveform = torch.randn(shape)
    assert log_mel_spectrogram(waveform).shape == expected
    assert mfcc(waveform, n_mfcc=13).shape == expected[:-2] + (13, expected[-1])


def test_modules_move_to_device(device):
    waveform = torch.from_numpy(speech_like(0.2)).to(device)
    for module in (LogMel(), MFCC()):
        module = module.to(device)
        out = module(waveform)
        assert out.device.type == device
        torch.testing.assert_close(out.cpu(), module.cpu()(waveform.cpu()), atol=1e-3, rtol=1e-4)


def test_function_follows_input_device_and_dtype(device):
    waveform = torch.from_numpy(speech_like(0.2)).to(device, torch.float64)
    out = log_mel_spectrogram(waveform)
    assert out.device.type == device and out.dtype == torch.float64


@pytest.mark.parametrize(
    "waveform, kwargs, match",
    [
        (torch.zeros(0), {}, "empty"),
        (torch.tensor([0.0, float("nan")] * 400), {}, "NaN"),
        (torch.zeros(1, 1, 1, 800), {}, "shape"),
        (torch.zeros(300), {}, "n_fft"),
        (torch.zeros(800), {"sample_rate": 100}, "sample_rate"),
        (torch.zeros(800), {"f_max": 9000.0}, "f_max"),
        (torch.zeros(800), {"hop_length": 0}, "hop_length"),
    ],
)
def test_log_mel_errors(waveform, kwargs, match):
    with pytest.raises(ValueError, match=match):
        log_mel_spectrogram(waveform, **kwargs)


def test_mfcc_errors():
    with pytest.raises(ValueError, match="n_mfcc"):
        mfcc(torch.zeros(800), n_mfcc=41)
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        mfcc([0.0] * 800)


def test_deltas_of_a_ramp_are_its_slope():
    ramp = torch.arange(20.0).repeat(2, 13, 1) * 0.5  # (batch, n_mfcc, frames)
    out = deltas(ramp)
    assert out.shape == ramp.shape
    torch.testing.assert_close(out[..., 2:-2], torch.full_like(out[..., 2:-2], 0.5))
    torch.testing.assert_close(out, torchaudio.functional.compute_deltas(ramp, win_length=5))


@pytest.mark.parametrize("win_length", [2, 4, 1])
def test_deltas_errors(win_length):
    with pytest.raises(ValueError, match="win_length"):
        deltas(torch.zeros(13, 10), win_length=win_length)
    with pytest.raises(ValueError, match="n_features, frames"):
        deltas(torch.zeros(10))


@pytest.mark.parametrize("num_samples", [0, 159, 160, 1600, 16_000, 16_001])
@pytest.mark.parametrize("hop_length", [160, 256])
def test_num_frames_matches_torchaudio(num_samples, hop_length):
    expected = 1 + num_samples // hop_length
    assert num_frames(num_samples, hop_length) == expected
    if num_samples >= N_FFT:
        out = LogMel(hop_length=hop_length)(torch.randn(num_samples))
        assert out.shape[-1] == expected


def test_num_frames_without_centering():
    assert num_frames(16_000, 160, center=False, n_fft=400) == 98
    window = torch.hann_window(N_FFT)
    spec = torch.stft(torch.randn(16_000), N_FFT, HOP, window=window, center=False,
                      return_complex=True)  # fmt: skip
    assert spec.shape[-1] == 98
    assert num_frames(100, 160, center=False, n_fft=400) == 0
    with pytest.raises(ValueError, match="n_fft"):
        num_frames(16_000, 160, center=False)


def test_frame_lengths():
    lengths = torch.tensor([16_000, 8_000, 400])
    torch.testing.assert_close(frame_lengths(lengths, 160), torch.tensor([101, 51, 3]))
    padded = torch.zeros(3, 16_000)
    assert frame_lengths(lengths, 160).max() == log_mel_spectrogram(padded).shape[-1]
    with pytest.raises(ValueError, match="non-negative integers"):
        frame_lengths(torch.tensor([1.5]), 160)


@pytest.mark.parametrize("per_band", [False, True])
def test_standardize_per_clip_or_per_band_over_valid_frames(per_band):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8, 30, generator=g, dtype=torch.float64) * 4 + 3
    lengths = torch.tensor([30, 17])
    out = standardize(x, lengths, per_band=per_band)
    for clip, valid in enumerate(lengths.tolist()):
        part = x[clip, :, :valid]
        axes = -1 if per_band else (-2, -1)
        mean = part.mean(axes, keepdim=True)
        var = part.var(axes, unbiased=False, keepdim=True)
        torch.testing.assert_close(out[clip, :, :valid], (part - mean) / (var + 1e-5).sqrt())
        assert out[clip, :, valid:].abs().sum() == 0  # padding becomes 0
    with pytest.raises(ValueError, match="max_len"):
        standardize(x, torch.tensor([31, 2]))
