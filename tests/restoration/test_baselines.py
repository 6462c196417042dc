"""course_utils.restoration.baselines: Wiener filter, spectral subtraction, sinc interpolation."""

import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from course_utils.data import synthesize
from course_utils.restoration.baselines import sinc_upsample, spectral_subtraction, wiener_filter
from course_utils.restoration.degrade import (
    SINC_FILTER,
    add_noise_at_snr,
    band_limit,
    make_noise,
    measured_snr,
)

DENOISERS = [wiener_filter, spectral_subtraction]


def _tones(num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """A few partials switched on for 0.3 s, off for 0.2 s: speech-like gaps of silence."""
    t = np.arange(num_samples) / 16000
    partials = (220, 440, 660, 1320, 2500)
    wave = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) / (k + 1)
               for k, f in enumerate(partials))  # fmt: skip
    return (0.3 * wave * ((t % 0.5) < 0.3)).astype(np.float32)


@pytest.mark.parametrize("denoise", DENOISERS, ids=lambda f: f.__name__)
def test_denoisers_raise_the_snr_of_tones_in_white_noise(denoise):
    rng = np.random.default_rng(0)
    clean = _tones(32000, rng)
    noisy = add_noise_at_snr(clean, make_noise("white", clean.size, rng), 5.0)
    restored = denoise(noisy)
    assert restored.dtype == np.float32 and restored.shape == clean.shape
    assert measured_snr(clean, restored) > measured_snr(clean, noisy) + 3.0


@pytest.mark.parametrize("length", [16001, 12345])
@pytest.mark.parametrize("denoise", DENOISERS, ids=lambda f: f.__name__)
def test_denoisers_keep_odd_lengths(denoise, length):
    noisy = np.random.default_rng(1).standard_normal(length).astype(np.float32)
    assert denoise(noisy).shape == (length,)


@pytest.mark.parametrize("denoise", DENOISERS, ids=lambda f: f.__name__)
def test_clean_speech_passes_nearly_unchanged(denoise):
    speech = synthesize("turn on the kitchen lights", sample_rate=16000).astype(np.float32)
    assert measured_snr(speech, denoise(speech)) > 20.0


def test_sinc_upsample_is_what_band_limit_returns():
    speech = synthesize("move left five steps", sample_rate=16000).astype(np.float32)
    low = AF.resample(torch.from_numpy(speech), 16000, 8000, **SINC_FILTER).numpy()
    up = sinc_upsample(low)
    assert up.dtype == np.float32 and up.size == 2 * low.size
    np.testing.assert_allclose(up[: speech.size], band_limit(speech), atol=1e-6)


def test_bad_input_is_explained():
    noisy = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    with pytest.raises(ValueError, match=r"\(time,\)"):
        wiener_filter(np.stack([noisy, noisy]))
    with pytest.raises(TypeError, match="float samples"):
        spectral_subtraction(np.ones(4000, dtype=np.int16))
    with pytest.raises(ValueError, match="NaN"):
        wiener_filter(np.full(4000, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="16000 Hz"):
        wiener_filter(noisy, sample_rate=8000)
    with pytest.raises(ValueError, match="hop must be at most"):
        wiener_filter(noisy, n_fft=512, hop=300)
    with pytest.raises(ValueError, match="more than n_fft / 2"):
        spectral_subtraction(noisy[:200])
    with pytest.raises(ValueError, match="noise_frames"):
        wiener_filter(noisy, noise_frames=0.0)
    with pytest.raises(ValueError, match="gain_floor_db"):
        wiener_filter(noisy, gain_floor_db=3.0)
    with pytest.raises(ValueError, match="alpha"):
        wiener_filter(noisy, alpha=1.0)
    with pytest.raises(ValueError, match="over_subtraction"):
        spectral_subtraction(noisy, over_subtraction=0.5)
    with pytest.raises(ValueError, match="floor"):
        spectral_subtraction(noisy, floor=1.5)
    with pytest.raises(ValueError, match="from_rate"):
        sinc_upsample(noisy, from_rate=16000)
