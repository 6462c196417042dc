"""The codec's reconstruction losses: spectra compared, not samples.

A sample-by-sample loss (L1 on the waveform) punishes a decoder for every phase it does not
reproduce exactly, though the ear barely hears phase; spectral losses compare magnitudes.
One STFT size trades time resolution for frequency resolution, so the loss sums several
(Yamamoto et al. 2020, Parallel WaveGAN): for each size, the spectral convergence
||S - S'||_F / ||S||_F and the L1 distance of log magnitudes. A log-mel L1 distance weighs
the frequencies as the ear does (EnCodec's reconstruction loss in frequency).

`LogMagnitudeLoss` compares the log magnitudes a spectral decoder predicts with those of the
input waveform, at the decoder's own STFT resolution: the L1 distance of the log magnitudes,
the spectral convergence, and the L1 distance of log-mel spectrograms made from both.

Shapes: B batch, S samples; inputs (B, 1, S) or (B, S); F bins, N STFT frames.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

__all__ = ["LogMagnitudeLoss", "MelLoss", "MultiResolutionSTFTLoss", "stft_magnitude"]


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


class LogMagnitudeLoss(nn.Module):
    """Predicted log magnitudes (B, F, N) against the waveform (B, 1, S) they should match:
    L1 of log magnitudes + spectral convergence + L1 of log-mel (64 bands), with the STFT
    of `course_utils.codec.spectral` (centred frames, the last one dropped: N = S / hop)."""

    def __init__(self, n_fft: int, hop: int, sample_rate: int = 16_000, n_mels: int = 64):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        fbanks = torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, 0.0, sample_rate / 2,
                                                       n_mels, sample_rate)  # fmt: skip
        self.register_buffer("fbanks", fbanks, persistent=False)  # (F, n_mels)

    def target(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveform (B, 1, S) -> its log magnitudes (B, F, ceil(S / hop))."""
        wave = F.pad(wave.reshape(-1, wave.shape[-1]), (0, -wave.shape[-1] % self.hop))
        spectrum = torch.stft(wave, self.n_fft, self.hop, window=self.window, return_complex=True)
        return spectrum.abs().clamp(min=1e-5).log()[..., :-1]

    def forward(self, log_mag: torch.Tensor, wave: torch.Tensor) -> torch.Tensor:
        target = self.target(wave)
        magnitude, reference = log_mag.clamp(max=10.0).exp(), target.exp()
        convergence = torch.linalg.norm(reference - magnitude) / torch.linalg.norm(reference)
        mel = (magnitude.transpose(1, 2) @ self.fbanks).clamp(min=1e-5).log()
        mel_ref = (reference.transpose(1, 2) @ self.fbanks).clamp(min=1e-5).log()
        return F.l1_loss(log_mag, target) + convergence + F.l1_loss(mel, mel_ref)
