"""The codec at use time: a waveform to integer codes at a chosen bitrate, and back.

`compress` and `decompress` are the public entry points, so they check what they are given
(the model's `forward` leaves that to them): a (time,) mono waveform of finite samples in
[-1, 1] at the codec's rate (another rate is resampled, with a warning), a bitrate the codec
serves (stages x frames/s x log2(K); the message lists them), and codes of the right shape
and range. Any length works: the codec pads to a whole frame and cuts the result back.

Shapes: S samples, Q stages, T frames.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..audio import resample
from ..core import check_sample_rate, check_waveform
from .model import Codec

__all__ = ["compress", "decompress", "served_bitrates", "stages_for"]


def served_bitrates(codec: Codec) -> list[float]:
    """The bitrates (kbps) `codec` can send: its first 1, 2, ..., Q stages."""
    return [codec.config.bitrate(n) / 1000 for n in range(1, codec.config.n_q + 1)]


def stages_for(codec: Codec, kbps: float) -> int:
    """How many residual-VQ stages give `kbps`; ValueError listing the served bitrates."""
    for n_q, rate in enumerate(served_bitrates(codec), start=1):
        if abs(rate - kbps) < 1e-9:
            return n_q
    served = ", ".join(f"{r:g}" for r in served_bitrates(codec))
    raise ValueError(f"this codec cannot send {kbps!r} kbps; it serves {served} kbps")


@torch.no_grad()
def compress(codec: Codec, wave, sample_rate: int, kbps: float) -> torch.Tensor:
    """A mono waveform (S,) -> codes (Q, T) int64, Q = the stages of `kbps`.

    Example:
        >>> from course_utils.codec import CodecConfig
        >>> codec = Codec(CodecConfig.preset("tiny")).eval()
        >>> compress(codec, np.zeros(16000, dtype=np.float32), 16000, kbps=0.8).shape
        torch.Size([2, 50])
    """
    n_q = stages_for(codec, kbps)
    wave = _checked_wave(wave, sample_rate, codec.config.sample_rate)
    device = next(codec.parameters()).device
    return codec.encode(wave.to(device)[None, None], n_q)[0]


@torch.no_grad()
def decompress(codec: Codec, codes: torch.Tensor, length: int | None = None) -> torch.Tensor:
    """Codes (Q, T) -> waveform (length,), by default T x hop samples (on the CPU)."""
    if not isinstance(codes, torch.Tensor) or codes.ndim != 2:
        shape = tuple(codes.shape) if hasattr(codes, "shape") else type(codes).__name__
        raise ValueError(f"codes must be a tensor of shape (stages, frames), got {shape}")
    if codes.dtype.is_floating_point or codes.dtype == torch.bool:
        raise ValueError(f"codes must be integers, got dtype {codes.dtype}")
    n_q, size = codes.shape[0], codec.config.codebook_size
    if not 1 <= n_q <= codec.config.n_q or codes.shape[1] == 0:
        raise ValueError(
            f"codes must have 1 to {codec.config.n_q} stages and at least one frame, "
            f"got shape {tuple(codes.shape)}"
        )
    if codes.min() < 0 or codes.max() >= size:
        raise ValueError(
            f"codes must lie in [0, {size - 1}] (a codebook of {size}), got values from "
            f"{int(codes.min())} to {int(codes.max())}"
        )
    device = next(codec.parameters()).device
    return codec.decode(codes.long().to(device)[None], length)[0, 0].cpu()


def _checked_wave(wave, sample_rate: int, codec_rate: int) -> torch.Tensor:
    check_waveform(wave, "wave", ndims=(1, 2))
    if wave.ndim == 2:
        raise ValueError(
            f"the codec takes one mono waveform of shape (time,), got {tuple(wave.shape)}; "
            "mix a stereo clip down first (course_utils.audio.to_mono)"
        )
    wave = torch.as_tensor(np.asarray(wave) if not isinstance(wave, torch.Tensor) else wave)
    wave = wave.float()
    peak = float(wave.abs().max())
    if peak > 1.0:
        raise ValueError(
            f"samples must lie in [-1, 1] (float audio), got a peak of {peak:.3g}; scale int16 "
            "audio by 1 / 32768, or normalise the clip (course_utils.audio.normalize)"
        )
    if check_sample_rate(sample_rate) != codec_rate:
        warnings.warn(
            f"resampling from {sample_rate} Hz to the codec's {codec_rate} Hz", stacklevel=3
        )
        wave = resample(wave, sample_rate, codec_rate)
    return wave
