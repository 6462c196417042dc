"""The codec's reconstruction losses: multi-resolution STFT and log-mel distances.

A sample-by-sample loss (L1 on the waveform) punishes a decoder for every phase it does not
reproduce exactly, though the ear barely hears phase; spectral losses compare magnitudes.
One STFT size trades time resolution for frequency resolution, so the loss sums several
(Yamamoto et al. 2020, Parallel WaveGAN): for each size, the spectral convergence
||S - S'||_F / ||S||_F and the L1 distance of log magnitudes. A log-mel L1 distance weighs
the frequencies as the ear does (EnCodec's reconstruction loss in frequency).

Shapes: B batch, S samples; inputs (B, 1, S) or (B, S).

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

__all__ = ["MelLoss", "MultiResolutionSTFTLoss", "stft_magnitude"]


def stft_magnitude(wave: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    """Magnitudes (B, n_fft // 2 + 1, frames) of a waveform (B, S), floored at 1e-7."""
    spec = torch.stft(wave, n_fft, hop, window=window, return_complex=True)
    return spec.abs().clamp(min=1e-7)


class MultiResolutionSTFTLoss(nn.Module):
    """Sum over STFT sizes of spectral convergence + L1 of log magnitudes (hop = n_fft / 4).

    Example:
        >>> loss = MultiResolutionSTFTLoss()
        >>> x = torch.randn(2, 1, 4000)
        >>> float(loss(x, x))
        0.0
    """

    def __init__(self, sizes: tuple[int, ...] = (256, 512, 1024, 2048)):
        super().__init__()
        self.sizes = sizes
        for n_fft in sizes:
            self.register_buffer(f"window_{n_fft}", torch.hann_window(n_fft), persistent=False)

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        output, target = output.reshape(-1, output.shape[-1]), target.reshape(-1, target.shape[-1])
        total = output.new_zeros(())
        for n_fft in self.sizes:
            window = getattr(self, f"window_{n_fft}")
            out = stft_magnitude(output, n_fft, n_fft // 4, window)
            ref = stft_magnitude(target, n_fft, n_fft // 4, window)
            convergence = torch.linalg.norm(ref - out) / torch.linalg.norm(ref)
            total = total + convergence + F.l1_loss(out.log(), ref.log())
        return total / len(self.sizes)


class MelLoss(nn.Module):
    """L1 distance of log-mel spectrograms (64 bands, 1024-point STFT, 10 ms hop at 16 kHz)."""

    def __init__(self, sample_rate: int = 16_000, n_mels: int = 64, n_fft: int = 1024):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate, n_fft=n_fft, hop_length=sample_rate // 100, n_mels=n_mels, power=1.0
        )

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out = self.mel(output.reshape(-1, output.shape[-1])).clamp(min=1e-5).log()
        ref = self.mel(target.reshape(-1, target.shape[-1])).clamp(min=1e-5).log()
        return F.l1_loss(out, ref)
