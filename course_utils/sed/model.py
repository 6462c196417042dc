"""Sound event detection models: a CRNN baseline and a CNN with self-attention over frames.

Both models share one convolutional front-end and one output layer and differ only in how
frames exchange information over time:

- `CRNN` (Cakir et al. 2017): conv blocks, then a bidirectional GRU, then a per-frame linear
  layer. The GRU carries context step by step.
- `CNNTransformer` (as the transformer/conformer systems of DCASE task 4, Miyazaki et al.
  2020, without the conformer's convolution module): the same conv blocks, positions, then
  `TransformerEncoderBlock` layers: every frame attends to every other frame in one step.
  Positions come from a depthwise convolution over frames added to them, as in wav2vec 2.0
  (Baevski et al. 2020, section 2), or from the sinusoidal table of lesson 04.

Input: log-mel features `(batch, n_mels, frames)`, as `LogMel` returns them, plus optional
`lengths` (valid frames per clip). Each clip is standardised per mel band over its own valid
frames (its background sets the reference), the CNN pools frequency away and time by
`time_pool`, and the sequence model sees `(batch, frames / time_pool, dim)`: the one transpose
is at the CNN's output. The per-frame logits are repeated back to the input frame rate, so
`SEDOutput.logits` is `(batch, frames, classes)`, one row per input frame. Each class is an
independent yes/no (a sigmoid per class): events of different classes can overlap.

Training calls the models without `lengths`: no check or mask then reads a tensor back from
the device. With `lengths`, they are read once (a sync on a GPU) to check them and to pack the
GRU; the recipe (`course_utils.sed.recipe`) checks the features' values once, not per step.

Shapes: B batch, M mel bands, T frames, T' frames after time pooling, C channels, F' mel
bins after frequency pooling, H heads, dim the width of the sequence model.

Notebook: 07_sound_event_detection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..attention import SinusoidalPositionalEncoding, TransformerEncoderBlock
from ..attention import padding_mask as make_padding_mask
from ..audio import standardize
from ..core import check_features, check_lengths

__all__ = [
    "CNNTransformer",
    "CRNN",
    "ConvFrontEnd",
    "SED_PRESETS",
    "SEDConfig",
    "SEDOutput",
]


@dataclass(frozen=True)
class SEDConfig:
    """Sizes of both SED models (one config, so that they share front-end and budget)."""

    n_mels: int = 64  # mel bands of the input features
    num_classes: int = 6  # event classes (one sigmoid output each)
    channels: tuple[int, ...] = (16, 32, 64)  # output channels of each conv block
    freq_pools: tuple[int, ...] = (4, 4, 4)  # max-pooling of frequency after each block
    time_pool: int = 4  # max-pooling of time after the first block (output hop x this)
    dim: int = 64  # width of the sequence model (the CRNN's GRU: dim / 2 per direction)
    num_layers: int = 2  # GRU layers / transformer blocks
    num_heads: int = 2  # attention heads (CNNTransformer)
    ff_dim: int = 64  # feed-forward width of each transformer block
    positions: str = "conv"  # CNNTransformer: "sinusoidal" (added table) or "conv" (a
    # depthwise convolution over frames added to them, wav2vec 2.0's relative positions)
    position_kernel: int = 15  # frames seen by the "conv" positional encoding (odd)
    dropout: float = 0.1  # dropout in conv blocks and sequence models

    def __post_init__(self) -> None:
        for name in ("n_mels", "num_classes", "time_pool", "dim", "num_layers", "num_heads",
                     "ff_dim"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.channels or len(self.channels) != len(self.freq_pools):
            raise ValueError(
                f"channels and freq_pools need one entry per conv block, got {self.channels} "
                f"and {self.freq_pools}"
            )
        if self.dim % self.num_heads or self.dim % 2:
            raise ValueError(
                f"dim must be even and divisible by num_heads, got {self.dim}, {self.num_heads}"
            )
        if self.positions not in ("sinusoidal", "conv"):
            raise ValueError(f"positions must be 'sinusoidal' or 'conv', got {self.positions!r}")
        if self.position_kernel < 1 or self.position_kernel % 2 == 0:
            raise ValueError(
                f"position_kernel must be a positive odd integer, got {self.position_kernel}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")

    @classmethod
    def preset(cls, name: str = "small", **overrides) -> SEDConfig:
        """A named size ("tiny" for tests, "small" for the lesson), fields replaced by `overrides`.

        Example:
            >>> SEDConfig.preset("tiny", num_classes=3).num_classes
            3
        """
        if name not in SED_PRESETS:
            raise ValueError(f"unknown preset {name!r}; expected one of {list(SED_PRESETS)}")
        return replace(SED_PRESETS[name], **overrides)

    @property
    def pooled_mels(self) -> int:
        """Frequency bins left after the conv blocks (at least 1)."""
        bins = self.n_mels
        for pool in self.freq_pools:
            bins = max(bins // pool, 1)
        return bins


SED_PRESETS = {
    # tests and quick checks: a few thousand parameters
    "tiny": SEDConfig(n_mels=16, channels=(4, 8), freq_pools=(4, 4), time_pool=2, dim=16,
                      num_layers=1, num_heads=2, ff_dim=32, position_kernel=5),
    # the lesson: under 0.1 M parameters each; an epoch of 800 ten-second scenes took about
    # 10 s on one thread of a 2-core CPU (measured with other work running)
    "small": SEDConfig(),
}  # fmt: skip


@dataclass
class SEDOutput:
    """What the models return."""

    logits: torch.Tensor  # (batch, frames, classes): one sigmoid logit per input frame and class
    weights: torch.Tensor | None = None  # CNNTransformer, need_weights: last block's attention
    # (batch, heads, pooled_frames, pooled_frames), pooled_frames = frames // time_pool


def _frame_mask(lengths, batch: int, frames: int, device) -> torch.Tensor | None:
    """Bool (batch, frames), True = padding; None when no clip is padded (or no lengths).

    The lengths are read once, on the CPU: to check them and to decide whether any clip is
    padded (a Python decision, so the unpadded path runs exactly as without lengths).
    """
    if lengths is None:
        return None
    counts = torch.as_tensor(lengths).cpu()  # one read (a sync when they are on a GPU)
    check_lengths(counts, batch, frames)
    if not bool((counts < frames).any()):
        return None
    return make_padding_mask(counts.to(device), frames, validate=False)


class ConvFrontEnd(nn.Module):
    """Per-band standardisation, then conv blocks: (batch, n_mels, frames) -> (batch, frames /
    time_pool, dim). Each block: Conv2d 3x3, BatchNorm, ReLU, max-pool (frequency, and time in
    the first block), dropout.

    `forward(features, padding=None)`: `padding` (batch, frames) bool, True = padding, as
    `padding_mask` makes it from lengths; None: no clip is padded. Each band of each clip is
    standardised over its valid frames (`course_utils.audio.standardize(per_band=True)`).
    """

    def __init__(self, config: SEDConfig):
        super().__init__()
        self.config = config
        self.blocks, c_in = nn.ModuleList(), 1
        for i, (c_out, pool) in enumerate(zip(config.channels, config.freq_pools, strict=True)):
            self.blocks.append(nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.MaxPool2d((pool, config.time_pool if i == 0 else 1)), nn.Dropout(config.dropout),
            ))  # fmt: skip
            c_in = c_out
        self.project = nn.Linear(c_in * config.pooled_mels, config.dim)

    def forward(self, features: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        lengths = None if padding is None else (~padding).sum(-1)  # (B,) valid frames
        x = standardize(features, lengths, per_band=True, validate=False).unsqueeze(1)
        valid = None if padding is None else (~padding)[:, None, :].to(features.dtype)  # (B, 1, T)
        for i, block in enumerate(self.blocks):
            x = block(x)  # (B, C, F', T'), T' = T // time_pool after the first block
            if valid is None:
                continue
            if i == 0:
                valid = valid[..., : x.shape[-1] * self.config.time_pool : self.config.time_pool]
            # Zero the padded frames again, so that the next convolution sees what it sees at
            # the end of an unpadded clip: a clip's output does not depend on its padding.
            x = x * valid[:, None]  # (B, C, F', T')
        x = x.flatten(1, 2).transpose(1, 2)  # (B, T', C * F'): the one transpose
        return self.project(x)  # (B, T', dim)


class _SEDModel(nn.Module):
    """Shared plumbing: front-end, sequence model (subclass), per-frame output layer."""

    def __init__(self, config: SEDConfig):
        super().__init__()
        self.config = config
        self.frontend = ConvFrontEnd(config)
        self.head = nn.Linear(config.dim, config.num_classes)
        # Events are rare (each class is active in a few percent of the frames): start every
        # class at probability sigmoid(-3) = 0.05 rather than 0.5, so the first epochs learn
        # to detect instead of learning that prior (Lin et al. 2017, focal loss, section 4.1).
        nn.init.constant_(self.head.bias, -3.0)

    def _sequence(self, x, padding, need_weights):  # (B, T', dim) -> (B, T', dim), weights
        """`padding` (B, T') True = padding, or None when no clip is padded."""
        raise NotImplementedError

    def forward(
        self,
        features: torch.Tensor,
        lengths: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> SEDOutput:
        """Frame logits for log-mel `features` (batch, n_mels, frames).

        Args:
            features: (batch, n_mels, frames) log-mel features.
            lengths: optional (batch,) valid frames per clip; later frames are padding: they
                enter neither the normalisation nor the GRU / attention. Their logits are
                computed but meaningless: mask them in the loss and the scores.
            need_weights: return the attention weights (CNNTransformer only).

        Returns:
            `SEDOutput` with logits (batch, frames, classes).
        """
        check_features(features, self.config.n_mels, values=False)  # shapes; values: the recipe
        batch, _, frames = features.shape
        padding = _frame_mask(lengths, batch, frames, features.device)  # (B, T) or None
        pool = self.config.time_pool
        pooled = None if padding is None else padding[:, : frames // pool * pool : pool]  # (B, T')
        x = self.frontend(features, padding)  # (B, T', dim)
        x, weights = self._sequence(x, pooled, need_weights)  # (B, T', dim)
        logits = self.head(x)  # (B, T', classes)
        # Back to the input frame rate: repeat each pooled frame, then the last one for the
        # frames the pooling dropped.
        logits = logits.repeat_interleave(pool, dim=1)  # (B, T' * pool, classes)
        missing = frames - logits.shape[1]
        if missing:
            logits = torch.cat([logits, logits[:, -1:].expand(-1, missing, -1)], dim=1)
        return SEDOutput(logits=logits, weights=weights)  # (B, T, classes)


class CRNN(_SEDModel):
    """Convolutional recurrent network for SED (Cakir et al. 2017): CNN, bidirectional GRU
    (dim / 2 per direction), per-frame linear layer.

    Args:
        config: sizes (see `SEDConfig`; `num_layers` GRU layers).

    Shapes:
        features (batch, n_mels, frames), lengths (batch,) -> SEDOutput.logits (batch, frames,
        classes). Padded frames are packed away from the GRU.

    Example:
        >>> model = CRNN(SEDConfig.preset("tiny"))
        >>> model(torch.randn(2, 16, 50)).logits.shape
        torch.Size([2, 50, 6])

    Notebook: 07_sound_event_detection.
    """

    def __init__(self, config: SEDConfig):
        super().__init__(config)
        self.gru = nn.GRU(
            config.dim, config.dim // 2, num_layers=config.num_layers, batch_first=True,
            bidirectional=True, dropout=config.dropout if config.num_layers > 1 else 0.0,
        )  # fmt: skip

    def _sequence(self, x, padding, need_weights):
        if padding is not None:  # pack so that the backward direction starts at each clip's end
            lengths = (~padding).sum(-1).clamp_min(1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)  # fmt: skip
            out, _ = self.gru(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(
                out, batch_first=True, total_length=x.shape[1]
            )
        else:
            out, _ = self.gru(x)  # (B, T', dim)
        return out, None


class CNNTransformer(_SEDModel):
    """CNN then self-attention over frames: positions (`config.positions`: a depthwise
    convolution over frames, or sinusoids), `num_layers` `TransformerEncoderBlock`s (pre-norm),
    a final LayerNorm, a per-frame linear layer.

    Args:
        config: sizes (see `SEDConfig`: dim, num_heads, ff_dim, num_layers).

    Shapes:
        features (batch, n_mels, frames), lengths (batch,) -> SEDOutput.logits (batch, frames,
        classes) and, with need_weights, weights (batch, heads, frames', frames') of the last
        block, frames' = frames // time_pool. Padded frames get no attention.

    Example:
        >>> model = CNNTransformer(SEDConfig.preset("tiny"))
        >>> out = model(torch.randn(2, 16, 50), need_weights=True)
        >>> out.logits.shape, out.weights.shape
        (torch.Size([2, 50, 6]), torch.Size([2, 2, 25, 25]))

    Notebook: 07_sound_event_detection.
    """

    def __init__(self, config: SEDConfig):
        super().__init__(config)
        if config.positions == "sinusoidal":
            self.positions = SinusoidalPositionalEncoding(config.dim)
        else:  # wav2vec 2.0 (Baevski et al. 2020, section 2): a convolution, relative positions
            k = config.position_kernel
            self.positions = nn.Conv1d(config.dim, config.dim, k, padding=k // 2, groups=config.dim)
        self.blocks = nn.ModuleList(
            TransformerEncoderBlock(config.dim, config.num_heads, config.ff_dim, config.dropout)
            for _ in range(config.num_layers)
        )
        self.norm = nn.LayerNorm(config.dim)

    def _sequence(self, x, padding, need_weights):
        if isinstance(self.positions, nn.Conv1d):
            if padding is not None:  # padding must not leak into valid frames
                x = x.masked_fill(padding[..., None], 0.0)
            x = x + F.gelu(self.positions(x.transpose(1, 2))).transpose(1, 2)  # (B, T', dim)
        else:
            x = self.positions(x)  # (B, T', dim)
        mask = padding  # (B, T') True = padding, or None
        weights = None
        for i, block in enumerate(self.blocks):
            last = i == len(self.blocks) - 1
            x, weights = block(x, mask, need_weights=need_weights and last)
        return self.norm(x), weights  # (B, T', dim), (B, H, T', T') or None
