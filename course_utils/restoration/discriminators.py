"""Lesson 11's discriminators: the HiFi-GAN family, small enough for a CPU.

A discriminator scores a waveform: high for clean speech, low for restored speech. Each one
looks at the sound from one angle, and the generator must fool them all:

- `STFTDiscriminator` (UnivNet, Jang et al. 2021): 2-D convolutions over one resolution's log
  magnitude spectrogram, striding along frequency. `MultiResolutionSTFTDiscriminator` runs
  three (n_fft 256, 512, 1024): fine time detail and fine frequency detail. An empty or
  muffled high band is obvious at all three.
- `PeriodDiscriminator` (HiFi-GAN, Kong et al. 2020): the waveform folded into rows of `p`
  samples, 2-D convolutions down the columns: every p-th sample together, which exposes
  periodic structure (voicing). `MultiPeriodDiscriminator` uses the primes 2, 3, 5, 7, 11.
- `Discriminators`: both families together, the lesson's critic.

Every discriminator returns its score map (logits) and the list of its hidden activations
(features, for the feature-matching loss). `Discriminators` returns one list of each, one
entry per sub-discriminator (3 + 5 = 8).

Shapes: B batch, S samples.

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Discriminators",
    "MultiPeriodDiscriminator",
    "MultiResolutionSTFTDiscriminator",
    "PeriodDiscriminator",
    "STFTDiscriminator",
]

_SLOPE = 0.2  # leaky ReLU, as in HiFi-GAN


def _check_batch(wave: torch.Tensor) -> torch.Tensor:
    if wave.dim() != 2:
        raise ValueError(f"discriminators take waveforms (batch, samples), got {tuple(wave.shape)}")
    return wave


class STFTDiscriminator(nn.Module):
    """Score one resolution's log magnitude spectrogram: (B, S) -> logits (B, 1, T, F') and
    features [(B, channels, T, F_i), ...] (5 layers)."""

    def __init__(self, n_fft: int, hop: int, channels: int = 16):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList(
            [nn.Conv2d(1, channels, (3, 5), stride=(1, 2), padding=(1, 2))]
            + [
                nn.Conv2d(channels, channels, (3, 5), stride=(1, 2), padding=(1, 2))
                for _ in range(3)
            ]
            + [nn.Conv2d(channels, channels, 3, padding=1)]
        )
        self.out = nn.Conv2d(channels, 1, 3, padding=1)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        spec = torch.stft(_check_batch(wave), self.n_fft, self.hop, window=self.window,
                          return_complex=True).abs()  # fmt: skip
        x = torch.log(spec + 1e-5).transpose(1, 2).unsqueeze(1)  # (B, 1, T, F)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), _SLOPE)
            features.append(x)
        return self.out(x), features


class MultiResolutionSTFTDiscriminator(nn.Module):
    """Three `STFTDiscriminator`s: (n_fft, hop) = (256, 64), (512, 128), (1024, 256)."""

    def __init__(self, resolutions=((256, 64), (512, 128), (1024, 256)), channels: int = 16):
        super().__init__()
        self.discriminators = nn.ModuleList(
            STFTDiscriminator(n, h, channels) for n, h in resolutions
        )

    def forward(self, wave: torch.Tensor):
        results = [d(wave) for d in self.discriminators]
        return [r[0] for r in results], [r[1] for r in results]


class PeriodDiscriminator(nn.Module):
    """Fold the waveform into rows of `period` samples and convolve down the columns:
    (B, S) -> logits (B, 1, rows', period) and features (5 layers)."""

    def __init__(self, period: int, channels=(16, 32, 64, 64)):
        super().__init__()
        self.period = period
        sizes = (1, *channels)
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(a, b, (5, 1), stride=(3, 1), padding=(2, 0))
                for a, b in zip(sizes, sizes[1:], strict=False)
            ]
            + [nn.Conv2d(sizes[-1], sizes[-1], (5, 1), padding=(2, 0))]
        )
        self.out = nn.Conv2d(sizes[-1], 1, (3, 1), padding=(1, 0))

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        wave = _check_batch(wave)
        wave = F.pad(wave, (0, -wave.shape[-1] % self.period), mode="reflect")
        x = wave.view(wave.shape[0], 1, -1, self.period)  # (B, 1, S / period, period)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), _SLOPE)
            features.append(x)
        return self.out(x), features


class MultiPeriodDiscriminator(nn.Module):
    """`PeriodDiscriminator`s for the periods 2, 3, 5, 7 and 11 (HiFi-GAN's)."""

    def __init__(self, periods=(2, 3, 5, 7, 11), channels=(16, 32, 64, 64)):
        super().__init__()
        self.discriminators = nn.ModuleList(PeriodDiscriminator(p, channels) for p in periods)

    def forward(self, wave: torch.Tensor):
        results = [d(wave) for d in self.discriminators]
        return [r[0] for r in results], [r[1] for r in results]


class Discriminators(nn.Module):
    """The multi-resolution STFT and the multi-period discriminators together.

    Example:
        >>> critic = Discriminators()
        >>> logits, features = critic(torch.randn(2, 4000))
        >>> len(logits), len(features), len(features[0])
        (8, 8, 5)

    Notebook: 11_gan_audio_restoration.
    """

    def __init__(self, stft_channels: int = 16, period_channels=(16, 32, 64, 64)):
        super().__init__()
        self.stft = MultiResolutionSTFTDiscriminator(channels=stft_channels)
        self.period = MultiPeriodDiscriminator(channels=period_channels)

    def forward(self, wave: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        logits_a, features_a = self.stft(wave)
        logits_b, features_b = self.period(wave)
        return logits_a + logits_b, features_a + features_b
