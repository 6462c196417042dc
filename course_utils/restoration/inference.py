"""Restore a recording with a lesson-11 generator, with its input checked first.

`restore(model, wave, sample_rate)` takes one (time,) recording of any length and returns
the restored one, as long as the input. Both generators take 16 kHz: a bandwidth extender
is given 8 kHz speech after sinc interpolation to 16 kHz (`baselines.sinc_upsample`), as in
training.

Bad input raises ValueError saying what was expected: another rate, silence, NaN or
infinite samples, clipping (a run of samples stuck at the peak), samples beyond [-1, 1], a
recording shorter than one STFT window.

Shapes: S samples.

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core import check_sample_rate, check_waveform
from .model import Restorer

__all__ = ["CLIPPED_RUN", "check_recording", "restore"]

CLIPPED_RUN = 8  # this many equal samples in a row at the peak: clipped, not speech


def check_recording(wave, sample_rate: int, expected_rates: tuple[int, ...]) -> np.ndarray:
    """`wave` as float32 (time,) if it is usable speech at one of `expected_rates`;
    ValueError naming the problem otherwise."""
    if isinstance(wave, torch.Tensor):
        wave = wave.detach().cpu().numpy()
    check_waveform(wave, "wave")  # 1-D, finite, not empty
    wave = np.asarray(wave, dtype=np.float32)
    sample_rate = check_sample_rate(sample_rate)
    if sample_rate not in expected_rates:
        raise ValueError(
            f"the generators take speech at {' or '.join(map(str, expected_rates))} Hz, got "
            f"{sample_rate} Hz: resample it first (speech to extend: "
            "course_utils.restoration.baselines.sinc_upsample)"
        )
    peak = float(np.max(np.abs(wave)))
    if peak == 0:
        raise ValueError("wave is silent (all zeros): there is nothing to restore")
    if peak > 1:
        raise ValueError(f"samples must lie in [-1, 1] (float audio), got a peak of {peak:.3g}")
    at_peak = np.abs(wave) >= peak * (1 - 1e-6)
    run = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], at_peak, [0])).astype(int))))[::2]
    if run.size and run.max() >= CLIPPED_RUN:
        raise ValueError(
            f"wave is clipped ({run.max()} samples in a row at its peak {peak:.3g}): a "
            "generator trained on clean speech cannot undo clipping; lower the recording level"
        )
    return wave


def restore(model: Restorer, wave, sample_rate: int = 16_000,
            device: torch.device | str | None = None) -> np.ndarray:  # fmt: skip
    """Restore one recording: float32 (time,) at 16 kHz, clipped to [-1, 1].

    Args:
        model: a generator (`load_restorer`).
        wave: (time,) float samples in [-1, 1], numpy or torch.
        sample_rate: must be the generator's (16000).
        device: where to run (default: where the model is).

    Example:
        >>> from course_utils.restoration import Restorer, RestorerConfig
        >>> model = Restorer(RestorerConfig.preset("tiny"))
        >>> noisy = 0.1 * np.random.default_rng(0).standard_normal(12345).astype(np.float32)
        >>> restore(model, noisy).shape
        (12345,)

    Notebook: 11_gan_audio_restoration.
    """
    rate = model.config.sample_rate
    wave = check_recording(wave, sample_rate, (rate,))
    if wave.size < model.config.n_fft:
        raise ValueError(
            f"wave is too short: {wave.size} samples, the generator needs at least "
            f"{model.config.n_fft} ({1000 * model.config.n_fft / rate:.0f} ms)"
        )
    device = device or next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(wave).to(device)[None])[0].cpu().numpy()
    return np.clip(out, -1.0, 1.0)
