"""The autoregressive mel decoder: prenet, attention RNN, attention, decoder RNN, projections.

One decoder step (Tacotron 2, Shen et al. 2018, section 2.3), reading the last mel frame it
produced (the true one in training: teacher forcing) and the encoder's memory:

    p        = prenet(previous frame)                      two ReLU layers, dropout always on
    h_att    = LSTM_att([p; c_prev])                       the attention RNN: the query
    c, a     = attend(h_att, memory, [a_prev; sum a])      location-sensitive attention
    h_dec    = LSTM_dec([h_att; c])                        the decoder RNN
    frames   = W_mel [h_dec; c]   -> r frames               reduction factor r
    stop     = w_stop [h_dec; c]  -> one logit              "the sentence is over"

The prenet's dropout stays on at inference (Tacotron 2, section 2.3): it is the noise that
keeps the autoregressive loop from copying its last frame and gets the model to read the
text through the attention instead. ``config.prenet_dropout_at_inference = False`` turns
it off in eval mode (tests, and lesson 09's "common mistakes").

Shapes: B batch, L characters, D encoder_dim, M mel bands, S decoder steps, r frames a step.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..attention import LocationSensitiveAttention
from .config import TTSConfig

__all__ = ["DecoderState", "MelDecoder", "Prenet"]


class Prenet(nn.Module):
    """Two linear + ReLU layers with dropout, kept on in eval mode unless told otherwise.

    Shapes:
        (..., in_dim) -> (..., dim).

    Example:
        >>> prenet = Prenet(80, 16).eval()
        >>> bool((prenet(torch.ones(4, 80)) == 0).any())  # eval mode, still dropping
        True
    """

    def __init__(self, in_dim: int, dim: int, dropout: float = 0.5,
                 dropout_at_inference: bool = True):  # fmt: skip
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(in_dim, dim), nn.Linear(dim, dim)])
        self.dropout = dropout
        self.dropout_at_inference = dropout_at_inference

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        drop = self.training or self.dropout_at_inference
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), self.dropout, training=drop)
        return x


@dataclass
class DecoderState:
    """What the decoder carries from one step to the next (batch first everywhere)."""

    attention_hidden: torch.Tensor  # (batch, attention_rnn_dim)
    attention_cell: torch.Tensor  # (batch, attention_rnn_dim)
    decoder_hidden: torch.Tensor  # (batch, decoder_rnn_dim)
    decoder_cell: torch.Tensor  # (batch, decoder_rnn_dim)
    context: torch.Tensor  # (batch, encoder_dim) the last attention context
    weights: torch.Tensor  # (batch, chars) the last attention weights
    cumulative: torch.Tensor  # (batch, chars) their running sum (for location features)


class MelDecoder(nn.Module):
    """Predicts r mel frames and a stop logit per step, attending over the encoder's memory.

    Args:
        config: the sizes (see `TTSConfig`); ``attention_kind="content"`` drops the location
            features: Bahdanau's content-only attention, for lesson 09's comparison.

    Shapes:
        memory (batch, chars, encoder_dim), padding (batch, chars) True = padding,
        targets (batch, n_mels, frames) ->
        mel (batch, n_mels, steps * r), stop_logits (batch, steps),
        alignments (batch, steps, chars), with steps = ceil(frames / r).
    """

    def __init__(self, config: TTSConfig):
        super().__init__()
        self.n_mels, self.r = config.n_mels, config.reduction_factor
        encoder_dim, rnn_dim = config.encoder_dim, config.decoder_rnn_dim
        self.prenet = Prenet(config.n_mels, config.prenet_dim, config.prenet_dropout,
                             config.prenet_dropout_at_inference)  # fmt: skip
        self.attention_rnn = nn.LSTMCell(config.prenet_dim + encoder_dim, config.attention_rnn_dim)
        self.attention = LocationSensitiveAttention(
            config.attention_rnn_dim, encoder_dim, config.attention_dim,
            n_filters=config.location_filters, kernel_size=config.location_kernel,
            use_location=config.attention_kind == "location",
        )  # fmt: skip
        self.decoder_rnn = nn.LSTMCell(config.attention_rnn_dim + encoder_dim, rnn_dim)
        self.frame_proj = nn.Linear(rnn_dim + encoder_dim, config.n_mels * self.r)  # r frames
        self.stop_proj = nn.Linear(rnn_dim + encoder_dim, 1)  # one stop logit per step

    def initial_state(self, memory: torch.Tensor) -> DecoderState:
        """Zero memories, zero context and zero attention weights (Tacotron 2)."""
        batch, chars, _ = memory.shape
        attention = memory.new_zeros(batch, self.attention_rnn.hidden_size)
        decoder = memory.new_zeros(batch, self.decoder_rnn.hidden_size)
        weights = memory.new_zeros(batch, chars)
        return DecoderState(attention, attention.clone(), decoder, decoder.clone(),
                            memory.new_zeros(batch, memory.shape[2]), weights, weights.clone())

    def go_frame(self, memory: torch.Tensor) -> torch.Tensor:
        """The first input: an all-zero frame, (batch, n_mels)."""
        return memory.new_zeros(memory.shape[0], self.n_mels)

    def step(
        self,
        previous_frame: torch.Tensor,
        state: DecoderState,
        memory: torch.Tensor,
        padding: torch.Tensor | None,
        projected_keys: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, DecoderState]:
        """One step: previous_frame (B, M) -> frames (B, r, M), stop_logit (B,), new state."""
        x = self.prenet(previous_frame)  # (B, prenet_dim)
        att_h, att_c = self.attention_rnn(
            torch.cat([x, state.context], dim=-1), (state.attention_hidden, state.attention_cell)
        )  # (B, attention_rnn_dim) each
        previous = torch.stack([state.weights, state.cumulative], dim=1)  # (B, 2, L)
        context, weights = self.attention(
            att_h, memory, memory, previous, padding, projected_keys
        )  # (B, D), (B, L)
        dec_h, dec_c = self.decoder_rnn(
            torch.cat([att_h, context], dim=-1), (state.decoder_hidden, state.decoder_cell)
        )  # (B, decoder_rnn_dim) each
        out = torch.cat([dec_h, context], dim=-1)  # (B, decoder_rnn_dim + D)
        frames = self.frame_proj(out).view(-1, self.r, self.n_mels)  # (B, r, M)
        stop_logit = self.stop_proj(out).squeeze(-1)  # (B,)
        state = DecoderState(att_h, att_c, dec_h, dec_c, context, weights,
                             state.cumulative + weights)  # fmt: skip
        return frames, stop_logit, state

    def forward(
        self, memory: torch.Tensor, padding: torch.Tensor | None, targets: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher forcing: step s reads the true last frame of step s - 1 (the go frame first)."""
        batch, _, frames = targets.shape
        steps = -(-frames // self.r)  # ceil(frames / r)
        padded = F.pad(targets, (0, steps * self.r - frames))  # (B, M, S * r)
        last_of_each_step = padded[:, :, self.r - 1 :: self.r].transpose(1, 2)  # (B, S, M)
        inputs = torch.cat([self.go_frame(memory)[:, None], last_of_each_step[:, :-1]], dim=1)
        state = self.initial_state(memory)
        projected_keys = self.attention.project_keys(memory)  # once, not at every step
        outputs, stops, alignments = [], [], []
        for s in range(steps):
            step_frames, stop_logit, state = self.step(
                inputs[:, s], state, memory, padding, projected_keys
            )
            outputs.append(step_frames)
            stops.append(stop_logit)
            alignments.append(state.weights)
        mel = torch.cat(outputs, dim=1).transpose(1, 2)  # (B, S * r, M) -> (B, M, S * r)
        return mel, torch.stack(stops, dim=1), torch.stack(alignments, dim=1)
