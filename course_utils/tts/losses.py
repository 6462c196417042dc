"""The synthesiser's losses: mel frames, stop token and guided attention (lesson 09).

- **Mel**: L1 (or L2, Tacotron 2's MSE) between predicted and true frames, before and after
  the postnet, over each item's valid frames only.
- **Stop token**: binary cross-entropy of one logit per decoder step; the target is 1 from
  the step that holds the last real frame on (padding steps count as "stopped", as in
  NVIDIA's Tacotron 2, which gives the rare positive class more examples).
- **Guided attention** (Tachibana, Uenoyama and Aihara 2017, section 4.1): attention far
  from the diagonal is penalised with weights W[n, t] = 1 - exp(-(n/N - t/T)^2 / (2 g^2)),
  for character n of N and decoder step t of T; the loss is the penalty of each decoder
  step's attention, sum over characters of W * A, averaged over the valid steps. Speech
  reads text left to right at a roughly steady pace, so the alignment is nearly diagonal;
  saying so in the loss makes attention align in a few hundred steps instead of thousands.
  (The mean over all N x T cells, ``reduction="cell"``, is the same sum divided by N as
  well: for 20-character sentences it is 20 times weaker than the mel loss would need, and
  measured on lesson 09's data it left attention broad, focus 0.25 after 900 steps.)

Alignments here are (batch, steps, chars), one row per decoder step: W is stored the same
way, W[b, t, n].

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..attention import padding_mask
from .config import TTSConfig
from .model import TacotronOutput

__all__ = [
    "TTSLosses",
    "guided_attention_loss",
    "guided_attention_weights",
    "masked_mel_loss",
    "stop_targets",
    "tacotron_loss",
]


def guided_attention_weights(
    text_lengths: torch.Tensor,
    step_lengths: torch.Tensor,
    max_chars: int | None = None,
    max_steps: int | None = None,
    sigma: float = 0.2,
) -> torch.Tensor:
    """Tachibana et al.'s penalty W[t, n] = 1 - exp(-(n/N - t/T)^2 / (2 sigma^2)), per item.

    Args:
        text_lengths: (batch,) N, the characters of each item.
        step_lengths: (batch,) T, the decoder steps of each item (ceil(frames / r)).
        max_chars, max_steps: the padded sizes (default: the longest).
        sigma: g, the width of the band of diagonal the loss leaves alone (default 0.2).

    Returns:
        W (batch, max_steps, max_chars), zero outside each item's N x T valid cells.

    Example:
        >>> guided_attention_weights(torch.tensor([2]), torch.tensor([2])).round(decimals=4)
        tensor([[[0.0000, 0.9561],
                 [0.9561, 0.0000]]])
    """
    max_chars = int(text_lengths.max()) if max_chars is None else max_chars
    max_steps = int(step_lengths.max()) if max_steps is None else max_steps
    n = torch.arange(max_chars, device=text_lengths.device)[None, None, :]  # (1, 1, L)
    t = torch.arange(max_steps, device=text_lengths.device)[None, :, None]  # (1, S, 1)
    n_over_N = n / text_lengths[:, None, None]  # (B, 1, L)
    t_over_T = t / step_lengths[:, None, None]  # (B, S, 1)
    weights = 1 - torch.exp(-((n_over_N - t_over_T) ** 2) / (2 * sigma**2))  # (B, S, L)
    return weights * _valid_cells(text_lengths, step_lengths, max_chars, max_steps)


def _valid_cells(
    text_lengths: torch.Tensor, step_lengths: torch.Tensor, max_chars: int, max_steps: int
) -> torch.Tensor:
    """(batch, steps, chars) float: 1 where both the step and the character are real."""
    chars = ~padding_mask(text_lengths, max_chars, validate=False)  # (B, L)
    steps = ~padding_mask(step_lengths, max_steps, validate=False)  # (B, S)
    return (steps[:, :, None] & chars[:, None, :]).float()


def guided_attention_loss(
    alignments: torch.Tensor,
    text_lengths: torch.Tensor,
    step_lengths: torch.Tensor,
    sigma: float = 0.2,
    reduction: str = "step",
) -> torch.Tensor:
    """The attention's weight off the diagonal, W * A: 0 for a perfectly diagonal alignment.

    Args:
        alignments: (batch, steps, chars) attention weights A, one row per decoder step.
        text_lengths, step_lengths: (batch,) valid characters and steps of each item.
        sigma: g of `guided_attention_weights` (default 0.2).
        reduction: "step" (default): sum of W * A over characters, mean over the valid
            steps of the batch (the expected penalty of where a step reads, in [0, 1]);
            "cell": mean of W * A over the valid cells (N times smaller).

    Returns:
        () the loss.

    Example:
        >>> diagonal = torch.eye(4)[None]  # (1, steps, chars)
        >>> guided_attention_loss(diagonal, torch.tensor([4]), torch.tensor([4])).item()
        0.0
    """
    if reduction not in ("step", "cell"):
        raise ValueError(f"reduction must be 'step' or 'cell', got {reduction!r}")
    batch, steps, chars = alignments.shape
    weights = guided_attention_weights(text_lengths, step_lengths, chars, steps, sigma)
    if reduction == "step":
        return (weights * alignments).sum() / step_lengths.sum().clamp(min=1)
    valid = _valid_cells(text_lengths, step_lengths, chars, steps)
    return (weights * alignments).sum() / valid.sum()


def stop_targets(mel_lengths: torch.Tensor, steps: int, reduction_factor: int) -> torch.Tensor:
    """(batch, steps) float: 1 from the step holding each item's last frame on, else 0.

    Example:
        >>> stop_targets(torch.tensor([6, 3]), steps=3, reduction_factor=2)
        tensor([[0., 0., 1.],
                [0., 1., 1.]])
    """
    last_step = torch.div(mel_lengths - 1, reduction_factor, rounding_mode="floor")  # (B,)
    step = torch.arange(steps, device=mel_lengths.device)[None, :]  # (1, S)
    return (step >= last_step[:, None]).float()


def masked_mel_loss(
    predicted: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor, kind: str = "l1"
) -> torch.Tensor:
    """L1 or L2 distance per mel cell, averaged over each item's valid frames only.

    Args:
        predicted, target: (batch, n_mels, frames).
        lengths: (batch,) valid frames.
        kind: "l1" (mean absolute error) or "l2" (mean squared error).

    Example:
        >>> masked_mel_loss(torch.ones(1, 2, 3), torch.zeros(1, 2, 3), torch.tensor([2])).item()
        1.0
    """
    if kind not in ("l1", "l2"):
        raise ValueError(f"kind must be 'l1' or 'l2', got {kind!r}")
    valid = ~padding_mask(lengths, target.shape[-1], validate=False)[:, None]  # (B, 1, T)
    error = (predicted - target).abs() if kind == "l1" else (predicted - target) ** 2
    return (error * valid).sum() / (valid.sum() * target.shape[1])


@dataclass
class TTSLosses:
    """The total loss and its parts (each a () tensor), as `tacotron_loss` returns them."""

    loss: torch.Tensor  # mel + postnet + stop_weight * stop + guided_weight * guided
    mel: torch.Tensor  # mel loss before the postnet
    postnet: torch.Tensor  # ... and after it
    stop: torch.Tensor  # stop-token binary cross-entropy
    guided: torch.Tensor  # guided-attention loss (computed even when its weight is 0)


def tacotron_loss(
    output: TacotronOutput,
    mels: torch.Tensor,
    mel_lengths: torch.Tensor,
    text_lengths: torch.Tensor,
    config: TTSConfig,
) -> TTSLosses:
    """All of the synthesiser's losses for one teacher-forced batch.

    Args:
        output: what `Tacotron.forward` returned for this batch.
        mels: (batch, n_mels, frames) the targets; mel_lengths (batch,) their valid frames.
        text_lengths: (batch,) valid characters.
        config: the loss settings (`mel_loss`, `stop_weight`, `guided_weight`,
            `guided_sigma`, `reduction_factor`).

    Returns:
        `TTSLosses`; backpropagate ``.loss``.
    """
    mel = masked_mel_loss(output.mel, mels, mel_lengths, config.mel_loss)
    postnet = masked_mel_loss(output.mel_postnet, mels, mel_lengths, config.mel_loss)
    steps = output.stop_logits.shape[1]
    stop = F.binary_cross_entropy_with_logits(
        output.stop_logits, stop_targets(mel_lengths, steps, config.reduction_factor)
    )
    step_lengths = -(-mel_lengths // config.reduction_factor)  # ceil(frames / r)
    guided = guided_attention_loss(output.alignments, text_lengths, step_lengths,
                                   config.guided_sigma)  # fmt: skip
    loss = mel + postnet + config.stop_weight * stop + config.guided_weight * guided
    return TTSLosses(loss, mel, postnet, stop, guided)
