"""Tacotron: text encoder, attention decoder and postnet, one text-to-mel network (lesson 09).

The model of Shen et al. 2018 (Tacotron 2), scaled by `TTSConfig`: `TextEncoder` turns
characters into memory, `MelDecoder` writes mel frames r at a time while attending over it,
and `Postnet` (five convolutions over the whole spectrogram) adds a residual that sharpens
what the frame-by-frame decoder blurred. Training is teacher-forced (`forward`); synthesis
feeds each step its own output (`course_utils.tts.inference`).

`forward` checks shapes only (cheap); the values (lengths in range, finite mels) are
checked where data enters: `check_batch`, the recipe and `synthesize`.

Shapes: B batch, L characters, M mel bands, T frames, S decoder steps = ceil(T / r).

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..attention import padding_mask
from ..core import check_features, check_lengths
from .config import TTSConfig
from .decoder import MelDecoder
from .encoder import TextEncoder

__all__ = ["Postnet", "Tacotron", "TacotronOutput"]


class Postnet(nn.Module):
    """Five 1-D convolutions over frames (tanh between them, batch norm, dropout): a residual.

    Frames past each item's length are zeroed before every convolution, so the padding of a
    batch leaks nothing into an item's last frames.

    Shapes:
        mel (batch, n_mels, frames), lengths (batch,) -> residual (batch, n_mels, frames).

    Example:
        >>> postnet = Postnet(TTSConfig.preset("tiny"))
        >>> postnet(torch.randn(2, 80, 7), torch.tensor([7, 5])).shape
        torch.Size([2, 80, 7])
    """

    def __init__(self, config: TTSConfig):
        super().__init__()
        sizes = [config.n_mels] + [config.postnet_channels] * (config.postnet_layers - 1)
        sizes.append(config.n_mels)
        self.convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(c_in, c_out, config.postnet_kernel, padding=config.postnet_kernel // 2,
                          bias=False),  # batch norm adds the bias
                nn.BatchNorm1d(c_out),
            )  # fmt: skip
            for c_in, c_out in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        valid = ~padding_mask(lengths, mel.shape[-1], validate=False)[:, None]  # (B, 1, T)
        x = mel
        for i, conv in enumerate(self.convs):
            x = conv(x * valid)  # (B, C, T)
            if i < len(self.convs) - 1:
                x = torch.tanh(x)  # the last layer is linear: a residual can be negative
            x = self.dropout(x)
        return x * valid


@dataclass
class TacotronOutput:
    """What `Tacotron.forward` computes (teacher forcing)."""

    mel: torch.Tensor  # (batch, n_mels, frames) the decoder's frames, before the postnet
    mel_postnet: torch.Tensor  # (batch, n_mels, frames) mel + postnet residual: the output
    stop_logits: torch.Tensor  # (batch, steps) "the sentence ends at this step", as a logit
    alignments: torch.Tensor  # (batch, steps, chars) attention weights, one row per step


class Tacotron(nn.Module):
    """Characters -> mel frames, with attention that learns to align text and sound.

    Args:
        config: sizes, attention kind and loss weights (default `TTSConfig()`: Tacotron 2's).

    Shapes:
        tokens (batch, chars) long, padded with 0; text_lengths (batch,);
        mels (batch, n_mels, frames) targets (`mel_target`), padded; mel_lengths (batch,) ->
        `TacotronOutput` with mels of (batch, n_mels, frames), steps = ceil(frames / r).

    Example:
        >>> from course_utils.tts import TextTokenizer
        >>> model = Tacotron(TTSConfig.preset("tiny"))
        >>> tokens, text_lengths = TextTokenizer().batch(["go up", "stop"])
        >>> out = model(tokens, text_lengths, torch.randn(2, 80, 9), torch.tensor([9, 6]))
        >>> out.mel_postnet.shape, out.stop_logits.shape, out.alignments.shape
        (torch.Size([2, 80, 9]), torch.Size([2, 5]), torch.Size([2, 5, 5]))
    """

    def __init__(self, config: TTSConfig | None = None):
        super().__init__()
        config = config or TTSConfig()
        self.config = config
        self.encoder = TextEncoder(config)
        self.decoder = MelDecoder(config)
        self.postnet = Postnet(config)

    def encode(
        self, tokens: torch.Tensor, text_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, L) -> memory (B, L, encoder_dim) and its padding mask (B, L), True = pad."""
        if tokens.ndim != 2 or tokens.is_floating_point():
            raise ValueError(
                f"expected integer tokens of shape (batch, chars), got {tokens.dtype} "
                f"{tuple(tokens.shape)}"
            )
        check_lengths(text_lengths, tokens.shape[0], tokens.shape[1], False, "text_lengths")
        memory = self.encoder(tokens, text_lengths)
        return memory, padding_mask(text_lengths, tokens.shape[1], validate=False)

    def forward(
        self,
        tokens: torch.Tensor,
        text_lengths: torch.Tensor,
        mels: torch.Tensor,
        mel_lengths: torch.Tensor,
    ) -> TacotronOutput:
        check_features(mels, self.config.n_mels, mel_lengths, values=False, name="mels")
        memory, padding = self.encode(tokens, text_lengths)  # (B, L, D), (B, L)
        mel, stop_logits, alignments = self.decoder(memory, padding, mels)  # teacher forcing
        mel = mel[:, :, : mels.shape[-1]]  # the last step's extra frames: (B, M, T)
        return TacotronOutput(mel, mel + self.postnet(mel, mel_lengths), stop_logits, alignments)

    def check_batch(
        self,
        tokens: torch.Tensor,
        text_lengths: torch.Tensor,
        mels: torch.Tensor,
        mel_lengths: torch.Tensor,
    ) -> None:
        """Check a training batch's values once, where it enters (not in every `forward`).

        Raises:
            ValueError: mels of the wrong number of bands, NaN or inf in them, lengths out
                of range, or token ids outside the vocabulary.
        """
        check_features(mels, self.config.n_mels, mel_lengths, values=True, name="mels")
        check_lengths(text_lengths, tokens.shape[0], tokens.shape[1], True, "text_lengths")
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high >= self.config.vocab_size:
            raise ValueError(
                f"token ids must be in [0, {self.config.vocab_size}), got {low}..{high}"
            )
        if not torch.isfinite(mels).all():
            raise ValueError("mels contain NaN or inf")
