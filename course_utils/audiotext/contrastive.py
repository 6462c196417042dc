"""Audio-text retrieval: a dual encoder trained with a symmetric InfoNCE loss.

Two towers map an utterance and a transcript to unit vectors in one space; their dot product
(cosine similarity) says how well they match. Training pulls each utterance towards its own
transcript and pushes it from the other transcripts of the batch (and the other way round),
as CLIP (Radford et al. 2021) and CLAP (Elizalde et al. 2023) do:

    logits = exp(s) * A T^T,   loss = (CE(logits, diag) + CE(logits^T, diag)) / 2,

with the temperature 1 / exp(s) learned (CLIP starts at 0.07 and caps exp(s) at 100).
Unlike the detector, nothing in the dual encoder looks at both modalities at once: every
transcript can be encoded once and searched with one matrix product.

- `info_nce`: the loss; `recall_at_k`: the share of queries whose match ranks in the top k;
- `DualEncoder`: the audio tower (`AudioEncoder`, self-attention with positions, attention
  pooling) and the text tower (`TextEncoder` with a self-attention layer).

Shapes: B batch, N queries, M candidates, D embedding size, E d_model.

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..attention import AttentionPooling, SinusoidalPositionalEncoding
from .audio_encoder import AudioEncoder
from .text import TextEncoder

__all__ = ["DualConfig", "DualEncoder", "info_nce", "recall_at_k"]

MAX_LOGIT_SCALE = 100.0  # CLIP's cap on exp(s)


def info_nce(
    audio: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor | float
) -> torch.Tensor:
    """Symmetric InfoNCE: row i of `audio` should match row i of `text` and no other.

    Args:
        audio: (B, D) unit vectors; text: (B, D) unit vectors, pair i = (audio[i], text[i]).
        logit_scale: s, the log of the inverse temperature (a tensor to learn it).

    Returns:
        the mean of the audio -> text and text -> audio cross-entropies, a scalar.

    Example:
        >>> eye = torch.eye(3)
        >>> round(info_nce(eye, eye, 0.0).item(), 4)  # log(e + 2) - 1
        0.5514
    """
    if audio.ndim != 2 or audio.shape != text.shape or audio.shape[0] < 2:
        raise ValueError(
            f"expected audio and text of the same shape (B >= 2, D), got {tuple(audio.shape)} "
            f"and {tuple(text.shape)}"
        )
    scale = torch.as_tensor(logit_scale, dtype=audio.dtype, device=audio.device).exp()
    logits = scale.clamp(max=MAX_LOGIT_SCALE) * audio @ text.T  # (B, B)
    targets = torch.arange(audio.shape[0], device=audio.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def recall_at_k(similarity: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    """Share of the N queries (rows) whose right candidate (`targets[i]`) is among the k
    most similar of the M candidates. A tie with the right one counts against it.

    Example:
        >>> similarity = torch.tensor([[0.9, 0.1, 0.0], [0.8, 0.7, 0.0], [0.2, 0.5, 0.3]])
        >>> recall_at_k(similarity, torch.tensor([0, 1, 2]), 1), recall_at_k(
        ...     similarity, torch.tensor([0, 1, 2]), 2)
        (0.3333333333333333, 1.0)
    """
    if similarity.ndim != 2 or targets.shape != similarity.shape[:1]:
        raise ValueError(
            f"expected similarity (N, M) and targets (N,), got {tuple(similarity.shape)} "
            f"and {tuple(targets.shape)}"
        )
    if not 1 <= k <= similarity.shape[1]:
        raise ValueError(f"k must lie in [1, {similarity.shape[1]}], got {k}")
    right = similarity.gather(1, targets[:, None].long())  # (N, 1)
    rank = (similarity >= right).sum(dim=1) - 1  # candidates at least as similar, itself out
    return (rank < k).double().mean().item()


@dataclass(frozen=True)
class DualConfig:
    """The dual encoder's sizes."""

    d_model: int = 128  # inside both towers (E)
    embed_dim: int = 128  # the shared space (D)
    audio_blocks: int = 3  # depthwise-convolution blocks of the audio encoder
    kernel: int = 5
    audio_layers: int = 1  # self-attention layers over the audio frames
    text_layers: int = 1  # ... over the characters
    max_chars: int = 48  # the longest transcript accepted
    temperature: float = 0.07  # initial 1 / exp(s)


class DualEncoder(nn.Module):
    """Utterances and transcripts as unit vectors in one space.

    Shapes:
        `embed_audio`: waveforms (B, S), samples (B,) -> (B, D), unit length;
        `embed_text`: ids (B, L), lengths (B,) -> (B, D), unit length.

    Example:
        >>> from course_utils.audiotext.text import encode_texts
        >>> model = DualEncoder(DualConfig(d_model=16, embed_dim=8)).eval()
        >>> a = model.embed_audio(torch.randn(2, 16000), torch.tensor([16000, 9000]))
        >>> t = model.embed_text(*encode_texts(["stop the fan", "move up two steps"], 48))
        >>> (a @ t.T).shape, a.norm(dim=1).round(decimals=4).tolist()
        (torch.Size([2, 2]), [1.0, 1.0])
    """

    def __init__(self, config: DualConfig = DualConfig()):
        super().__init__()
        self.config = config
        e = config.d_model
        self.audio = AudioEncoder(e, config.audio_blocks, config.kernel)
        self.positions = SinusoidalPositionalEncoding(e)
        self.mixer = nn.ModuleList(
            nn.TransformerEncoderLayer(e, 4, 2 * e, dropout=0.1, batch_first=True)
            for _ in range(config.audio_layers)
        )
        self.pool = AttentionPooling(e, e)
        self.audio_proj = nn.Linear(e, config.embed_dim)
        self.text = TextEncoder(e, layers=config.text_layers, max_chars=config.max_chars)
        self.text_proj = nn.Linear(e, config.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / config.temperature)))

    def embed_audio(self, waveforms: torch.Tensor, samples: torch.Tensor) -> torch.Tensor:
        frames, padding = self.audio(waveforms, samples)  # (B, T, E), (B, T)
        x = self.positions(frames)
        for layer in self.mixer:
            x = layer(x, src_key_padding_mask=padding)
        pooled, _ = self.pool(x, padding)  # (B, E)
        return F.normalize(self.audio_proj(pooled), dim=-1)

    def embed_text(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pooled, _ = self.text(ids, lengths)  # (B, E)
        return F.normalize(self.text_proj(pooled), dim=-1)

    def forward(self, waveforms, samples, ids, lengths) -> torch.Tensor:
        """The InfoNCE loss of a batch of matching pairs."""
        audio = self.embed_audio(waveforms, samples)
        return info_nce(audio, self.embed_text(ids, lengths), self.logit_scale)
