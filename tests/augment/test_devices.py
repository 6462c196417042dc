"""Recording devices: each effect does what it says, keeps the length, and checks its input."""

from dataclasses import replace

import numpy as np
import pytest
from scipy import signal

from course_utils.augment import AugmentConfig, augment, colored_noise
from course_utils.augment.devices import (
    CODECS,
    clip_peaks,
    codec_roundtrip,
    mains_hum,
    microphone_response,
    resample_through,
)

SR = 16_000


def _noise(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    return (colored_noise(int(seconds * SR), "white", np.random.default_rng(seed)) * 0.1).astype(
        np.float32
    )


def _band_energy(x: np.ndarray, low: float, high: float) -> float:
    freqs, power = signal.welch(x, SR, nperseg=1024)
    return float(power[(freqs >= low) & (freqs < high)].sum())


def test_resample_through_8k_leaves_nothing_above_4k():
    x = _noise()
    y = resample_through(x, SR, 8000)
    assert y.shape == x.shape and y.dtype == np.float32
    assert _band_energy(y, 4300, 8000) < 1e-3 * _band_energy(x, 4300, 8000)
    assert _band_energy(y, 200, 3500) > 0.8 * _band_energy(x, 200, 3500)


def test_resample_through_refuses_a_higher_rate():
    with pytest.raises(ValueError, match="below sample_rate"):
        resample_through(_noise(), SR, 22_050)


def test_microphone_response_colours_the_spectrum_and_keeps_the_level():
    x = _noise()
    y = microphone_response(x, SR, np.random.default_rng(3))
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-4)
    ratio = [_band_energy(y, f, 2 * f) / _band_energy(x, f, 2 * f) for f in (250, 1000, 4000)]
    assert max(ratio) / min(ratio) > 1.5  # not a flat gain
    assert _band_energy(y, 0, 40) < _band_energy(x, 0, 40)  # the bass roll-off


def test_microphone_response_is_reproducible():
    x = _noise()
    a = microphone_response(x, SR, np.random.default_rng(7))
    b = microphone_response(x, SR, np.random.default_rng(7))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_codec_roundtrip_keeps_length_and_most_of_the_signal(codec):
    t = np.arange(SR) / SR
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y = codec_roundtrip(x, SR, codec, quality=0.5)
    assert y.shape == x.shape and y.dtype == np.float32
    assert abs(np.sqrt(np.mean(y**2)) - np.sqrt(np.mean(x**2))) < 0.05  # a tone survives


def test_codec_roundtrip_checks_its_arguments():
    with pytest.raises(ValueError, match="codec must be one of"):
        codec_roundtrip(_noise(), SR, "aac")
    with pytest.raises(ValueError, match=r"quality must be in \[0, 1\]"):
        codec_roundtrip(_noise(), SR, "opus", 1.5)
    with pytest.raises(ValueError, match="Opus needs"):
        codec_roundtrip(_noise(), 22_050, "opus")


def test_mains_hum_adds_50_or_60_hz_and_an_offset():
    x = _noise()
    y = mains_hum(x, SR, np.random.default_rng(0), level_db_range=(-10.0, -10.0))
    hum = y - x
    spectrum = np.abs(np.fft.rfft(hum - hum.mean()))
    assert np.argmax(spectrum) in (50, 60)  # 1 s of audio: bin k is k Hz
    assert abs(hum.mean()) > 0
    assert np.array_equal(mains_hum(np.zeros(SR, np.float32), SR, np.random.default_rng(0)),
                          np.zeros(SR, np.float32))  # fmt: skip


def test_clip_peaks_flattens_the_peaks():
    x = _noise()
    y = clip_peaks(x, 12.0)
    assert np.max(np.abs(y)) == 1.0
    assert np.mean(np.abs(y) == 1.0) > 0.01
    with pytest.raises(ValueError, match=">= 0"):
        clip_peaks(x, -1.0)


def test_recorded_preset_applies_device_steps_and_default_draws_none():
    x = _noise()
    seen = set()
    for seed in range(40):
        _, applied = augment(x, SR, AugmentConfig.recorded(), np.random.default_rng(seed))
        seen |= set(applied) & {"microphone", "hum", "overdrive_db", "device_rate", "codec"}
        _, default = augment(x, SR, AugmentConfig(), np.random.default_rng(seed))
        assert not set(default) & {"microphone", "hum", "overdrive_db", "device_rate", "codec"}
    assert seen == {"microphone", "hum", "overdrive_db", "device_rate", "codec"}


def test_device_steps_off_leave_the_random_stream_alone():
    """A config with every device chance at 0 gives the bytes it gave before they existed."""
    x = _noise()
    a, _ = augment(x, SR, AugmentConfig(), np.random.default_rng(11))
    off = replace(AugmentConfig(), device_rates=(8000,), codecs=("mp3",))
    b, _ = augment(x, SR, off, np.random.default_rng(11))
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"device_rates": (), "device_rate_prob": 0.5}, "device_rates is empty"),
        ({"device_rates": (2000,)}, "integers >= 4000"),
        ({"codecs": ("aac",)}, "codecs must be from"),
        ({"codec_quality_range": (0.5, 1.5)}, "codec_quality_range"),
        ({"overdrive_db_range": (-3.0, 3.0)}, "overdrive_db_range"),
        ({"hum_prob": 2.0}, "hum_prob must be in"),
    ],
)
def test_bad_device_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        AugmentConfig(**changes)
