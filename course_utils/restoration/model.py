"""Lesson 11's generator: a U-Net over spectrogram frames that predicts a gain per bin.

The generator sees the damaged waveform's log magnitudes (F = n_fft / 2 + 1 bins per frame,
as channels of a 1-D convolution over time), goes down twice in time (stride 2 each), lets
every frame of the bottleneck look at every other one, comes back up with skip connections
and predicts a log gain g for every bin. The restored magnitude is (|X| + floor) exp(g):

- denoising: g < 0 where noise dominates (a soft mask), g near 0 where speech does;
- bandwidth extension: g large in the empty high band, drawing energy from the floor.

The phase is the damaged signal's own (what spectral masking always does). In the empty high
band of a band-limited signal that phase is the rounding noise left there: random, which
suits the noise-like high band of fricatives and is only approximate for voiced harmonics
(a generator that predicts phase too, or one that writes the waveform, does better, at a
cost a CPU course cannot pay). The last layer starts at zero, so an untrained generator
returns its input.

The bottleneck is a pair of transformer blocks (`bottleneck="attention"`: every frame sees
the whole utterance, e.g. the pauses where only noise is heard) or, for comparison, as many
residual convolution blocks (`"conv"`: each frame sees a few neighbours only).

Shapes: B batch, S samples, F frequency bins, T frames, C channels.

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..attention import TransformerEncoderBlock

__all__ = ["BOTTLENECKS", "ConvBlock", "Restorer", "RestorerConfig"]

BOTTLENECKS = ("attention", "conv")
_PRESETS = {
    "tiny": {"channels": 96, "layers": 1, "heads": 2},
    "small": {"channels": 192, "layers": 2, "heads": 4},
}


@dataclass(frozen=True)
class RestorerConfig:
    """The generator's sizes. `preset("tiny" | "small", **overrides)` names two of them."""

    sample_rate: int = 16_000
    n_fft: int = 512  # 32 ms windows, 257 bins
    hop: int = 128  # 8 ms: 125 frames per second
    channels: int = 192
    bottleneck: str = "attention"  # "attention" or "conv"
    layers: int = 2  # transformer (or residual conv) blocks at the bottleneck
    heads: int = 4
    floor: float = 1e-4  # magnitude floor under the log (-80 dB re a full-scale bin)
    max_log_gain: float = 12.0  # |g| at most 12 (104 dB): enough to refill an empty band

    def __post_init__(self) -> None:
        if self.bottleneck not in BOTTLENECKS:
            raise ValueError(f"bottleneck must be one of {BOTTLENECKS}, got {self.bottleneck!r}")
        if self.channels % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide channels ({self.channels})")
        if self.hop > self.n_fft or min(self.n_fft, self.hop, self.channels, self.layers) < 1:
            raise ValueError(f"need 1 <= hop <= n_fft and positive sizes, got {self}")

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    @classmethod
    def preset(cls, name: str, **overrides) -> RestorerConfig:
        if name not in _PRESETS:
            raise ValueError(f"unknown preset {name!r}; expected one of {sorted(_PRESETS)}")
        return replace(cls(), **_PRESETS[name], **overrides)


class ConvBlock(nn.Module):
    """x + conv(GELU(conv(x))), kernel 3: the attention-free bottleneck. (B, C, T) -> same."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.gelu(self.conv1(x)))


class Restorer(nn.Module):
    """Damaged waveform in, restored waveform of the same length out: (B, S) -> (B, S).

    Example:
        >>> model = Restorer(RestorerConfig.preset("tiny"))
        >>> noisy = torch.randn(2, 5000) * 0.1
        >>> model(noisy).shape
        torch.Size([2, 5000])
        >>> torch.allclose(model(noisy), noisy, atol=1e-3)  # untrained: the identity
        True

    Notebook: 11_gan_audio_restoration.
    """

    def __init__(self, config: RestorerConfig = RestorerConfig()):
        super().__init__()
        self.config = config
        c = config.channels
        self.encode = nn.Conv1d(config.bins, c, 5, padding=2)
        self.down1 = nn.Conv1d(c, c, 4, stride=2, padding=1)
        self.down2 = nn.Conv1d(c, c, 4, stride=2, padding=1)
        if config.bottleneck == "attention":
            self.bottleneck = nn.ModuleList(
                TransformerEncoderBlock(c, config.heads, ff_dim=2 * c, dropout=0.0)
                for _ in range(config.layers)
            )
        else:
            self.bottleneck = nn.ModuleList(ConvBlock(c) for _ in range(config.layers))
        self.up2 = nn.ConvTranspose1d(c, c, 4, stride=2, padding=1)
        self.up1 = nn.ConvTranspose1d(c, c, 4, stride=2, padding=1)
        self.decode = nn.Conv1d(c, config.bins, 5, padding=2)
        nn.init.zeros_(self.decode.weight)  # g = 0: the untrained generator is the identity
        nn.init.zeros_(self.decode.bias)
        self.register_buffer("window", torch.hann_window(config.n_fft), persistent=False)

    def spectrum(self, wave: torch.Tensor) -> torch.Tensor:
        """Complex STFT, (B, S) -> (B, F, T) with T = S // hop + 1."""
        cfg = self.config
        return torch.stft(wave, cfg.n_fft, cfg.hop, window=self.window, return_complex=True)

    def log_gains(self, spectrum: torch.Tensor, need_weights: bool = False):
        """Log gain per bin, (B, F, T) complex -> (B, F, T) real (and the last bottleneck
        block's attention weights (B, heads, T/4, T/4) when asked and there is attention)."""
        frames = spectrum.shape[-1]
        x = torch.log(spectrum.abs() + self.config.floor)
        x = F.pad((x + 5.0) / 3.0, (0, -frames % 4))  # about unit scale; T to a multiple of 4
        skip0 = F.gelu(self.encode(x))
        skip1 = F.gelu(self.down1(skip0))
        h, weights = F.gelu(self.down2(skip1)), None
        for block in self.bottleneck:
            if isinstance(block, ConvBlock):
                h = block(h)
            else:
                out, weights = block(h.transpose(1, 2), need_weights=need_weights)
                h = out.transpose(1, 2)
        h = F.gelu(self.up2(h)) + skip1
        h = F.gelu(self.up1(h)) + skip0
        limit = self.config.max_log_gain  # never exactly 0: |STFT| has no gradient at 0
        g = self.decode(h)[..., :frames].clamp(-limit, limit)
        return (g, weights) if need_weights else g

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        spectrum = self.spectrum(wave)
        magnitude = (spectrum.abs() + self.config.floor) * torch.exp(self.log_gains(spectrum))
        restored = torch.polar(magnitude, spectrum.angle())
        cfg = self.config
        return torch.istft(restored, cfg.n_fft, cfg.hop, window=self.window, length=wave.shape[-1])
