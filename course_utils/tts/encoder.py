"""The text encoder: characters -> one vector per character for the decoder to attend over.

Tacotron 2's encoder (Shen et al. 2018, section 2.2): an embedding, three convolutions
(each followed by batch norm, ReLU and dropout) that see a few neighbouring characters, as
an n-gram would, then a bidirectional LSTM, so each output knows the whole sentence.

It respects lengths: padded characters are zeroed before every convolution (so they leak
nothing into the last real characters) and the LSTM runs on packed sequences (so its
backward direction starts at the last real character). An item's outputs do not change when
it is batched with a longer one (in eval mode, where batch norm uses running statistics).

Shapes: B batch, L characters, E embedding (= convolution channels), D encoder_dim.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import torch
from torch import nn

from ..attention import padding_mask
from .config import TTSConfig
from .text import PAD

__all__ = ["TextEncoder"]


class TextEncoder(nn.Module):
    """Embedding, `encoder_convs` x (conv, batch norm, ReLU, dropout), bidirectional LSTM.

    Args:
        config: the sizes (see `TTSConfig`).

    Shapes:
        tokens (batch, chars) long, padded with `PAD`; lengths (batch,) valid characters ->
        memory (batch, chars, encoder_dim), zero at padded characters.

    Example:
        >>> encoder = TextEncoder(TTSConfig.preset("tiny"))
        >>> encoder(torch.tensor([[5, 6, 7], [8, 9, 0]]), torch.tensor([3, 2])).shape
        torch.Size([2, 3, 16])
    """

    def __init__(self, config: TTSConfig):
        super().__init__()
        channels = config.embed_dim
        self.embedding = nn.Embedding(config.vocab_size, channels, padding_idx=PAD)
        self.convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(channels, channels, config.encoder_kernel,
                          padding=config.encoder_kernel // 2, bias=False),  # BN adds the bias
                nn.BatchNorm1d(channels), nn.ReLU(), nn.Dropout(config.dropout),
            )  # fmt: skip
            for _ in range(config.encoder_convs)
        )
        self.rnn = nn.LSTM(channels, config.encoder_dim // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        chars = tokens.shape[1]
        valid = ~padding_mask(lengths, chars, validate=False)[:, None, :]  # (B, 1, L)
        x = self.embedding(tokens).transpose(1, 2)  # (B, L, E) -> (B, E, L) for Conv1d
        for conv in self.convs:
            x = conv(x * valid)  # zero the padding first: (B, E, L)
        x = x.transpose(1, 2)  # (B, L, E)
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        packed, _ = self.rnn(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(packed, batch_first=True, total_length=chars)
        return memory  # (B, L, D)
