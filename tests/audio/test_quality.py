"""course_utils.audio.quality: STOI, PESQ, SI-SDR, mel and log-spectral distances, errors."""

import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from course_utils.audio.quality import (
    log_spectral_distance,
    mel_distance,
    pesq_wb,
    quality_scores,
    si_sdr,
    stoi,
)
from course_utils.data import synthesize


@pytest.fixture(scope="module")
def speech():
    return synthesize("turn on the kitchen lights", sample_rate=16000).astype(np.float32)


def test_si_sdr_hand_worked_case():
    # estimate = 2 s + e with e orthogonal to s: the scaled target is 2 s, the error e.
    t = np.arange(1000)
    s = np.sin(2 * np.pi * t / 50)
    e = 0.1 * np.cos(2 * np.pi * t / 50)  # orthogonal to s over whole periods
    expected = 10 * np.log10(np.sum((2 * s) ** 2) / np.sum(e**2))  # = 10 log10(400) = 26.02
    assert si_sdr(s, 2 * s + e) == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(26.0206, abs=1e-4)


def test_si_sdr_ignores_gain_and_offset_but_not_noise():
    rng = np.random.default_rng(0)
    s = rng.standard_normal(4000)
    noisy = s + 0.1 * rng.standard_normal(4000)
    assert si_sdr(s, 3.0 * noisy + 0.5) == pytest.approx(si_sdr(s, noisy), abs=1e-9)
    assert si_sdr(s, noisy) == pytest.approx(20.0, abs=0.5)


def test_identical_signals_score_perfectly(speech):
    assert stoi(speech, speech, 16000) == pytest.approx(1.0, abs=1e-6)
    assert pesq_wb(speech, speech) > 4.5
    assert mel_distance(speech, speech, 16000) == 0.0


def test_more_noise_scores_worse_on_every_measure(speech):
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(len(speech)).astype(np.float32) * speech.std()
    light, heavy = (quality_scores(speech, speech + g * noise) for g in (0.05, 0.5))
    assert light["stoi"] > heavy["stoi"] and light["pesq"] > heavy["pesq"]
    assert light["si_sdr"] > heavy["si_sdr"] and light["mel_distance"] < heavy["mel_distance"]


def test_bad_input_is_explained(speech):
    with pytest.raises(ValueError, match="same length"):
        stoi(speech, speech[:-10], 16000)
    with pytest.raises(ValueError, match="16000 Hz"):
        pesq_wb(speech, speech, 8000)
    with pytest.raises(ValueError, match="silent"):
        si_sdr(np.zeros(100), np.ones(100))
    with pytest.raises(ValueError, match="NaN"):
        mel_distance(speech, np.full_like(speech, np.nan), 16000)
    with pytest.raises(ValueError, match=r"\(time,\)"):
        stoi(np.stack([speech, speech]), np.stack([speech, speech]), 16000)


def test_log_spectral_distance_of_a_signal_with_itself_is_zero(speech):
    assert log_spectral_distance(speech, speech, 16000) == 0.0
    assert log_spectral_distance(speech, speech, 16000, band=(4000, 8000)) == 0.0


def test_log_spectral_distance_hand_worked_case():
    # 2x has 4x the power in every bin: |log10 P - log10 4P| = log10 4 = 2 log10 2 everywhere.
    x = np.random.default_rng(0).standard_normal(16000)
    expected = 2 * np.log10(2)
    assert expected == pytest.approx(0.60206, abs=1e-5)
    assert log_spectral_distance(x, 2 * x, 16000) == pytest.approx(expected, abs=1e-6)
    band = log_spectral_distance(x, 2 * x, 16000, band=(1000, 3000), n_fft=512, hop=128)
    assert band == pytest.approx(expected, abs=1e-6)


def test_log_spectral_distance_sees_the_lost_high_band(speech):
    low = AF.resample(torch.from_numpy(speech), 16000, 8000)
    limited = AF.resample(low, 8000, 16000)[: speech.size].numpy()
    high_band = log_spectral_distance(speech, limited, 16000, band=(4000, 8000))
    low_band = log_spectral_distance(speech, limited, 16000, band=(0, 3500))
    assert high_band > 1.0 and low_band < 0.1 and high_band > 10 * low_band
    full = log_spectral_distance(speech, limited, 16000)
    assert low_band < full < high_band


def test_log_spectral_distance_bad_band_is_explained(speech):
    for band in [(4000, 9000), (-1, 4000), (5000, 4000), (4000, 4000)]:
        with pytest.raises(ValueError, match="sample_rate / 2 = 8000 Hz"):
            log_spectral_distance(speech, speech, 16000, band=band)
    with pytest.raises(ValueError, match="no STFT bin"):
        log_spectral_distance(speech, speech, 16000, band=(1001, 1005))
    with pytest.raises(ValueError, match="low_hz, high_hz"):
        log_spectral_distance(speech, speech, 16000, band=4000)
    with pytest.raises(ValueError, match="same length"):
        log_spectral_distance(speech, speech[:-1], 16000)
