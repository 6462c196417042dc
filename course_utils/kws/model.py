"""Clip classifiers for spoken commands: a CNN with mean or attention pooling, and a small KWT.

Three models that map a log-mel spectrogram to one label, built to be compared on the same
data and budget (lesson 06):

- `CNNClassifier(pooling="mean")`: convolution blocks, then the average over time;
- `CNNClassifier(pooling="attention")`: the same blocks, then attention pooling
  (`course_utils.attention.AttentionPooling`, lesson 02): a learned weight per frame;
- `KeywordTransformer`: a small Keyword Transformer (Berg et al. 2021): patches of frames are
  tokens, a learned class token reads the clip through self-attention (lesson 04's block).

Every model returns `ClassifierOutput(logits, weights)`: `weights` (batch, frames') say where the
model listened (uniform for mean pooling). `KeywordSpotter` wraps a model with its front end
(log-mel, per-clip standardisation) and its labels, and accepts audio at any sample rate.

Features arrive as (batch, n_mels, frames), as `course_utils.audio.features.LogMel` returns
them; the models turn them into (batch, frames, dim) vectors once, inside. Models check shapes
only; the values (lengths, NaN) are checked where audio enters: `KeywordSpotter.predict` and
the recipe (`course_utils.kws.recipe`), so a training step never waits on the GPU for a check.

Shapes: B batch, M mel bands, T frames, T' frames after pooling, C channels, p frames per
KWT patch, dim the width of the frame vectors.

Notebook: 06_audio_classification.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..attention import (
    AttentionPooling,
    LearnedPositionalEncoding,
    TransformerEncoderBlock,
    masked_softmax,
    padding_mask,
)
from ..audio import LogMel, frame_lengths, resample, standardize
from ..core import check_features, check_sample_rate, check_waveform

__all__ = [
    "ClassifierConfig",
    "ClassifierOutput",
    "CNNClassifier",
    "KeywordSpotter",
    "KeywordTransformer",
    "build_classifier",
    "standardize",
]


@dataclass(frozen=True)
class ClassifierConfig:
    """One classifier: its kind, its input and its size. Presets: `tiny`, `small`."""

    num_classes: int  # output labels
    kind: str = "cnn_attention"  # "cnn_mean", "cnn_attention" or "kwt"
    n_mels: int = 40  # mel bands of the input features
    channels: tuple[int, ...] = (128, 128, 128, 128)  # CNN: output channels of each block
    kernel_size: int = 5  # CNN: frames each convolution sees
    time_pools: int = 2  # CNN: how many blocks (from the first) halve the frames
    dim: int = 128  # width of the frame vectors the pooling or the transformer sees
    num_heads: int = 4  # KWT: attention heads
    num_layers: int = 2  # KWT: encoder blocks (at least 1: `weights` come from the last)
    patch_frames: int = 4  # KWT: consecutive frames per token (a patch of the spectrogram)
    max_frames: int = 400  # KWT: longest input (learned positions)
    dropout: float = 0.1  # CNN: before the output layer; KWT: inside the encoder blocks

    def __post_init__(self) -> None:
        if self.kind not in ("cnn_mean", "cnn_attention", "kwt"):
            raise ValueError(
                f"kind must be 'cnn_mean', 'cnn_attention' or 'kwt', got {self.kind!r}"
            )
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {self.num_classes}")
        if not 0 <= self.time_pools <= len(self.channels):
            raise ValueError(
                f"time_pools must be between 0 and len(channels)={len(self.channels)}, "
                f"got {self.time_pools}"
            )
        if min(self.n_mels, self.kernel_size, self.patch_frames) < 1 or not self.channels:
            raise ValueError(
                "n_mels, kernel_size and patch_frames must be positive, channels non-empty"
            )
        if self.kind == "kwt" and (self.num_layers < 1 or self.num_heads < 1):
            raise ValueError(
                f"a KWT needs num_layers >= 1 and num_heads >= 1 (its weights are the last "
                f"block's attention), got num_layers={self.num_layers}, "
                f"num_heads={self.num_heads}"
            )

    @classmethod
    def preset(
        cls,
        name: str,
        num_classes: int,
        kind: str = "cnn_attention",
        width: int = 128,
        **overrides,
    ) -> ClassifierConfig:
        """A named size for `num_classes` classes, fields replaced by `overrides`.

        "tiny": a few thousand parameters, for tests; "small": lesson 06's models, four CNN
        blocks of `width` channels or a 2-block KWT of `width` (about 0.3 M parameters at 128).
        `width` only sizes "small".

        Example:
            >>> ClassifierConfig.preset("small", 5, "kwt", width=64).dim
            64
        """
        if name == "tiny":
            sizes = dict(n_mels=16, channels=(8, 16), time_pools=1, dim=16, num_heads=2,
                         num_layers=1, max_frames=200, patch_frames=2)  # fmt: skip
        elif name == "small":
            sizes = dict(channels=(width,) * 4, dim=width)
        else:
            raise ValueError(f"unknown preset {name!r}; expected 'tiny' or 'small'")
        return cls(num_classes, kind, **(sizes | overrides))


@dataclass
class ClassifierOutput:
    """What a classifier returns: class scores and where it listened."""

    logits: torch.Tensor  # (batch, num_classes), before the softmax
    weights: torch.Tensor  # (batch, frames'), rows sum to 1; frames' = frames after pooling


class _ConvBlocks(nn.Module):
    """Temporal convolutions over frames, mel bands as channels (TC-ResNet, Choi et al. 2019).

    Conv1d -> BatchNorm -> ReLU per block; the first `time_pools` blocks then halve the frames;
    a linear layer and a ReLU map each frame's channels to `dim`.
    A 1-D convolution over time sees every mel band at once, so a few blocks cover a word
    (receptive field about half a second) at a fifth of the cost of 2-D convolutions.
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        layers, previous = [], config.n_mels
        for i, channels in enumerate(config.channels):
            layers += [
                nn.Conv1d(previous, channels, config.kernel_size, padding="same", bias=False),
                nn.BatchNorm1d(channels),
                nn.ReLU(),
            ]
            if i < config.time_pools:
                layers.append(nn.MaxPool1d(2))
            previous = channels
        self.blocks = nn.Sequential(*layers)
        self.time_stride = 2**config.time_pools
        self.project = nn.Linear(previous, config.dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.blocks(features)  # (B, M, T) -> (B, C, T')
        return torch.relu(self.project(x.transpose(1, 2)))  # (B, T', dim)


class CNNClassifier(nn.Module):
    """Convolution blocks, then mean or attention pooling over time, then a linear layer.

    Args:
        config: `ClassifierConfig` with kind "cnn_mean" or "cnn_attention".

    Shapes:
        features (batch, n_mels, frames), lengths (batch,) valid frames or None ->
        logits (batch, num_classes), weights (batch, frames // 2**time_pools).

    Example:
        >>> model = CNNClassifier(ClassifierConfig.preset("tiny", num_classes=5)).eval()
        >>> out = model(torch.randn(3, 16, 50))
        >>> out.logits.shape, out.weights.shape
        (torch.Size([3, 5]), torch.Size([3, 25]))

    Notebook: 06_audio_classification.
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        if config.kind not in ("cnn_mean", "cnn_attention"):
            raise ValueError(
                f"CNNClassifier needs kind 'cnn_mean' or 'cnn_attention', got {config.kind!r}"
            )
        self.config = config
        self.conv = _ConvBlocks(config)
        self.pooling = (
            AttentionPooling(config.dim, config.dim) if config.kind == "cnn_attention" else None
        )
        if self.pooling is not None:
            # Start as mean pooling (all scores 0): which frames matter is then learned, not
            # drawn by the initialisation (the choice lesson 02 explains).
            nn.init.zeros_(self.pooling.w.weight)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.dim, config.num_classes)

    def forward(
        self, features: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> ClassifierOutput:
        check_features(features, self.config.n_mels, lengths, values=False)  # shapes only
        frames = self.conv(features)  # (B, T', dim)
        out_lengths = None
        if lengths is not None:  # frames left after pooling that hold only valid input frames
            out_lengths = (lengths // self.conv.time_stride).clamp(1, frames.shape[1])
        mask = None if out_lengths is None else padding_mask(out_lengths, frames.shape[1], False)
        if self.pooling is None:
            scores = torch.zeros(frames.shape[:2], device=frames.device, dtype=frames.dtype)
            weights = masked_softmax(scores, None if mask is None else ~mask)  # uniform
            context = (weights[..., None] * frames).sum(dim=1)  # (B, dim)
        else:
            context, weights = self.pooling(frames, mask)
        return ClassifierOutput(self.head(self.dropout(context)), weights)


class KeywordTransformer(nn.Module):
    """A small Keyword Transformer (Berg et al. 2021): patches of frames are tokens.

    Every `patch_frames` consecutive frames (all mel bands) are flattened and projected to
    `dim`: one token; a learned class token is put in front; learned positions are added;
    pre-norm encoder blocks (lesson 04) mix the tokens; the class token's final vector gives
    the logits (after a final LayerNorm). `weights` is the class token's attention over the
    patches in the last block, averaged over heads and renormalised without its weight on
    itself. (KWT proper uses one frame per token; four make four times fewer tokens.)

    Shapes:
        features (batch, n_mels, frames), lengths (batch,) or None ->
        logits (batch, num_classes), weights (batch, ceil(frames / patch_frames)).

    Example:
        >>> config = ClassifierConfig.preset("tiny", num_classes=5, kind="kwt")
        >>> model = KeywordTransformer(config).eval()
        >>> out = model(torch.randn(2, 16, 30))
        >>> out.logits.shape, out.weights.shape
        (torch.Size([2, 5]), torch.Size([2, 15]))

    Notebook: 06_audio_classification.
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        if config.kind != "kwt":
            raise ValueError(f"KeywordTransformer needs kind 'kwt', got {config.kind!r}")
        self.config = config
        self.patch = config.patch_frames
        self.embed = nn.Linear(config.n_mels * self.patch, config.dim)
        self.class_token = nn.Parameter(torch.zeros(1, 1, config.dim))
        max_tokens = -(-config.max_frames // self.patch) + 1
        self.positions = LearnedPositionalEncoding(config.dim, max_tokens)
        self.blocks = nn.ModuleList(
            TransformerEncoderBlock(config.dim, config.num_heads, 2 * config.dim, config.dropout)
            for _ in range(config.num_layers)
        )
        self.norm = nn.LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.num_classes)

    def forward(
        self, features: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> ClassifierOutput:
        check_features(features, self.config.n_mels, lengths, values=False)  # shapes only
        batch, n_mels, frames = features.shape
        if frames > self.config.max_frames:
            raise ValueError(
                f"got {frames} frames, more than max_frames={self.config.max_frames}; "
                f"crop the input or build the model with a larger max_frames"
            )
        features = nn.functional.pad(features, (0, -frames % self.patch))  # whole patches
        patches = features.unflatten(2, (-1, self.patch))  # (B, M, T/p, p)
        patches = patches.permute(0, 2, 1, 3).flatten(2)  # (B, T/p, M * p)
        tokens = self.embed(patches)  # (B, T/p, dim)
        tokens = torch.cat([self.class_token.expand(batch, -1, -1), tokens], dim=1)
        x = self.positions(tokens)  # (B, 1 + T/p, dim)
        valid = None if lengths is None else -(-lengths // self.patch)  # patches with a frame
        mask = None if valid is None else padding_mask(valid, tokens.shape[1] - 1, False)
        if mask is not None:  # the class token is never padding
            mask = torch.cat([torch.zeros_like(mask[:, :1]), mask], dim=1)  # (B, 1 + T/p)
        for i, block in enumerate(self.blocks):
            x, weights = block(x, mask, need_weights=i == len(self.blocks) - 1)
        listened = weights[:, :, 0, 1:].mean(dim=1)  # class token -> patches, (B, T/p)
        listened = listened / listened.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        return ClassifierOutput(self.head(self.norm(x[:, 0])), listened)


def build_classifier(config: ClassifierConfig) -> nn.Module:
    """The model `config.kind` names: `CNNClassifier` or `KeywordTransformer`."""
    return KeywordTransformer(config) if config.kind == "kwt" else CNNClassifier(config)


class KeywordSpotter(nn.Module):
    """A classifier with its front end and labels: audio at any rate in, labels out.

    Args:
        model: a classifier taking (batch, n_mels, frames) log-mels (`build_classifier`).
        labels: class names, in the order of the model's outputs.
        sample_rate: the rate the model was trained at; other rates are resampled to it.
        hop_length: samples between frames of the log-mel front end at `sample_rate`.

    Shapes:
        forward: waveform (batch, time) at `sample_rate`, lengths (batch,) samples or None ->
        `ClassifierOutput`. `predict` takes one clip (time,) at any rate.

    Example:
        >>> model = build_classifier(ClassifierConfig(2, n_mels=40, channels=(8, 16), dim=16))
        >>> spotter = KeywordSpotter(model, ("yes", "no")).eval()
        >>> label, probs = spotter.predict(torch.randn(8000) * 0.1, sample_rate=8000)
        >>> label in ("yes", "no"), probs.shape
        (True, torch.Size([2]))

    Notebook: 06_audio_classification.
    """

    def __init__(self, model: nn.Module, labels: tuple[str, ...], sample_rate: int = 16_000,
                 hop_length: int = 160):  # fmt: skip
        super().__init__()
        config = model.config
        if len(labels) != config.num_classes:
            raise ValueError(
                f"got {len(labels)} labels for a model with {config.num_classes} classes"
            )
        self.model, self.labels = model, tuple(labels)
        self.sample_rate = check_sample_rate(sample_rate)
        self.frontend = LogMel(sample_rate, n_mels=config.n_mels, hop_length=hop_length)

    def features(self, waveform: torch.Tensor, lengths: torch.Tensor | None = None):
        """(batch, time) waveform -> standardised (batch, n_mels, frames) and frame lengths."""
        check_waveform(waveform, ndims=(2,), values=False)  # the front end checks the samples
        features = self.frontend(waveform)  # (B, M, T)
        frames = None
        if lengths is not None:  # in [1, T] by construction: no need to read them back
            frames = frame_lengths(lengths, self.frontend.hop_length).clamp(max=features.shape[-1])
        return standardize(features, frames, validate=False), frames

    def forward(
        self, waveform: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> ClassifierOutput:
        return self.model(*self.features(waveform, lengths))

    @torch.no_grad()
    def predict(self, waveform, sample_rate: int, min_seconds: float = 1.0):
        """Label one clip recorded at any rate: resample, pad short clips, classify.

        Args:
            waveform: (time,) mono audio, numpy or torch, at `sample_rate`.
            sample_rate: its rate in Hz; resampled to the model's rate when different.
            min_seconds: shorter clips are centred in this much silence (the training clips
                are 1 s long).

        Returns:
            (label, probabilities (num_classes,)).
        """
        check_waveform(waveform, ndims=(1,))
        device = next(self.parameters()).device
        clip = resample(waveform, sample_rate, self.sample_rate).to(device)
        missing = round(min_seconds * self.sample_rate) - clip.shape[0]
        if missing > 0:
            clip = torch.nn.functional.pad(clip, (missing // 2, missing - missing // 2))
        probs = self(clip[None]).logits.softmax(dim=-1)[0]
        return self.labels[int(probs.argmax())], probs.cpu()
