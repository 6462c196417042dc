"""Rooms and channels: synthetic reverberation, band-limiting and the telephone line.

Clean synthetic speech sounds like it was recorded in an anechoic chamber through a perfect
microphone. These functions put it in a room (a synthetic impulse response), behind a
band-limited microphone, or on a phone line, which is what real recordings sound like.
Numpy and scipy only: they run inside the corpus workers.

Every function takes a float32 waveform of shape (time,) and returns a new float32 array.

Notebook: 05_audio_features_and_data (section "Augmentation").
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import signal

from ..core import check_float_waveform, check_integer, check_number, check_rng, check_sample_rate

__all__ = ["TELEPHONE_BAND_HZ", "band_limit", "reverberate", "room_impulse_response", "telephone"]

TELEPHONE_BAND_HZ = (300.0, 3400.0)  # ITU-T G.712 narrowband telephone channel
_MU = 255.0  # mu-law constant of ITU-T G.711 (8-bit telephony)
_PRE_DELAY_S = 0.005  # gap between the direct path and the first reflections


def room_impulse_response(
    sample_rate: int,
    rt60: float,
    rng: np.random.Generator,
    length_seconds: float | None = None,
    direct_to_reverb_db: float = 3.0,
) -> np.ndarray:
    """A synthetic room: a unit direct path, a short gap, then exponentially decaying noise.

    The tail's amplitude follows exp(-3 ln(10) t / rt60), so its energy falls 60 dB in
    `rt60` seconds (Sabine's definition); Gaussian noise stands in for the dense late
    reflections of a real room (the statistical model of Polack, 1993).

    Args:
        sample_rate: rate in Hz.
        rt60: reverberation time in seconds, 0 < rt60 <= 10 (0.3 a living room, 1+ a hall).
        rng: the only source of randomness.
        length_seconds: length of the response (default min(rt60, 1.0)).
        direct_to_reverb_db: energy of the direct path over the tail's, in dB (default 3.0).

    Returns:
        float32 array of shape (time,) with rir[0] == 1 (the direct path).

    Example:
        >>> rir = room_impulse_response(16000, 0.4, np.random.default_rng(0))
        >>> rir.shape, float(rir[0])
        ((6400,), 1.0)

    Notebook: 05_audio_features_and_data.
    """
    sample_rate = check_sample_rate(sample_rate)
    rt60 = check_number(rt60, "rt60")
    if not 0 < rt60 <= 10:
        raise ValueError(f"rt60 must be in (0, 10] seconds, got {rt60}")
    drr_db = check_number(direct_to_reverb_db, "direct_to_reverb_db")
    check_rng(rng)
    length = min(rt60, 1.0) if length_seconds is None else length_seconds
    num_samples = round(check_number(length, "length_seconds") * sample_rate)
    pre_delay = max(1, round(_PRE_DELAY_S * sample_rate))
    if num_samples <= pre_delay + 1:
        raise ValueError(f"length_seconds must exceed the {_PRE_DELAY_S * 1e3:g} ms pre-delay")
    time = np.arange(pre_delay, num_samples, dtype=np.float32) / np.float32(sample_rate)
    tail = rng.standard_normal(time.size, dtype=np.float32)
    tail *= np.exp(np.float32(-3 * math.log(10) / rt60) * time)
    tail *= np.float32(
        math.sqrt(
            10.0 ** (-drr_db / 10.0)
            / (float(np.mean(np.square(tail, dtype=np.float64))) * tail.size)
        )
    )
    rir = np.zeros(num_samples, dtype=np.float32)
    rir[0], rir[pre_delay:] = 1.0, tail
    return rir


def reverberate(waveform: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with a room impulse response, keep the input's length and peak.

    Args:
        waveform: float32 samples, shape (time,).
        rir: impulse response, shape (rir_time,), e.g. from `room_impulse_response`.

    Returns:
        float32 array of shape (time,): the reverberant signal, truncated (the tail after the
        clip is dropped) and rescaled to the input's peak so loudness does not explode.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> from course_utils.augment import colored_noise
        >>> wet = reverberate(colored_noise(8000, "white", rng), room_impulse_response(
        ...     16000, 0.3, rng))

    Notebook: 05_audio_features_and_data.
    """
    waveform, rir = check_float_waveform(waveform), check_float_waveform(rir, "rir")
    wet = signal.fftconvolve(waveform, rir)[: waveform.size].astype(np.float32, copy=False)
    peak_in, peak_out = np.max(np.abs(waveform)), np.max(np.abs(wet))
    return wet * np.float32(peak_in / peak_out) if peak_out > 0 else wet


@functools.lru_cache(maxsize=64)
def _band_pass(sample_rate: int, low_hz: float, high_hz: float, order: int) -> np.ndarray:
    # Designing takes longer than filtering a clip, and a corpus uses few distinct bands.
    # Left writeable: sosfilt's memoryview refuses read-only arrays (it never modifies them).
    return signal.butter(order, (low_hz, high_hz), btype="bandpass", fs=sample_rate, output="sos")


def band_limit(
    waveform: np.ndarray, sample_rate: int, low_hz: float, high_hz: float, order: int = 4
) -> np.ndarray:
    """Butterworth band-pass filter (causal, like a real channel), as second-order sections.

    Args:
        waveform: float32 samples, shape (time,).
        sample_rate: rate in Hz.
        low_hz: lower cutoff (-3 dB), 0 < low_hz < high_hz.
        high_hz: upper cutoff (-3 dB), below sample_rate / 2.
        order: Butterworth order (default 4; the band-pass has twice as many poles).

    Returns:
        float32 array of shape (time,).

    Example:
        >>> from course_utils.augment import colored_noise
        >>> noise = colored_noise(16000, "white", np.random.default_rng(0))
        >>> band_limit(noise, 16000, 300.0, 3400.0).shape
        (16000,)

    Notebook: 05_audio_features_and_data.
    """
    waveform = check_float_waveform(waveform)
    sample_rate = check_sample_rate(sample_rate)
    low_hz, high_hz = check_number(low_hz, "low_hz"), check_number(high_hz, "high_hz")
    order = check_integer(order, "order", minimum=1)
    if not 0 < low_hz < high_hz < sample_rate / 2:
        raise ValueError(
            f"need 0 < low_hz < high_hz < sample_rate / 2 = {sample_rate / 2:g} Hz,"
            f" got low_hz={low_hz:g}, high_hz={high_hz:g}"
        )
    sos = _band_pass(sample_rate, low_hz, high_hz, order)
    return signal.sosfilt(sos, waveform).astype(np.float32)


def telephone(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """Sound like a phone line: 300-3400 Hz band-pass, then 8-bit mu-law coding (G.711).

    Mu-law spends its 8 bits logarithmically, so quiet passages keep detail while the
    quantisation noise follows the signal's level, as it does on a real line.

    Args:
        waveform: float32 samples in [-1, 1], shape (time,).
        sample_rate: rate in Hz; above 6800 Hz so that the 3400 Hz edge exists.

    Returns:
        float32 array of shape (time,).

    Example:
        >>> from course_utils.augment import colored_noise
        >>> noise = colored_noise(16000, "pink", np.random.default_rng(0))
        >>> telephone(0.1 * noise, 16000).dtype
        dtype('float32')

    Notebook: 05_audio_features_and_data.
    """
    filtered = band_limit(waveform, sample_rate, *TELEPHONE_BAND_HZ).astype(np.float64)
    scale = max(float(np.max(np.abs(filtered))), 1.0)  # mu-law expects samples in [-1, 1]
    x = filtered / scale
    encoded = np.sign(x) * np.log1p(_MU * np.abs(x)) / np.log1p(_MU)
    encoded = np.round(encoded * 127.0) / 127.0  # 255 symmetric levels: silence stays 0
    decoded = np.sign(encoded) * np.expm1(np.abs(encoded) * np.log1p(_MU)) / _MU
    return (decoded * scale).astype(np.float32)
