"""Fusing text and audio: cross-attention against concatenation.

- `CrossAttention`: text queries attend over audio frames (lesson 04's `MultiHeadAttention`
  with queries from one modality and keys and values from the other); it returns the
  weights, one distribution over time per query;
- `SpokenTermDetector`: query-by-text spoken-term detection. A typed word becomes a query
  vector, attends over the audio frames, and a small head reads the attended context:
  "is the word said?" (a logit) and, from the weights, "where?". It is trained on presence
  alone, never on positions;
- `OrderClassifier`: "is word A said before word B?" on top of a trained detector's frozen
  encoders, with one of two fusions: ``"cross"`` (each word attends over the frames; the
  attended context carries the time, because each frame's features get its time appended) or
  ``"concat"`` (the audio summarised into one vector without looking at the words, then
  concatenated with the two word vectors: the fusion of the seed articles).

Shapes: B batch, Q queries per utterance, L characters, T audio frames, E d_model,
P position features.

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ..attention import AttentionPooling, MultiHeadAttention, SinusoidalPositionalEncoding
from .audio_encoder import HOP_SECONDS, AudioEncoder
from .text import TextEncoder

__all__ = [
    "FUSIONS",
    "CrossAttention",
    "DetectorConfig",
    "OrderClassifier",
    "SpokenTermDetector",
    "time_features",
]

FUSIONS = ("cross", "concat")


class CrossAttention(nn.Module):
    """Text queries over audio frames: softmax(q W_q (h W_k)^T / sqrt(d)) h W_v, then W_o.

    Args:
        d_model: size of the query and frame vectors (E).
        heads: attention heads; the returned weights are their mean.

    Shapes:
        queries (B, Q, E), frames (B, T, E), padding (B, T) bool (True = padding) ->
        context (B, Q, E), weights (B, Q, T): each row sums to 1, zero on padding.

    Example:
        >>> attention = CrossAttention(d_model=8)
        >>> context, weights = attention(torch.randn(2, 3, 8), torch.randn(2, 5, 8))
        >>> context.shape, weights.shape
        (torch.Size([2, 3, 8]), torch.Size([2, 3, 5]))
    """

    def __init__(self, d_model: int, heads: int = 1):
        super().__init__()
        self.attention = MultiHeadAttention(d_model, heads)

    def forward(
        self, queries: torch.Tensor, frames: torch.Tensor, padding: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.attention(queries, frames, frames, padding, need_weights=True)


@dataclass(frozen=True)
class DetectorConfig:
    """The spoken-term detector's sizes."""

    d_model: int = 128  # every vector (E)
    audio_blocks: int = 3  # depthwise-convolution blocks of the audio encoder
    kernel: int = 3  # their kernel (output frames): each frame hears 0.37 s with 3 blocks
    heads: int = 1  # cross-attention heads: one distribution over time per query
    max_chars: int = 24  # the longest query accepted


class SpokenTermDetector(nn.Module):
    """Type a word, hear whether it is said and see where.

    Shapes:
        waveforms (B, S), samples (B,), query ids (B, Q, L), query lengths (B, Q) ->
        logits (B, Q) (presence, before the sigmoid) and weights (B, Q, T) (where each
        query listened; frame t is centred at t * 0.04 s).

    Example:
        >>> from course_utils.audiotext.text import encode_texts
        >>> model = SpokenTermDetector(DetectorConfig(d_model=16)).eval()
        >>> ids, lengths = encode_texts(["fan", "up"], 24)
        >>> logits, weights = model(torch.randn(1, 16000), torch.tensor([16000]),
        ...                         ids[None], lengths[None])
        >>> logits.shape, weights.shape
        (torch.Size([1, 2]), torch.Size([1, 2, 26]))
    """

    def __init__(self, config: DetectorConfig = DetectorConfig()):
        super().__init__()
        self.config = config
        e = config.d_model
        self.audio = AudioEncoder(e, config.audio_blocks, config.kernel)
        self.text = TextEncoder(e, layers=0, max_chars=config.max_chars)
        self.attention = CrossAttention(e, config.heads)
        self.head = nn.Sequential(nn.Linear(3 * e, e), nn.GELU(), nn.Linear(e, 1))

    def queries(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Query ids (B, Q, L) and lengths (B, Q) -> query vectors (B, Q, E)."""
        pooled, _ = self.text(ids.flatten(0, 1), lengths.flatten())  # (B * Q, E)
        return pooled.unflatten(0, ids.shape[:2])

    def fuse(
        self, queries: torch.Tensor, frames: torch.Tensor, padding: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Query vectors (B, Q, E) over frames (B, T, E) -> logits (B, Q), weights (B, Q, T)."""
        context, weights = self.attention(queries, frames, padding)  # (B, Q, E), (B, Q, T)
        both = torch.cat([context, queries, context * queries], dim=-1)  # (B, Q, 3E)
        return self.head(both).squeeze(-1), weights

    def forward(self, waveforms, samples, ids, lengths) -> tuple[torch.Tensor, torch.Tensor]:
        frames, padding = self.audio(waveforms, samples)  # (B, T, E), (B, T)
        return self.fuse(self.queries(ids, lengths), frames, padding)


def time_features(num_frames: int, dim: int = 16) -> torch.Tensor:
    """What each frame knows of its time: the time in seconds, then `dim` sinusoids
    (lesson 04) of the frame index. (T, 1 + dim).

    Example:
        >>> time_features(3, 2)[:, 0].tolist()
        [0.0, 0.03999999910593033, 0.07999999821186066]
    """
    seconds = torch.arange(num_frames, dtype=torch.float32)[:, None] * HOP_SECONDS  # (T, 1)
    table = SinusoidalPositionalEncoding(dim, max_len=max(num_frames, 1))
    return torch.cat([seconds, table(torch.zeros(1, num_frames, dim))[0]], dim=-1)


class OrderClassifier(nn.Module):
    """Is word A said before word B? A detector's encoders, frozen, and one fusion.

    Args:
        detector: a trained `SpokenTermDetector`; its audio and text encoders are reused and
            frozen (so both fusions start from the same features).
        fusion: ``"cross"``: both words attend over the frames (the detector's
            cross-attention, frozen with the encoders: it already finds words) and a head
            reads the two contexts, each frame's time features appended to it
            (`time_features`); ``"concat"``: a self-attention layer (with the same time
            features) and attention pooling summarise the audio into one vector, concatenated
            with the two word vectors, and a head reads that. Only the head (and, for
            "concat", the summary) trains.

    Shapes:
        frames (B, T, E), padding (B, T), pair (B, 2, E) (the vectors of A and B) -> logits (B,)
        (> 0: A first).
    """

    def __init__(self, detector: SpokenTermDetector, fusion: str = "cross", time_dim: int = 16):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        self.fusion, self.time_dim = fusion, time_dim
        self.encoders = copy.deepcopy(detector).requires_grad_(False).eval()
        e, p = detector.config.d_model, 1 + time_dim
        if fusion == "cross":
            width = 2 * (e + p)
        else:
            m = e // 2  # the mixer's width: a summary of 64 numbers by default
            self.mix_in = nn.Linear(e + p, m)
            self.mixer = nn.TransformerEncoderLayer(m, 2, 2 * m, dropout=0.1, batch_first=True)
            self.pool = AttentionPooling(m, m)
            width = m + 2 * e
        self.head = nn.Sequential(nn.Linear(width, e), nn.GELU(), nn.Linear(e, 1))

    def train(self, mode: bool = True) -> OrderClassifier:
        super().train(mode)
        self.encoders.eval()  # frozen: its batch norm keeps its statistics
        return self

    @torch.no_grad()
    def encode(self, waveforms, samples, ids, lengths):
        """The frozen encoders: -> frames (B, T, E), padding (B, T), pair vectors (B, 2, E)."""
        frames, padding = self.encoders.audio(waveforms, samples)
        return frames, padding, self.encoders.queries(ids, lengths)

    def forward(self, frames, padding, pair) -> torch.Tensor:
        times = time_features(frames.shape[1], self.time_dim).to(frames)  # (T, P)
        timed = torch.cat([frames, times.expand(frames.shape[0], -1, -1)], dim=-1)  # (B, T, E+P)
        if self.fusion == "cross":
            _, weights = self.encoders.attention(pair, frames, padding)  # (B, 2, T)
            summary = (weights @ timed).flatten(1)  # (B, 2 (E + P))
        else:
            x = self.mixer(self.mix_in(timed), src_key_padding_mask=padding)  # (B, T, E / 2)
            pooled, _ = self.pool(x, padding)  # (B, E / 2)
            summary = torch.cat([pooled, pair.flatten(1)], dim=-1)  # (B, E / 2 + 2E)
        return self.head(summary).squeeze(-1)
