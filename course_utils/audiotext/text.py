"""Text in: characters to ids, and a small encoder from ids to vectors.

The text side reads characters, not words: a query the model never saw in training is still
a string it can encode (whether it then finds it is another matter: lesson 13 tries).

- `encode_texts`: strings -> padded ids and lengths, with a clear error for an empty text, a
  character outside `ALPHABET` or a text longer than the model allows;
- `TextEncoder`: character embeddings -> two convolutions (each character sees its
  neighbours) -> optional self-attention layers (with positions) -> one vector per text
  (mean over its characters) and one per character.

Shapes: B texts, L characters, E d_model.

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

import torch
from torch import nn

from ..attention import SinusoidalPositionalEncoding

__all__ = ["ALPHABET", "PAD", "TextEncoder", "encode_texts"]

ALPHABET = " 'abcdefghijklmnopqrstuvwxyz"  # id 0 is padding, so character c has id 1 + index
PAD = 0


def encode_texts(texts: list[str] | str, max_chars: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower-cased texts -> padded character ids (B, L) and lengths (B,).

    Raises:
        ValueError: an empty text, a character outside `ALPHABET`, a text over `max_chars`.

    Example:
        >>> ids, lengths = encode_texts(["up", "fan"], max_chars=8)
        >>> ids.tolist(), lengths.tolist()
        ([[23, 18, 0], [8, 3, 16]], [2, 3])
    """
    if isinstance(texts, str):
        texts = [texts]
    if not texts:
        raise ValueError("expected at least one text, got an empty list")
    rows = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}")
        clean = " ".join(text.lower().split())
        if not clean:
            raise ValueError(f"a text is empty (got {text!r}); type at least one word")
        unknown = sorted(set(clean) - set(ALPHABET))
        if unknown:
            raise ValueError(
                f"{text!r} holds characters the model cannot read: {unknown}; it knows the "
                f"letters a-z, the apostrophe and spaces (spell digits out: 'seven', not '7')"
            )
        if len(clean) > max_chars:
            raise ValueError(
                f"{text!r} has {len(clean)} characters; this model reads at most {max_chars}"
            )
        rows.append([1 + ALPHABET.index(c) for c in clean])
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), PAD, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    return ids, lengths


class TextEncoder(nn.Module):
    """Characters -> vectors: embeddings, two convolutions, `layers` self-attention layers.

    Args:
        d_model: size of every vector (E).
        layers: transformer encoder layers after the convolutions (0: none).
        heads: their attention heads.
        max_chars: the longest text accepted (`encode_texts` says so when one is longer).

    Shapes:
        ids (B, L), lengths (B,) -> pooled (B, E) (mean over each text's characters),
        per-character (B, L, E) (padding positions zero).

    Example:
        >>> encoder = TextEncoder(d_model=16)
        >>> pooled, chars = encoder(*encode_texts(["kitchen", "fan"], 32))
        >>> pooled.shape, chars.shape
        (torch.Size([2, 16]), torch.Size([2, 7, 16]))
    """

    def __init__(self, d_model: int = 128, layers: int = 0, heads: int = 4, max_chars: int = 32):
        super().__init__()
        self.d_model, self.max_chars = d_model, max_chars
        self.embed = nn.Embedding(len(ALPHABET) + 1, d_model, padding_idx=PAD)
        self.convs = nn.ModuleList(nn.Conv1d(d_model, d_model, 3, padding=1) for _ in range(2))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d_model, heads, 2 * d_model, dropout=0.1, batch_first=True)
            for _ in range(layers)
        )
        self.positions = SinusoidalPositionalEncoding(d_model, max_len=max_chars)
        self.norm = nn.LayerNorm(d_model)

    def encode(self, texts: list[str] | str, device=None) -> torch.Tensor:
        """Strings -> pooled vectors (B, E), checked as `encode_texts` checks them."""
        ids, lengths = encode_texts(texts, self.max_chars)
        device = device or next(self.parameters()).device
        return self(ids.to(device), lengths.to(device))[0]

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        padding = torch.arange(ids.shape[1], device=ids.device)[None, :] >= lengths[:, None]
        x = self.embed(ids)  # (B, L, E)
        for conv in self.convs:
            h = conv(x.masked_fill(padding[..., None], 0.0).transpose(1, 2)).transpose(1, 2)
            x = x + torch.nn.functional.gelu(h)  # (B, L, E)
        if self.layers:
            x = self.positions(x)
            for layer in self.layers:
                x = layer(x, src_key_padding_mask=padding)
        x = self.norm(x).masked_fill(padding[..., None], 0.0)  # (B, L, E)
        pooled = x.sum(dim=1) / lengths[:, None].clamp(min=1).to(x.dtype)  # (B, E)
        return pooled, x
