"""Tests for course_utils.augment: each effect checked on signals with a known answer."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import signal

from course_utils.augment.perturb import change_speed, shift_pitch
from course_utils.augment.rooms import band_limit, reverberate, room_impulse_response, telephone
from course_utils.augment.waveform import (
    NOISE_COLORS,
    AugmentConfig,
    add_noise,
    apply_gain,
    augment,
    colored_noise,
    pad_or_crop,
    snr_gain,
    time_shift,
)

SR = 16_000


def tone(freq: float, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def harmonic(f0: float, seconds: float = 1.0) -> np.ndarray:
    """A voiced-speech stand-in: fundamental plus four harmonics with 1/k amplitudes."""
    t = np.arange(round(seconds * SR)) / SR
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (0.3 * wave).astype(np.float32)


def power_db(x: np.ndarray) -> float:
    return 10 * math.log10(np.mean(np.square(x, dtype=np.float64)))


def peak_frequency(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum)) * SR / x.size


@pytest.fixture
def speech_like() -> np.ndarray:
    # Harmonic "voice" with a pause, so whole-clip powers include silence.
    wave = harmonic(150.0)
    wave[6000:9000] = 0
    return wave


@pytest.mark.parametrize("color", sorted(NOISE_COLORS))
@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0, 20.0, 30.0])
def test_add_noise_reaches_requested_snr(speech_like, color, snr_db):
    noise = colored_noise(speech_like.size, color, np.random.default_rng(0))
    noisy = add_noise(speech_like, noise, snr_db)
    assert noisy.dtype == np.float32 and noisy.shape == speech_like.shape
    added = noisy.astype(np.float64) - speech_like
    assert abs(power_db(speech_like) - power_db(added) - snr_db) < 0.5
    # What was added is the given noise, scaled (and nothing else).
    scale = np.dot(added, noise) / np.dot(noise.astype(np.float64), noise)
    np.testing.assert_allclose(added, scale * noise, atol=1e-5)


def test_add_noise_tiles_short_noise(speech_like):
    short = colored_noise(1000, "white", np.random.default_rng(1))
    noisy = add_noise(speech_like, short, 10.0)
    added = noisy.astype(np.float64) - speech_like
    assert noisy.shape == speech_like.shape
    assert abs(power_db(speech_like) - power_db(added) - 10.0) < 0.5
    np.testing.assert_allclose(added[1000:2000], added[:1000], atol=1e-6)


def test_add_noise_rejects_silence():
    noise = colored_noise(100, "white", np.random.default_rng(0))
    with pytest.raises(ValueError, match="silent"):
        add_noise(np.zeros(100, dtype=np.float32), noise, 10.0)
    with pytest.raises(ValueError, match="silent"):
        add_noise(noise, np.zeros(100, dtype=np.float32), 10.0)


@pytest.mark.parametrize("gain_db", [-20.0, -6.0, 0.0, 6.0])
def test_apply_gain_is_exact(speech_like, gain_db):
    louder = apply_gain(speech_like, gain_db)
    assert louder.dtype == np.float32
    np.testing.assert_allclose(louder, speech_like * 10 ** (gain_db / 20), rtol=1e-6)
    assert abs(power_db(louder) - power_db(speech_like) - gain_db) < 1e-4


@pytest.mark.parametrize(
    ("shift", "expected"),
    [(2, [0, 0, 1, 2, 3]), (-2, [3, 4, 5, 0, 0]), (0, [1, 2, 3, 4, 5]), (7, [0] * 5)],
)
def test_time_shift_fills_with_zeros(shift, expected):
    x = np.arange(1, 6, dtype=np.float32)
    np.testing.assert_array_equal(time_shift(x, shift), np.array(expected, dtype=np.float32))


@pytest.mark.parametrize(
    ("num_samples", "offset", "expected"),
    [
        (6, 0, [1, 2, 3, 0, 0, 0]),
        (6, 2, [0, 0, 1, 2, 3, 0]),
        (4, 2, [0, 0, 1, 2]),  # end cropped
        (4, -1, [2, 3, 0, 0]),  # start cropped
        (2, 0, [1, 2]),
        (3, 5, [0, 0, 0]),  # entirely outside
    ],
)
def test_pad_or_crop_places_the_waveform(num_samples, offset, expected):
    x = np.array([1, 2, 3], dtype=np.float32)
    out = pad_or_crop(x, num_samples, offset)
    np.testing.assert_array_equal(out, np.array(expected, dtype=np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    ("color", "expected_db"), [("white", 0.0), ("pink", 10.0), ("brown", 20.0)]
)
def test_colored_noise_spectral_slope(color, expected_db):
    noise = colored_noise(10 * SR, color, np.random.default_rng(0))
    assert noise.dtype == np.float32 and noise.shape == (10 * SR,)
    assert abs(np.mean(np.square(noise, dtype=np.float64)) - 1.0) < 1e-4
    freqs, psd = signal.welch(noise, fs=SR, nperseg=4096)

    def band_power(f: float) -> float:
        return float(np.mean(psd[(freqs >= 0.8 * f) & (freqs <= 1.25 * f)]))

    # Power at 100 Hz over power at 1 kHz: one decade, 10 * alpha dB for 1/f^alpha noise.
    difference = 10 * math.log10(band_power(100.0) / band_power(1000.0))
    assert abs(difference - expected_db) < 2.5


def test_colored_noise_rejects_unknown_color():
    with pytest.raises(ValueError, match="white.*pink.*brown"):
        colored_noise(100, "blue", np.random.default_rng(0))


@pytest.mark.parametrize("rt60", [0.2, 0.5, 1.0])
def test_room_impulse_response_decays_60_db_in_rt60(rt60):
    rng = np.random.default_rng(0)
    assert room_impulse_response(SR, rt60, rng).size == round(min(rt60, 1.0) * SR)
    rir = room_impulse_response(SR, rt60, rng, length_seconds=3 * rt60, direct_to_reverb_db=0.0)
    assert rir.dtype == np.float32 and rir[0] == 1.0
    tail = rir.astype(np.float64)
    tail[0] = 0.0
    assert abs(10 * math.log10(1.0 / np.sum(tail**2))) < 0.01  # direct-to-reverb ratio 0 dB
    # Schroeder backward integration, slope fitted from -5 to -35 dB (ISO 3382's T30).
    decay_db = 10 * np.log10(np.cumsum(tail[::-1] ** 2)[::-1] / np.sum(tail**2))
    fit = (decay_db <= -5) & (decay_db >= -35)
    slope_db_per_s = np.polyfit(np.nonzero(fit)[0] / SR, decay_db[fit], 1)[0]
    assert abs(-60.0 / slope_db_per_s - rt60) < 0.2 * rt60


def test_reverberate_keeps_length_and_peak(speech_like):
    rir = room_impulse_response(SR, 0.6, np.random.default_rng(0))
    wet = reverberate(speech_like, rir)
    assert wet.shape == speech_like.shape and wet.dtype == np.float32
    assert np.max(np.abs(wet)) == pytest.approx(np.max(np.abs(speech_like)), rel=1e-6)
    assert np.mean(np.abs(wet[6500:9000])) > 1e-3  # the reverb tail fills the pause
    dry = reverberate(speech_like, np.array([1.0], dtype=np.float32))
    np.testing.assert_allclose(dry, speech_like, atol=1e-6)


@pytest.mark.parametrize(("freq", "passes"), [(100.0, False), (1000.0, True), (6000.0, False)])
def test_band_limit_passes_the_band_only(freq, passes):
    x = tone(freq)
    y = band_limit(x, SR, 300.0, 3400.0)
    assert y.shape == x.shape and y.dtype == np.float32
    gain_db = power_db(y[SR // 10 :]) - power_db(x[SR // 10 :])  # skip the onset transient
    if passes:
        assert abs(gain_db) < 1.0
    else:
        assert gain_db < -20.0


@pytest.mark.parametrize(("low", "high"), [(0.0, 3000.0), (3000.0, 300.0), (300.0, 8000.0)])
def test_band_limit_rejects_bad_cutoffs(low, high):
    with pytest.raises(ValueError, match="low_hz < high_hz"):
        band_limit(tone(1000.0), SR, low, high)


def test_telephone_band_limits_and_quantises():
    speechband = tone(1000.0, amplitude=0.3)
    out = telephone(speechband, SR)
    filtered = band_limit(speechband, SR, 300.0, 3400.0)
    quantisation_snr = power_db(filtered) - power_db(out.astype(np.float64) - filtered)
    assert 20.0 < quantisation_snr < 50.0  # mu-law at 8 bits: audible but mild
    assert power_db(telephone(tone(6000.0), SR)[SR // 10 :]) < power_db(tone(6000.0)) - 20
    silence = np.zeros(SR, dtype=np.float32)
    np.testing.assert_array_equal(telephone(silence, SR), silence)


@pytest.mark.parametrize("factor", [0.5, 0.9, 1.0, 1.1, 1.25, 2.0])
def test_change_speed_scales_duration_and_pitch(factor):
    x = tone(800.0)
    y = change_speed(x, factor)
    assert y.dtype == np.float32
    assert y.size == math.ceil(x.size / factor)
    assert peak_frequency(y) == pytest.approx(800.0 * factor, rel=0.01)


@pytest.mark.parametrize("factor", [0.4, 2.5, float("nan")])
def test_change_speed_rejects_bad_factor(factor):
    with pytest.raises(ValueError, match="factor"):
        change_speed(tone(800.0), factor)


@pytest.mark.parametrize("semitones", [12.0, -12.0, 3.0, -2.0])
def test_shift_pitch_moves_the_fundamental_and_keeps_length(semitones):
    x = harmonic(200.0)
    y = shift_pitch(x, SR, semitones)
    assert y.shape == x.shape and y.dtype == np.float32
    assert peak_frequency(y) == pytest.approx(200.0 * 2 ** (semitones / 12), rel=0.05)
    # WSOLA keeps the level: no cancellation between overlapping frames.
    assert abs(power_db(y[800:-800]) - power_db(x[800:-800])) < 1.0


def test_shift_pitch_rejects_large_shift():
    with pytest.raises(ValueError, match="semitones"):
        shift_pitch(tone(200.0), SR, 13.0)


# Every augmentation on, so determinism covers all of them.
ALL_ON = AugmentConfig(
    speed_prob=1.0,
    pitch_prob=1.0,
    reverb_prob=1.0,
    telephone_prob=0.5,
    band_limit_prob=0.5,
    noise_prob=1.0,
    gain_prob=1.0,
)


@pytest.mark.parametrize("config", [AugmentConfig.default(), ALL_ON], ids=["default", "all_on"])
def test_augment_is_deterministic(speech_like, config):
    results = [augment(speech_like, SR, config, np.random.default_rng(seed)) for seed in range(4)]
    again = [augment(speech_like, SR, config, np.random.default_rng(seed)) for seed in range(4)]
    for (out, applied), (out2, applied2) in zip(results, again, strict=True):
        assert out.tobytes() == out2.tobytes() and applied == applied2
        assert out.dtype == np.float32 and np.max(np.abs(out)) <= 1.0
    assert len({out.tobytes() for out, _ in results}) == len(results)


def test_augment_all_on_reports_every_step(speech_like):
    out, applied = augment(speech_like, SR, ALL_ON, np.random.default_rng(3))
    expected = {"speed", "pitch_semitones", "rt60", "drr_db", "noise_color", "snr_db", "gain_db"}
    assert expected <= set(applied)
    assert ("telephone" in applied) != ("band_limit_hz" in applied)
    assert out.size == math.ceil(speech_like.size / applied["speed"])


def test_augment_none_is_identity(speech_like):
    out, applied = augment(speech_like, SR, AugmentConfig.none(), np.random.default_rng(0))
    assert applied == {}
    assert out.tobytes() == speech_like.tobytes() and out is not speech_like


def test_augment_keeps_length_without_speed(speech_like):
    config = dataclasses.replace(ALL_ON, speed_prob=0.0)
    out, applied = augment(speech_like, SR, config, np.random.default_rng(0))
    assert out.shape == speech_like.shape and "speed" not in applied


def test_augment_scales_down_loud_peaks():
    loud = tone(440.0, amplitude=0.99)
    config = dataclasses.replace(AugmentConfig.none(), gain_prob=1.0, gain_db_range=(6.0, 6.0))
    out, applied = augment(loud, SR, config, np.random.default_rng(0))
    assert np.max(np.abs(out)) == 1.0
    assert applied["peak_scale"] == pytest.approx(1 / (0.99 * 10 ** (6 / 20)), rel=1e-4)
    np.testing.assert_allclose(out, loud / 0.99, atol=1e-5)  # scaled, not clipped


@pytest.mark.parametrize(
    "kwargs",
    [
        {"noise_prob": 1.5},
        {"speed_range": (0.4, 1.0)},
        {"noise_colors": ("blue",)},
        {"telephone_prob": 0.7, "band_limit_prob": 0.7},
        {"rt60_range": (0.8, 0.1)},
    ],
)
def test_augment_config_validates(kwargs):
    with pytest.raises(ValueError):
        AugmentConfig(**kwargs)


def test_augment_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AugmentConfig().noise_prob = 1.0  # type: ignore[misc]


BAD_INPUTS = [
    (np.zeros(0, dtype=np.float32), ValueError, "empty"),
    (np.array([0.1, np.nan], dtype=np.float32), ValueError, "NaN"),
    (np.zeros((2, 100), dtype=np.float32), ValueError, r"\(time,\)"),
    (np.zeros(100, dtype=np.int16), TypeError, "float"),
    ([0.1, 0.2], TypeError, "numpy"),
]
FUNCTIONS = {
    "apply_gain": lambda x: apply_gain(x, 3.0),
    "time_shift": lambda x: time_shift(x, 3),
    "pad_or_crop": lambda x: pad_or_crop(x, 10),
    "add_noise": lambda x: add_noise(x, np.ones(4, dtype=np.float32), 10.0),
    "reverberate": lambda x: reverberate(x, np.ones(4, dtype=np.float32)),
    "band_limit": lambda x: band_limit(x, SR, 300.0, 3400.0),
    "telephone": lambda x: telephone(x, SR),
    "change_speed": lambda x: change_speed(x, 1.1),
    "shift_pitch": lambda x: shift_pitch(x, SR, 2.0),
    "augment": lambda x: augment(x, SR, AugmentConfig(), np.random.default_rng(0)),
}


@pytest.mark.parametrize(("bad", "error", "message"), BAD_INPUTS)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_bad_waveforms_are_rejected(name, bad, error, message):
    with pytest.raises(error, match=message):
        FUNCTIONS[name](bad)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        colored_noise(100, "white", 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Generator"):
        augment(tone(440.0), SR, AugmentConfig(), np.random.RandomState(0))  # type: ignore


@pytest.mark.parametrize("num_samples", [1, 2, 37])
def test_very_short_clips(num_samples):
    x = np.linspace(-0.5, 0.5, num_samples, dtype=np.float32)
    assert shift_pitch(x, SR, 3.0).shape == x.shape
    assert np.any(colored_noise(num_samples, "brown", np.random.default_rng(0)))
    for seed in range(3):
        out, _ = augment(x, SR, ALL_ON, np.random.default_rng(seed))
        assert out.size >= 1 and np.all(np.isfinite(out))


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 12.5])
def test_snr_gain_reaches_the_snr_from_either_side(snr_db):
    signal_power, noise_power = 0.3, 0.02
    noise_gain, signal_gain = snr_gain(signal_power, noise_power, snr_db), snr_gain(
        signal_power, noise_power, snr_db, scale="signal")  # fmt: skip
    reached = 10 * math.log10(signal_power / (noise_power * noise_gain**2))
    assert reached == pytest.approx(snr_db, abs=1e-9)
    reached = 10 * math.log10(signal_power * signal_gain**2 / noise_power)
    assert reached == pytest.approx(snr_db, abs=1e-9)
    # One gain per example for tensors (NoiseMixer's batch path), equal to the float's.
    gains = snr_gain(torch.tensor([signal_power] * 2, dtype=torch.float64),
                     torch.tensor([noise_power] * 2, dtype=torch.float64),
                     torch.tensor([snr_db] * 2, dtype=torch.float64))  # fmt: skip
    assert gains.tolist() == [noise_gain, noise_gain]
    with pytest.raises(ValueError, match="scale"):
        snr_gain(1.0, 1.0, 0.0, scale="both")
