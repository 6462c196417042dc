"""The synthetic sound events of lesson 07's scenes: tones, chirps, click trains, noise bursts.

Each is drawn from a generator (duration, pitch, sweep, rate, band), faded in and out so its
edges make no click of their own, and scaled to a peak of about 1.

Notebook: 07_sound_event_detection.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

__all__ = ["EVENT_SECONDS", "FADE_SECONDS", "fade", "synth_event"]

EVENT_SECONDS = {  # (shortest, longest) duration of each synthetic class, seconds
    "tone": (0.3, 1.5),
    "chirp": (0.3, 1.5),
    "clicks": (0.3, 1.0),
    "noise_burst": (0.2, 1.0),
}
FADE_SECONDS = 0.01  # raised-cosine fade in and out


def fade(event: np.ndarray, sample_rate: int) -> np.ndarray:
    """Raised-cosine fades in and out: no click at the edges (a click would be a second event)."""
    n = min(round(FADE_SECONDS * sample_rate), event.size // 2)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32))
    event[:n] *= ramp
    event[event.size - n :] *= ramp[::-1]
    return event


def synth_event(label: str, rng: np.random.Generator, sr: int) -> np.ndarray:
    """One synthetic event as float32 (time,), peak about 1."""
    seconds = rng.uniform(*EVENT_SECONDS[label])
    t = np.arange(round(seconds * sr), dtype=np.float64) / sr
    if label == "tone":  # f0 with 3-5 partials of falling amplitude, no vibrato: steady
        f0 = math.exp(rng.uniform(math.log(250), math.log(1200)))
        partials = [k for k in range(1, int(rng.integers(3, 6)) + 1) if k * f0 < 0.45 * sr]
        wave = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) / k for k in partials)
    elif label == "chirp":  # exponential sweep over 1-3 octaves, up or down
        low = math.exp(rng.uniform(math.log(300), math.log(1500)))
        high = low * 2 ** rng.uniform(1, 3)
        f_start, f_end = (low, high) if rng.random() < 0.5 else (high, low)
        rate = math.log(f_end / f_start) / seconds
        wave = np.sin(2 * np.pi * f_start * (np.exp(rate * t) - 1) / rate)
    elif label == "clicks":  # decaying noise clicks (2 ms) at 8-30 per second
        wave = np.zeros(t.size)
        period = round(sr / rng.uniform(8, 30))
        click = rng.standard_normal(round(0.002 * sr)) * np.exp(
            -np.arange(round(0.002 * sr)) / (0.0005 * sr)
        )
        for start in range(0, t.size - click.size, period):
            wave[start : start + click.size] += click
        wave = wave[: (t.size - click.size) // period * period + click.size]  # end on a click
    else:  # noise_burst: white noise through a 0.5-1.5 octave band-pass
        centre = math.exp(rng.uniform(math.log(300), math.log(5000)))
        half = 2 ** (rng.uniform(0.5, 1.5) / 2)
        sos = signal.butter(
            4, (centre / half, min(centre * half, 0.45 * sr)), "bandpass", fs=sr, output="sos"
        )
        wave = signal.sosfilt(sos, rng.standard_normal(t.size))
    wave = np.asarray(wave, dtype=np.float32)
    if label != "clicks":
        wave = fade(wave, sr)
    return wave / np.float32(np.max(np.abs(wave)) + 1e-12)
