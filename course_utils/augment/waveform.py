"""Waveform augmentation: gain, placement, noise, and the recipe that combines everything.

The course corpus is synthetic speech; augmentation is what makes clean eSpeak voices sound
like recordings made in real rooms, through real microphones and phone lines (COURSE.md,
section 3). Everything here is numpy and scipy only, because it runs inside the corpus
worker processes, which must not use torch, and it is cheap: all augmentation of a one-second
16 kHz clip costs about a millisecond on one core. Randomness comes only from an explicit
`numpy.random.Generator`, so the same generator state gives the same samples, byte for byte.

Rooms and channels live in `course_utils.augment.rooms`, recording devices in
`course_utils.augment.devices`, speed and pitch in `course_utils.augment.perturb`; `augment`
applies them all with the probabilities of an `AugmentConfig`. Every function takes a float32
waveform of shape (time,) and returns a new float32 array.

Notebook: 05_audio_features_and_data (section "Augmentation").
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields

import numpy as np
from scipy import fft as sp_fft

from ..core import check_float_waveform, check_integer, check_number, check_rng, check_sample_rate
from . import devices
from .perturb import change_speed, shift_pitch
from .rooms import TELEPHONE_BAND_HZ, band_limit, reverberate, room_impulse_response, telephone

__all__ = [
    "NOISE_COLORS",
    "AugmentConfig",
    "add_noise",
    "apply_gain",
    "augment",
    "colored_noise",
    "pad_or_crop",
    "snr_gain",
    "time_shift",
]

# Exponent alpha of the 1/f^alpha power spectrum for each noise color.
NOISE_COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}


def _power(waveform: np.ndarray) -> float:
    """Mean of squares, accumulated in float64 so long clips stay exact."""
    return float(np.mean(np.square(waveform, dtype=np.float64)))


def apply_gain(waveform: np.ndarray, gain_db: float) -> np.ndarray:
    """Scale the waveform by `gain_db` decibels (amplitude factor 10^(gain_db / 20)).

    Args:
        waveform: float32 samples, shape (time,).
        gain_db: gain in dB; negative values make it quieter.

    Returns:
        float32 array of shape (time,). No clipping: the caller decides what to do with peaks.

    Example:
        >>> apply_gain(np.full(4, 0.1, dtype=np.float32), 20.0)
        array([1., 1., 1., 1.], dtype=float32)

    Notebook: 05_audio_features_and_data.
    """
    waveform = check_float_waveform(waveform)
    gain = 10.0 ** (check_number(gain_db, "gain_db") / 20.0)
    return waveform * np.float32(gain)


def pad_or_crop(waveform: np.ndarray, num_samples: int, offset: int = 0) -> np.ndarray:
    """Place the waveform at `offset` inside `num_samples` zeros, cropping what falls outside.

    Args:
        waveform: float32 samples, shape (time,).
        num_samples: length of the result, e.g. 16000 for a one-second clip at 16 kHz.
        offset: index where the first sample lands; negative values crop the start.

    Returns:
        float32 array of shape (num_samples,).

    Example:
        >>> pad_or_crop(np.ones(2, dtype=np.float32), 5, offset=2)
        array([0., 0., 1., 1., 0.], dtype=float32)

    Notebook: 05_audio_features_and_data.
    """
    waveform = check_float_waveform(waveform)
    num_samples = check_integer(num_samples, "num_samples", minimum=1)
    offset = check_integer(offset, "offset")
    out = np.zeros(num_samples, dtype=np.float32)
    start, source = max(offset, 0), max(-offset, 0)
    count = min(waveform.size - source, num_samples - start)
    if count > 0:
        out[start : start + count] = waveform[source : source + count]
    return out


def time_shift(waveform: np.ndarray, shift_samples: int) -> np.ndarray:
    """Delay (positive) or advance (negative) the waveform, filling with zeros (not circular).

    Args:
        waveform: float32 samples, shape (time,).
        shift_samples: samples to move by; positive means later.

    Returns:
        float32 array of shape (time,), the same length as the input.

    Example:
        >>> time_shift(np.array([1, 2, 3], dtype=np.float32), 1)
        array([0., 1., 2.], dtype=float32)

    Notebook: 05_audio_features_and_data.
    """
    waveform = check_float_waveform(waveform)
    return pad_or_crop(waveform, waveform.size, check_integer(shift_samples, "shift_samples"))


@functools.lru_cache(maxsize=32)
def _noise_shape(num_samples: int, alpha: float) -> np.ndarray:
    # Amplitude ~ f^(-alpha/2) gives power ~ f^(-alpha); bin index stands in for frequency
    # because unit-RMS normalisation cancels any constant. DC is dropped: 1/f is infinite there.
    bins = np.arange(num_samples // 2 + 1, dtype=np.float32)
    bins[0] = np.inf
    shape = bins ** np.float32(-alpha / 2)
    shape.flags.writeable = False
    return shape


def colored_noise(num_samples: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """White, pink or brown Gaussian noise with unit RMS, shaped in the frequency domain.

    Args:
        num_samples: length of the noise.
        color: "white" (flat), "pink" (power ~ 1/f, -10 dB per decade) or "brown" (1/f^2).
        rng: the only source of randomness.

    Returns:
        float32 array of shape (num_samples,) with mean of squares 1.

    Example:
        >>> noise = colored_noise(16000, "pink", np.random.default_rng(0))
        >>> noise.shape
        (16000,)

    Notebook: 05_audio_features_and_data.
    """
    if color not in NOISE_COLORS:
        raise ValueError(f"unknown noise color {color!r}; expected one of {list(NOISE_COLORS)}")
    num_samples = check_integer(num_samples, "num_samples", minimum=1)
    check_rng(rng)
    noise = rng.standard_normal(num_samples, dtype=np.float32)
    if NOISE_COLORS[color] > 0 and num_samples > 1:  # one sample has no spectrum to shape
        spectrum = sp_fft.rfft(noise) * _noise_shape(num_samples, NOISE_COLORS[color])
        noise = sp_fft.irfft(spectrum, n=num_samples).astype(np.float32, copy=False)
    rms = math.sqrt(_power(noise))
    return noise / np.float32(rms) if rms > 0 else noise


def snr_gain(signal_power, noise_power, snr_db, scale: str = "noise"):
    """The amplitude gain that mixes a signal and a noise at `snr_db`: the course's SNR formula.

    SNR = 10 log10(P_signal / P_noise), powers being means of squares. Scaling the noise by
    sqrt(P_signal / (P_noise 10^(SNR / 10))) reaches it with the signal unchanged
    (``scale="noise"``, as `add_noise` and `NoiseMixer`); scaling the signal by
    sqrt(P_noise 10^(SNR / 10) / P_signal) reaches it with the noise unchanged
    (``scale="signal"``, as lesson 07's scenes place events over their background).

    Args:
        signal_power, noise_power: mean squares, positive: floats, or torch tensors of one
            power per example (the batch path of `NoiseMixer`).
        snr_db: the wanted SNR in dB: a float, or a tensor like the powers.
        scale: which of the two gets the gain, "noise" (default) or "signal".

    Returns:
        the gain: a float, or a tensor for tensor powers.

    Example:
        >>> round(snr_gain(1.0, 1.0, 20.0), 6), round(snr_gain(1.0, 1.0, 20.0, "signal"), 6)
        (0.1, 10.0)

    Notebook: 06_audio_classification (exercise "mix at an SNR").
    """
    if scale == "noise":
        ratio = signal_power / (noise_power * 10 ** (snr_db / 10))
    elif scale == "signal":
        ratio = noise_power * 10 ** (snr_db / 10) / signal_power
    else:
        raise ValueError(f"scale must be 'noise' or 'signal', got {scale!r}")
    sqrt = getattr(ratio, "sqrt", None)  # a torch tensor: one gain per example
    return sqrt() if sqrt is not None else math.sqrt(ratio)


def add_noise(waveform: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add `noise` scaled so that 10 log10(P_signal / P_noise) equals `snr_db`.

    Powers are means of squares over the whole clip, so pauses count as part of the signal.

    Args:
        waveform: float32 samples, shape (time,); must not be silent.
        noise: float32 samples, shape (noise_time,); tiled or cropped to the waveform's length.
        snr_db: signal-to-noise ratio in dB (0 dB: as loud as the signal).

    Returns:
        float32 array of shape (time,): waveform + scaled noise (peaks may exceed 1).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> tone = np.sin(np.arange(16000, dtype=np.float32) * 0.1)
        >>> noisy = add_noise(tone, colored_noise(16000, "white", rng), snr_db=10.0)

    Notebook: 05_audio_features_and_data.
    """
    waveform, noise = check_float_waveform(waveform), check_float_waveform(noise, "noise")
    snr_db = check_number(snr_db, "snr_db")
    if noise.size != waveform.size:
        noise = np.resize(noise, waveform.size)  # repeats (tiles) or crops
    signal_power, noise_power = _power(waveform), _power(noise)
    if signal_power == 0:
        raise ValueError("waveform is silent (all zeros), so an SNR is undefined")
    if noise_power == 0:
        raise ValueError("noise is silent (all zeros) over the waveform's length")
    return waveform + np.float32(snr_gain(signal_power, noise_power, snr_db)) * noise


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of each augmentation; `augment` applies them in field order.

    Ranges are (low, high) and drawn uniformly. Presets: `AugmentConfig.default()`
    (moderate, the corpus default), `AugmentConfig.recorded()` (plus recording devices) and
    `AugmentConfig.none()` (no augmentation at all).
    """

    speed_prob: float = 0.3  # chance of speed perturbation (tempo and pitch together)
    speed_range: tuple[float, float] = (0.9, 1.1)  # factor, rounded to 0.01 to reuse filters
    pitch_prob: float = 0.2  # chance of a pitch shift that keeps the duration
    semitone_range: tuple[float, float] = (-2.0, 2.0)  # rounded to 0.1 semitone
    reverb_prob: float = 0.3  # chance of a synthetic room
    rt60_range: tuple[float, float] = (0.1, 0.8)  # seconds for the tail to fall 60 dB
    drr_db_range: tuple[float, float] = (0.0, 10.0)  # direct-to-reverberant energy, dB
    telephone_prob: float = 0.1  # chance of the phone line (300-3400 Hz plus mu-law)
    band_limit_prob: float = 0.1  # chance of a band-pass from band_limits_hz instead
    band_limits_hz: tuple[tuple[float, float], ...] = ((100.0, 4000.0), (60.0, 5500.0))
    noise_prob: float = 0.5  # chance of additive colored noise (never on silent clips)
    snr_db_range: tuple[float, float] = (0.0, 30.0)  # signal-to-noise ratio, whole clip
    noise_colors: tuple[str, ...] = ("white", "pink", "brown")  # chosen uniformly
    gain_prob: float = 1.0  # chance of a gain change (levels of real recordings vary)
    gain_db_range: tuple[float, float] = (-6.0, 6.0)
    # The recording device (`course_utils.augment.devices`), off unless a preset turns it on;
    # a step whose chance is 0 draws nothing, so configs without it give the same bytes.
    microphone_prob: float = 0.0  # chance of a random microphone response (before the noise)
    hum_prob: float = 0.0  # chance of mains hum and a DC offset
    clip_prob: float = 0.0  # chance of clipping, driven overdrive_db_range past full scale
    overdrive_db_range: tuple[float, float] = (1.0, 12.0)
    device_rate_prob: float = 0.0  # chance of recording at one of device_rates Hz
    device_rates: tuple[int, ...] = (8000, 11025, 12000)
    codec_prob: float = 0.0  # chance of a lossy codec, one of codecs, then decoding
    codecs: tuple[str, ...] = ("opus", "mp3", "vorbis")
    codec_quality_range: tuple[float, float] = (0.3, 0.95)  # libsndfile compression level

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("_prob") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{field.name} must be in [0, 1], got {value!r}")
            if field.name.endswith("_range") and not (len(value) == 2 and value[0] <= value[1]):
                raise ValueError(f"{field.name} must be (low, high), low <= high, got {value!r}")
        if self.telephone_prob + self.band_limit_prob > 1.0:
            raise ValueError("telephone_prob + band_limit_prob must not exceed 1")
        checks = (
            ("speed_range", 0.5 <= self.speed_range[0] and self.speed_range[1] <= 2.0, "[0.5, 2]"),
            (
                "semitone_range",
                -12 <= self.semitone_range[0] and self.semitone_range[1] <= 12,
                "[-12, 12]",
            ),
            ("rt60_range", 0 < self.rt60_range[0] and self.rt60_range[1] <= 10, "(0, 10] s"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"{name} must lie in {allowed}, got {getattr(self, name)!r}")
        devices.check_settings(self)
        unknown = [color for color in self.noise_colors if color not in NOISE_COLORS]
        if unknown or (self.noise_prob > 0 and not self.noise_colors):
            raise ValueError(f"noise_colors must be from {list(NOISE_COLORS)}, got {unknown}")
        if self.band_limit_prob > 0 and not self.band_limits_hz:
            raise ValueError("band_limits_hz is empty but band_limit_prob > 0")
        for low, high in self.band_limits_hz:
            if not 0 < low < high:
                raise ValueError(f"band_limits_hz needs 0 < low < high, got {(low, high)}")

    @classmethod
    def default(cls) -> AugmentConfig:
        """Moderate augmentation: what the course corpus uses."""
        return cls()

    @classmethod
    def recorded(cls) -> AugmentConfig:
        """The default plus a recording device: microphones, 8-12 kHz cards, codecs, hum, clipping.

        What lesson 06's and lesson 08's corpora use, so that models trained on synthetic
        voices hear real recordings (the ablation of `python -m benchmarks realspeech`).
        """
        return cls(band_limit_prob=0.2, band_limits_hz=((60.0, 3700.0), (100.0, 5500.0),
                   (150.0, 7000.0)), microphone_prob=0.8, hum_prob=0.2, clip_prob=0.1,
                   device_rate_prob=0.3, codec_prob=0.2)  # fmt: skip

    @classmethod
    def none(cls) -> AugmentConfig:
        """No augmentation at all: `augment` returns a copy of its input."""
        return cls(**{f.name: 0.0 for f in fields(cls) if f.name.endswith("_prob")})


def augment(
    waveform: np.ndarray, sample_rate: int, config: AugmentConfig, rng: np.random.Generator
) -> tuple[np.ndarray, dict]:
    """Apply random augmentations in a fixed order: speed, pitch, room, channel, noise, device.

    The device steps (microphone before the noise; hum, clipping, rate and codec after the
    gain) are those of `course_utils.augment.devices`. Each step happens with its
    probability in `config`. If the final peak exceeds 1, the
    whole clip is scaled down (never clipped) and the factor is reported as "peak_scale".

    Args:
        waveform: float32 samples in [-1, 1], shape (time,).
        sample_rate: rate in Hz.
        config: probabilities and ranges, e.g. `AugmentConfig.default()`.
        rng: the only source of randomness: the same state gives the same bytes.

    Returns:
        (augmented, applied): float32 array of shape (time,), or (time / speed,) when speed
        perturbation fired; and a JSON-ready dict of what was applied, e.g.
        {"speed": 1.05, "rt60": 0.41, "drr_db": 6.2, "noise_color": "pink", "snr_db": 12.3}.

    Example:
        >>> wave = colored_noise(16000, "pink", np.random.default_rng(1)) * 0.1
        >>> out, applied = augment(wave, 16000, AugmentConfig(), np.random.default_rng(0))

    Notebook: 05_audio_features_and_data.
    """
    out = check_float_waveform(waveform).copy()
    sample_rate = check_sample_rate(sample_rate)
    if not isinstance(config, AugmentConfig):
        raise TypeError(f"config must be an AugmentConfig, got {type(config).__name__}")
    check_rng(rng)
    if config.telephone_prob > 0 and sample_rate <= 2 * TELEPHONE_BAND_HZ[1]:
        raise ValueError(f"telephone needs sample_rate > 6800 Hz, got {sample_rate}")
    applied: dict = {}
    if rng.random() < config.speed_prob:
        applied["speed"] = round(float(rng.uniform(*config.speed_range)), 2)
        out = change_speed(out, applied["speed"])
    if rng.random() < config.pitch_prob:
        applied["pitch_semitones"] = round(float(rng.uniform(*config.semitone_range)), 1)
        out = shift_pitch(out, sample_rate, applied["pitch_semitones"])
    if rng.random() < config.reverb_prob:
        applied["rt60"] = float(rng.uniform(*config.rt60_range))
        applied["drr_db"] = float(rng.uniform(*config.drr_db_range))
        rir = room_impulse_response(
            sample_rate, applied["rt60"], rng, direct_to_reverb_db=applied["drr_db"]
        )
        out = reverberate(out, rir)
    channel = rng.random()
    if channel < config.telephone_prob:
        applied["telephone"] = True
        out = telephone(out, sample_rate)
    elif channel < config.telephone_prob + config.band_limit_prob:
        low, high = config.band_limits_hz[int(rng.integers(len(config.band_limits_hz)))]
        high = min(high, 0.45 * sample_rate)  # keep the edge below Nyquist at low rates
        applied["band_limit_hz"] = [float(low), float(high)]
        out = band_limit(out, sample_rate, low, high)
    if config.microphone_prob > 0 and rng.random() < config.microphone_prob:
        applied["microphone"] = True
        out = devices.microphone_response(out, sample_rate, rng)
    if rng.random() < config.noise_prob and np.any(out):
        colors = config.noise_colors
        applied["noise_color"] = str(colors[int(rng.integers(len(colors)))])
        applied["snr_db"] = float(rng.uniform(*config.snr_db_range))
        noise = colored_noise(out.size, applied["noise_color"], rng)
        out = add_noise(out, noise, applied["snr_db"])
    if rng.random() < config.gain_prob:
        applied["gain_db"] = float(rng.uniform(*config.gain_db_range))
        out = apply_gain(out, applied["gain_db"])
    out = devices.record(out, sample_rate, config, rng, applied)
    peak = float(np.max(np.abs(out)))
    if peak > 1.0:
        applied["peak_scale"] = 1.0 / peak
        out = out / np.float32(peak)  # correctly rounded division: the peak lands on 1 exactly
    return out, applied
