"""The waveform codec's convolutions: a strided encoder and its mirror-image decoder.

SoundStream and EnCodec's shape: residual units, then a strided convolution that divides the
rate (kernel 2s, stride s), at each of the strides 2, 4, 5 and 8 (together 320: 16 kHz ->
50 frames per second); the decoder undoes each stride once with a transposed convolution.
`CodecConfig(encoder="conv", decoder="conv")` builds a codec from them; lesson 10 uses them
for its shapes (and the seeds' bug of a decoder that upsamples twice).

Shapes: B batch, C channels, S samples, T frames (S / hop), D latent dimensions.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from .model import CodecConfig

__all__ = ["Decoder", "Encoder"]


class ResidualUnit(nn.Module):
    """x + conv1x1(ELU(conv3 dilated(ELU(x)))): keeps the length (B, C, S)."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ELU(),
            nn.Conv1d(channels, channels, 3, dilation=dilation, padding=dilation),
            nn.ELU(),
            nn.Conv1d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class Downsample(nn.Module):
    """Residual units, then a strided convolution (kernel 2s, stride s) that divides the
    length by s exactly and doubles the channels: (B, C, S) -> (B, 2C, S / s)."""

    def __init__(self, channels: int, stride: int):
        super().__init__()
        self.stride = stride
        self.units = nn.Sequential(*(ResidualUnit(channels, d) for d in (1, 3, 9)))
        self.conv = nn.Conv1d(channels, 2 * channels, 2 * stride, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride  # pad s in all so that (S + s - 2s) / s + 1 = S / s
        return self.conv(F.pad(F.elu(self.units(x)), (s - s // 2, s // 2)))


class Upsample(nn.Module):
    """A transposed convolution (kernel 2s, stride s) that multiplies the length by s exactly
    and halves the channels, then residual units: (B, 2C, T) -> (B, C, T * s)."""

    def __init__(self, channels: int, stride: int):
        super().__init__()
        self.stride = stride
        self.conv = nn.ConvTranspose1d(2 * channels, channels, 2 * stride, stride=stride)
        self.units = nn.Sequential(*(ResidualUnit(channels, d) for d in (1, 3, 9)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride  # (T - 1) s + 2s = T s + s: cut the s extra samples
        y = self.conv(F.elu(x))
        return self.units(y[..., s - s // 2 : y.shape[-1] - s // 2])


class Encoder(nn.Module):
    """Waveform (B, 1, S) with S a multiple of the hop -> latent frames (B, D, S / hop)."""

    def __init__(self, config: CodecConfig):
        super().__init__()
        c = config.channels
        layers = [nn.Conv1d(1, c, 7, padding=3)]
        for stride in config.strides:
            layers.append(Downsample(c, stride))
            c *= 2
        layers += [nn.ELU(), nn.Conv1d(c, config.latent_dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """Latent frames (B, D, T) -> waveform (B, 1, T * hop): the encoder in reverse."""

    def __init__(self, config: CodecConfig):
        super().__init__()
        c = config.channels * 2 ** len(config.strides)
        layers = [nn.Conv1d(config.latent_dim, c, 7, padding=3)]
        for stride in reversed(config.strides):
            c //= 2
            layers.append(Upsample(c, stride))
        layers += [nn.ELU(), nn.Conv1d(c, 1, 7, padding=3)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


