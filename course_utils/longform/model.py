"""Lesson 12's keyword detector for recordings of any length.

Log-mel frames (100 per second) -> two stride-2 convolutions (25 frames per second, 40 ms
each) -> a few pre-norm blocks of [depthwise convolution, multi-head self-attention,
feed-forward] -> K + 1 logits per frame (class 0: no keyword; class k: keywords[k - 1]).

The attention is a config field:

- ``attention="local"``: each frame attends to `window` frames on each side
  (`course_utils.attention.local_attention`, Beltagy et al. 2020): O(T * window) time and
  memory, so an hour (360,000 input frames, 90,000 here) costs 3,600 times a second;
- ``attention="full"``: every frame attends to every other one, through PyTorch's fused
  `scaled_dot_product_attention`: O(T^2) time.

There is no absolute position anywhere (the depthwise convolution gives each frame its
neighbourhood, as in the Conformer), so a model trained on 20-second crops runs on an hour.
With the default window of 16 output frames (0.64 s a side) and the convolution's 7 frames,
three blocks see 3 x 23 = 69 output frames, about 2.8 s, on each side
(`receptive_field_seconds`): longer than any word and its neighbours.

Shapes: B batch, M mel bands, F input frames, T output frames (F / 4), E d_model, H heads,
Dh head_dim, C classes (K + 1).

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..attention.local import local_attention
from ..audio import LogMel
from ..core import check_features

__all__ = [
    "ATTENTIONS",
    "DetectorConfig",
    "LongformDetector",
    "receptive_field_seconds",
]

ATTENTIONS = ("local", "full")
SUBSAMPLING = 4  # two stride-2 convolutions
_PRESETS = {
    "tiny": {"d_model": 32, "layers": 1, "heads": 2, "window": 8},
    "small": {"d_model": 128, "layers": 3, "heads": 4, "window": 16},
}


@dataclass(frozen=True)
class DetectorConfig:
    """The detector's sizes. `preset("tiny" | "small", **overrides)` names two of them."""

    num_classes: int = 9  # K + 1: "no keyword" and 8 keywords
    sample_rate: int = 16_000  # Hz, of the waveforms `features` takes
    n_fft: int = 400  # 25 ms windows
    hop_length: int = 160  # 10 ms: 100 input frames per second
    n_mels: int = 40
    d_model: int = 128  # features per frame inside the blocks (E)
    layers: int = 3  # blocks
    heads: int = 4  # attention heads (H), dividing d_model
    ff_multiplier: int = 4  # feed-forward width = ff_multiplier * d_model
    conv_kernel: int = 15  # depthwise convolution of each block, output frames (odd)
    attention: str = "local"  # "local" (sliding window) or "full"
    window: int = 16  # local attention: output frames on each side (0.64 s)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        if self.conv_kernel % 2 == 0 or self.window < 0 or self.num_classes < 2:
            raise ValueError("need an odd conv_kernel, window >= 0 and num_classes >= 2")
        if min(self.d_model, self.layers, self.heads, self.n_mels, self.hop_length) < 1:
            raise ValueError(f"sizes must be positive, got {self}")

    @classmethod
    def preset(cls, name: str, **overrides) -> DetectorConfig:
        if name not in _PRESETS:
            raise ValueError(f"unknown preset {name!r}; expected one of {sorted(_PRESETS)}")
        return replace(cls(), **{**_PRESETS[name], **overrides})

    @property
    def output_hop_seconds(self) -> float:
        """Seconds between output frames (0.04 s by default)."""
        return SUBSAMPLING * self.hop_length / self.sample_rate


def receptive_field_seconds(config: DetectorConfig) -> float:
    """How far (seconds, each side) an output frame can see: every block adds its
    convolution's reach and, for local attention, its window; the subsampling adds 3 input
    frames. Full attention sees the whole recording (inf).

    Example:
        >>> round(receptive_field_seconds(DetectorConfig()), 2)
        2.79
    """
    if config.attention == "full":
        return float("inf")
    per_block = config.conv_kernel // 2 + config.window  # output frames
    frames = config.layers * per_block * SUBSAMPLING + 3  # input frames
    return frames * config.hop_length / config.sample_rate


def output_lengths(lengths: torch.Tensor) -> torch.Tensor:
    """Output frames of inputs of `lengths` frames: ceil(ceil(F / 2) / 2)."""
    return ((lengths + 1) // 2 + 1) // 2


class SelfAttention(nn.Module):
    """Multi-head self-attention whose core is local or full. (B, T, E) -> (B, T, E)."""

    def __init__(self, config: DetectorConfig):
        super().__init__()
        self.heads, self.window, self.kind = config.heads, config.window, config.attention
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out_proj = nn.Linear(config.d_model, config.d_model)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4)
        # each (B, H, T, Dh)
        if self.kind == "local":
            context = local_attention(q, k, v, self.window, causal=False, padding_mask=padding_mask)
        else:
            # SDPA's boolean attn_mask means True = take part: the opposite of padding_mask.
            mask = None if padding_mask is None else ~padding_mask[:, None, None, :]
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, H, T, Dh)
        return self.out_proj(context.transpose(1, 2).flatten(2))  # (B, T, E)


class Block(nn.Module):
    """Pre-norm: x + conv(LN x), then x + attention(LN x), then x + FF(LN x). (B, T, E)."""

    def __init__(self, config: DetectorConfig):
        super().__init__()
        e = config.d_model
        self.conv_norm = nn.LayerNorm(e)
        self.attn_norm = nn.LayerNorm(e)
        self.ff_norm = nn.LayerNorm(e)
        self.conv = nn.Conv1d(e, e, config.conv_kernel, padding=config.conv_kernel // 2, groups=e)
        self.attention = SelfAttention(config)
        hidden = config.ff_multiplier * e
        self.ff = nn.Sequential(
            nn.Linear(e, hidden), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(hidden, e)
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None) -> torch.Tensor:
        h = self.conv_norm(x)
        if padding_mask is not None:  # padding frames must not leak into their neighbours
            h = h.masked_fill(padding_mask[..., None], 0.0)
        x = x + self.dropout(F.gelu(self.conv(h.transpose(1, 2))).transpose(1, 2))  # (B, T, E)
        x = x + self.dropout(self.attention(self.attn_norm(x), padding_mask))
        return x + self.dropout(self.ff(self.ff_norm(x)))


class LongformDetector(nn.Module):
    """Frame-level keyword detector: log-mel features in, K + 1 logits per 40 ms out.

    Args:
        config: sizes and the attention kind (`DetectorConfig`).

    Shapes:
        features (B, M, F) [, lengths (B,) valid input frames] -> logits (B, T, C), with
        T = ceil(ceil(F / 2) / 2); output frame t is centred at t * 0.04 s.

    Example:
        >>> model = LongformDetector(DetectorConfig.preset("tiny")).eval()
        >>> model(model.features(torch.randn(2, 16000))).shape
        torch.Size([2, 26, 9])

    Notebook: 12_long_audio_efficient_attention.
    """

    def __init__(self, config: DetectorConfig = DetectorConfig()):
        super().__init__()
        self.config = config
        e = config.d_model
        self.frontend = LogMel(
            config.sample_rate, config.n_fft, config.hop_length, config.n_mels, top_db=None
        )
        # top_db=None: a per-recording floor would differ between a crop and an hour.
        self.input_norm = nn.BatchNorm1d(config.n_mels)  # learns the dB scale of the features
        self.subsample = nn.Sequential(
            nn.Conv1d(config.n_mels, e, 3, stride=2, padding=1),
            nn.GELU(),
            nn.Conv1d(e, e, 3, stride=2, padding=1),
            nn.GELU(),
        )
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(e)
        self.head = nn.Linear(e, config.num_classes)

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log-mel in dB: (B, S) or (S,) -> (B, M, F) or (M, F), F = 1 + S // hop_length."""
        return self.frontend(waveform)

    def output_frames(self, frames: int) -> int:
        """Output frames of an input of `frames` frames."""
        return int(output_lengths(torch.tensor(frames)))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, M, F) log-mel [, (B,) valid input frames] -> logits (B, T, C)."""
        check_features(features, self.config.n_mels, lengths, values=False)
        x = self.input_norm(features)  # (B, M, F)
        padding_mask = None
        if lengths is not None:  # padding frames are zero (the normalised mean) on the way in
            frames = torch.arange(x.shape[-1], device=x.device)  # (F,)
            x = x.masked_fill(frames >= lengths[:, None, None], 0.0)  # (B, M, F)
        x = self.subsample(x).transpose(1, 2)  # (B, T, E): transposed once, here
        if lengths is not None:
            valid = output_lengths(lengths.to(x.device))  # (B,)
            frames = torch.arange(x.shape[1], device=x.device)
            padding_mask = frames[None, :] >= valid[:, None]  # (B, T), True = padding
        for block in self.blocks:
            x = block(x, padding_mask)  # (B, T, E)
        return self.head(self.norm(x))  # (B, T, C)
