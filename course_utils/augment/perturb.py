"""Speed and pitch perturbation: the same voice, a little faster, slower, higher or lower.

`change_speed` resamples (tempo and pitch move together, as in Kaldi's speed perturbation);
`shift_pitch` moves the pitch but keeps the duration, with a WSOLA time stretch. Both widen
the range of voices a model hears in training. Numpy and scipy only: they run inside the
corpus workers.

Every function takes a float32 waveform of shape (time,) and returns a new float32 array.

Notebook: 05_audio_features_and_data (section "Augmentation").
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal

from ..audio import resampling_filter
from ..core import check_float_waveform, check_number, check_sample_rate

__all__ = ["change_speed", "shift_pitch"]

_WSOLA_FRAME_S = 0.032  # frame of the time stretch: a few pitch periods of speech
_WSOLA_TOLERANCE_S = 0.008  # search range, one pitch period down to 62 Hz voices


def change_speed(waveform: np.ndarray, factor: float) -> np.ndarray:
    """Play faster or slower, tempo and pitch together (Kaldi's speed perturbation).

    Args:
        waveform: float32 samples, shape (time,).
        factor: speed, 0.5 to 2; 1.1 is 10 % faster and higher. The resampling ratio is
            the nearest fraction with denominator <= 100 (exact for 0.9, 1.05, 1.1, ...).

    Returns:
        float32 array of shape (round_up(time / factor),).

    Example:
        >>> change_speed(np.zeros(16000, dtype=np.float32), 1.25).shape
        (12800,)

    Notebook: 05_audio_features_and_data.
    """
    waveform = check_float_waveform(waveform)
    factor = check_number(factor, "factor")
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"speed factor must be in [0.5, 2], got {factor:g}")
    ratio = Fraction(factor).limit_denominator(100)
    if ratio == 1:
        return waveform.copy()
    up, down = ratio.denominator, ratio.numerator  # factor p/q: keep q/p as many samples
    taps = resampling_filter(up, down, "float32")  # designed once per ratio
    return signal.resample_poly(waveform, up, down, window=taps).astype(np.float32, copy=False)


def _time_stretch(x: np.ndarray, num_samples: int, sample_rate: int) -> np.ndarray:
    """WSOLA (Verhelst and Roelands, 1993): stretch `x` to `num_samples`, keeping its pitch.

    Output frames advance by `hop`; each input frame is taken near its nominal position,
    shifted within +-tolerance to best match (cross-correlation) the natural continuation
    of the previous frame, so waveform periods line up and overlap-add does not cancel.
    """
    frame = 2 * max(2, round(_WSOLA_FRAME_S * sample_rate / 2))
    hop, tolerance = frame // 2, max(1, round(_WSOLA_TOLERANCE_S * sample_rate))
    # A periodic Hann window at 50 % overlap sums to exactly 1: no amplitude ripple.
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)).astype(np.float32)
    num_frames = -(-num_samples // hop) + 1
    # Frame k's lowest candidate start, in the padded input, where the input begins at
    # `lead`. Output and input frames both start one hop early, so the first real samples
    # get two overlapping windows as well.
    lead = tolerance + hop
    starts = np.round(np.arange(num_frames) * (hop * x.size / num_samples)).astype(np.int64)
    padded = np.zeros(
        max(int(starts[-1]) + 2 * tolerance + frame + hop + 1, lead + x.size), dtype=np.float32
    )
    padded[lead : lead + x.size] = x
    out = np.zeros((num_frames - 1) * hop + frame, dtype=np.float32)
    previous = tolerance  # frame 0: its nominal position, nothing to match yet
    out[:frame] = window * padded[previous : previous + frame]
    for k in range(1, num_frames):
        template = padded[previous + hop : previous + hop + frame]
        region = padded[starts[k] : starts[k] + 2 * tolerance + frame]
        previous = int(starts[k]) + int(np.argmax(np.correlate(region, template, "valid")))
        out[k * hop : k * hop + frame] += window * padded[previous : previous + frame]
    return out[hop : hop + num_samples]


def shift_pitch(waveform: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """Raise or lower the pitch by `semitones`, keeping the duration exactly.

    Resamples with `change_speed` (pitch and formants move together, a little like a
    different speaker), then time-stretches back with WSOLA. WSOLA is cheap (about 1 ms per
    second of audio) and clean on voiced speech; a phase vocoder would handle chords and
    noise better but smears transients and costs several times more. Very large shifts
    sound "chipmunk": for augmentation, keep to a few semitones.

    Args:
        waveform: float32 samples, shape (time,).
        sample_rate: rate in Hz (sets WSOLA's 32 ms frames).
        semitones: shift, -12 to 12; 12 doubles the fundamental frequency. Through
            `change_speed`'s rational ratio the shift lands within 0.09 semitone of this.

    Returns:
        float32 array of shape (time,), the same length as the input.

    Example:
        >>> tone = np.sin(2 * np.pi * 200 * np.arange(16000) / 16000).astype(np.float32)
        >>> shift_pitch(tone, 16000, 12.0).shape
        (16000,)

    Notebook: 05_audio_features_and_data.
    """
    waveform = check_float_waveform(waveform)
    sample_rate = check_sample_rate(sample_rate)
    semitones = check_number(semitones, "semitones")
    if not -12 <= semitones <= 12:
        raise ValueError(f"semitones must be in [-12, 12], got {semitones:g}")
    if semitones == 0:
        return waveform.copy()
    faster = change_speed(waveform, 2.0 ** (semitones / 12.0))
    return _time_stretch(faster, waveform.size, sample_rate)
