"""Speech recognition: an encoder, a CTC head and an attention decoder, trained jointly.

One network, three ways to train it (lesson 08):

- **CTC** (Graves et al. 2006): the encoder emits a distribution over characters plus a
  blank for every frame; the loss sums over all alignments of the transcript to the frames.
- **Attention** (Listen, Attend and Spell, Chan et al. 2016): a recurrent decoder spells
  the transcript one character at a time, attending over the encoder's frames at each step.
- **Joint CTC-attention** (Kim, Hori and Watanabe 2017): the sum
  ``ctc_weight * ctc_loss + (1 - ctc_weight) * attention_loss`` with ``ctc_weight`` about
  0.3. The CTC branch pushes the encoder towards monotonic alignments, which makes the
  attention learn faster and fail less on long utterances.

Features arrive as ``(batch, n_mels, frames)`` (as torchaudio returns them) and are
transposed once, in `ConvSubsampling`, to ``(batch, frames, dim)``. Token ids are
``(batch, tokens)`` with ``target_lengths`` (batch,). `forward` checks shapes only; the
values (lengths in range, no NaN) are checked once where data enters: `train_recognizer`,
`transcribe`, `recognize` and the decoders, so a training step never waits on the GPU for a
check. Decoding lives in `course_utils.asr.decoding`; the training recipe in
`course_utils.asr.recipe`; the characters in `course_utils.asr.tokenizer`.

Shapes: B batch, M mel bands, T frames, T' frames after subsampling (T / 4), C channels,
D encoder output width, E character embedding size, L tokens, V vocabulary.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..attention import LocationSensitiveAttention, padding_mask
from ..core import check_features
from .tokenizer import BLANK, EOS

__all__ = [
    "ASRConfig",
    "ASROutput",
    "AttentionDecoder",
    "ConvSubsampling",
    "Recognizer",
    "SpeechEncoder",
    "ctc_loss",
    "decoder_targets",
]


ASR_PRESETS = {  # field values that differ from the defaults, by preset name
    "tiny": dict(conv_channels=4, encoder_dim=16, encoder_layers=1, decoder_dim=24, embed_dim=8,
                 attention_dim=16, location_filters=4, location_kernel=5),
    "small": dict(conv_channels=16, encoder_dim=96, encoder_layers=2, decoder_dim=128,
                  embed_dim=32, attention_dim=64, location_filters=8),
    "default": {},
}  # fmt: skip


@dataclass(frozen=True)
class ASRConfig:
    """Sizes of a `Recognizer`: `ASRConfig.preset("tiny" | "small" | "default", **overrides)`."""

    vocab_size: int = 30  # len(CharTokenizer())
    n_mels: int = 40  # mel bands of the input features
    conv_channels: int = 32  # channels of the two stride-2 convolutions (x4 fewer frames)
    encoder_dim: int = 128  # GRU units per direction; frames leave the encoder with 2x this
    encoder_layers: int = 3  # bidirectional GRU layers
    decoder_dim: int = 256  # LSTM cell units of the speller
    embed_dim: int = 64  # character embedding size
    attention_dim: int = 128  # hidden size of the attention's tanh layer
    attention: str = "location"  # "location" (Chorowski et al. 2015) or "content" (Bahdanau)
    location_filters: int = 16  # location features: convolution channels ...
    location_kernel: int = 15  # ... and width, in encoder frames (odd)
    dropout: float = 0.1  # between encoder layers and before the output layers
    ctc_weight: float = 0.3  # lambda of the joint loss: 1 = CTC alone, 0 = attention alone
    label_smoothing: float = 0.1  # of the attention's cross-entropy

    def __post_init__(self) -> None:
        if self.attention not in ("location", "content"):
            raise ValueError(f"attention must be 'location' or 'content', got {self.attention!r}")
        if not 0.0 <= self.ctc_weight <= 1.0:
            raise ValueError(f"ctc_weight must be in [0, 1], got {self.ctc_weight}")
        for name in ("vocab_size", "n_mels", "conv_channels", "encoder_dim", "encoder_layers",
                     "decoder_dim", "embed_dim", "attention_dim"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    @classmethod
    def preset(cls, name: str = "default", **overrides) -> ASRConfig:
        """A named size, with fields replaced by `overrides` (the course's one preset idiom).

        "tiny": a few thousand parameters, for unit tests; "small": about 0.55 M, lesson 08's
        three models trained side by side; "default": the shipped recogniser (1.65 M).

        Example:
            >>> ASRConfig.preset("tiny", ctc_weight=1.0).encoder_dim
            16
        """
        if name not in ASR_PRESETS:
            raise ValueError(f"unknown preset {name!r}; expected one of {list(ASR_PRESETS)}")
        return replace(cls(**ASR_PRESETS[name]), **overrides)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ASROutput:
    """What `Recognizer.forward` computes; decoder fields are None when ctc_weight is 1."""

    loss: torch.Tensor  # () the joint loss
    ctc_loss: torch.Tensor  # () CTC, mean over the batch of per-utterance loss / target length
    attention_loss: torch.Tensor | None  # () cross-entropy per token (with label smoothing)
    ctc_log_probs: torch.Tensor  # (batch, frames', vocab) log-softmax over tokens
    encoder_lengths: torch.Tensor  # (batch,) valid frames after subsampling
    logits: torch.Tensor | None  # (batch, tokens + 1, vocab): the speller's, eos last
    alignments: torch.Tensor | None  # (batch, tokens + 1, frames') attention weights


class ConvSubsampling(nn.Module):
    """Two 3x3 convolutions with stride 2 over (mels, frames), then a linear layer: 4x fewer frames.

    As in ESPnet's Conv2dSubsampling and the Conformer: the 2-D kernels see local patterns in
    time and frequency, and the shorter sequence makes attention and recurrence 4x cheaper.

    Shapes:
        features (batch, n_mels, frames), lengths (batch,) ->
        (batch, frames', out_dim), lengths' (batch,), with frames' = ceil(ceil(frames / 2) / 2)
        (`output_lengths`).
    """

    def __init__(self, n_mels: int, channels: int, out_dim: int):
        super().__init__()
        self.n_mels = n_mels
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
        )  # fmt: skip
        reduced_mels = (n_mels + 1) // 2
        reduced_mels = (reduced_mels + 1) // 2
        self.proj = nn.Linear(channels * reduced_mels, out_dim)

    @staticmethod
    def output_lengths(lengths: torch.Tensor) -> torch.Tensor:
        """Frames after the two stride-2 convolutions (kernel 3, padding 1): ceil twice."""
        for _ in range(2):
            lengths = torch.div(lengths - 1, 2, rounding_mode="floor") + 1
        return lengths

    def forward(
        self, features: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = features.transpose(1, 2).unsqueeze(1)  # (B, 1, T, M)
        valid_lengths = lengths.to(x.device)
        for block in (self.conv[:2], self.conv[2:]):  # (B, C, T, M) -> (B, C, T/2, M/2), twice
            # Zero the padded frames before each convolution, so that the last valid frames
            # see the zeros they see at the end of an unpadded utterance: no padding leaks in.
            padded = padding_mask(valid_lengths, x.shape[2], validate=False)  # (B, T)
            x = block(x.masked_fill(padded[:, None, :, None], 0))
            valid_lengths = torch.div(valid_lengths - 1, 2, rounding_mode="floor") + 1
        batch, channels, frames, mels = x.shape
        x = x.permute(0, 2, 1, 3).reshape(batch, frames, channels * mels)  # (B, T', C * M/4)
        return self.proj(x), self.output_lengths(lengths)


class SpeechEncoder(nn.Module):
    """The listener: `ConvSubsampling` then a stack of bidirectional GRUs.

    Shapes:
        features (batch, n_mels, frames), lengths (batch,) ->
        encoded (batch, frames', 2 * encoder_dim), lengths' (batch,).
    """

    def __init__(self, config: ASRConfig):
        super().__init__()
        self.subsampling = ConvSubsampling(config.n_mels, config.conv_channels, config.encoder_dim)
        self.rnn = nn.GRU(
            config.encoder_dim, config.encoder_dim, num_layers=config.encoder_layers,
            batch_first=True, bidirectional=True,
            dropout=config.dropout if config.encoder_layers > 1 else 0.0,
        )  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, features: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x, lengths = self.subsampling(features, lengths)  # (B, T', D)
        # Packing keeps the backward GRU from reading the padding first.
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        packed, _ = self.rnn(packed)
        x, _ = nn.utils.rnn.pad_packed_sequence(packed, batch_first=True, total_length=x.shape[1])
        return self.dropout(x), lengths  # (B, T', 2 * encoder_dim)


@dataclass
class DecoderState:
    """What the speller carries from one step to the next (batch first everywhere)."""

    hidden: torch.Tensor  # (batch, decoder_dim) LSTM cell output
    cell: torch.Tensor  # (batch, decoder_dim) LSTM cell memory
    context: torch.Tensor  # (batch, encoder_out) the last attention context
    weights: torch.Tensor  # (batch, frames') the last attention weights
    cumulative: torch.Tensor  # (batch, frames') their running sum (for location features)


class AttentionDecoder(nn.Module):
    """The speller: an LSTM cell fed the last character and context, attending at every step.

    One step (Chan et al. 2016, eqs. 7-10, with the context fed back as in Luong et al.):
    ``s_i = LSTM([embed(y_{i-1}); c_{i-1}], s_{i-1})``, ``c_i, a_i = attend(s_i, h, a_{i-1})``,
    ``p(y_i) = softmax(W [s_i; c_i])``.

    Shapes:
        encoded (batch, frames', encoder_out), encoder_padding (batch, frames') True = padding,
        tokens (batch, steps) ->
        logits (batch, steps, vocab), alignments (batch, steps, frames').
    """

    def __init__(self, config: ASRConfig, encoder_out: int):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.cell = nn.LSTMCell(config.embed_dim + encoder_out, config.decoder_dim)
        self.attention = LocationSensitiveAttention(
            config.decoder_dim, encoder_out, config.attention_dim,
            n_filters=config.location_filters, kernel_size=config.location_kernel,
            use_location=config.attention == "location",
        )  # fmt: skip
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Sequential(
            nn.Linear(config.decoder_dim + encoder_out, config.decoder_dim), nn.Tanh()
        )
        self.classifier = nn.Linear(config.decoder_dim, config.vocab_size)

    def initial_state(self, encoded: torch.Tensor, encoder_padding: torch.Tensor) -> DecoderState:
        """Zero memory; the first alignment puts all its weight on the first frame."""
        batch, frames, dim = encoded.shape
        hidden = encoded.new_zeros(batch, self.cell.hidden_size)
        weights = encoded.new_zeros(batch, frames)
        weights[:, 0] = 1.0
        return DecoderState(hidden, hidden.clone(), encoded.new_zeros(batch, dim), weights,
                            weights.clone())  # fmt: skip

    def step(
        self,
        tokens: torch.Tensor,
        state: DecoderState,
        encoded: torch.Tensor,
        encoder_padding: torch.Tensor,
        projected_keys: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, DecoderState]:
        """One character: tokens (batch,) -> logits (batch, vocab) and the new state."""
        inputs = torch.cat([self.embed(tokens), state.context], dim=-1)  # (B, E + D)
        hidden, cell = self.cell(inputs, (state.hidden, state.cell))
        previous = torch.stack([state.weights, state.cumulative], dim=1)  # (B, 2, T')
        context, weights = self.attention(
            hidden, encoded, encoded, previous, encoder_padding, projected_keys
        )  # (B, D), (B, T')
        features = self.out(self.dropout(torch.cat([hidden, context], dim=-1)))
        logits = self.classifier(self.dropout(features))  # (B, V)
        return logits, DecoderState(hidden, cell, context, weights, state.cumulative + weights)

    def forward(
        self, encoded: torch.Tensor, encoder_padding: torch.Tensor, tokens: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: reads `tokens` (starting with <eos>), predicts each next one."""
        state = self.initial_state(encoded, encoder_padding)
        projected_keys = self.attention.project_keys(encoded)  # once, not at every step
        logits, alignments = [], []
        for i in range(tokens.shape[1]):
            step_logits, state = self.step(
                tokens[:, i], state, encoded, encoder_padding, projected_keys
            )
            logits.append(step_logits)
            alignments.append(state.weights)
        return torch.stack(logits, dim=1), torch.stack(alignments, dim=1)  # (B, L, V), (B, L, T')


class Recognizer(nn.Module):
    """Encoder + CTC head + attention decoder, trained with the joint loss (`ASRConfig.ctc_weight`).

    Args:
        config: sizes and the loss weight (see `ASRConfig`).

    Shapes:
        features (batch, n_mels, frames) log-mel, standardised; lengths (batch,) valid frames;
        targets (batch, tokens) character ids padded with anything; target_lengths (batch,).

    Example:
        >>> from course_utils.asr import CharTokenizer
        >>> model = Recognizer(ASRConfig.preset("tiny"))
        >>> targets, target_lengths = CharTokenizer().batch(["one two", "go"])
        >>> out = model(torch.randn(2, 40, 120), torch.tensor([120, 90]), targets, target_lengths)
        >>> out.ctc_log_probs.shape, out.alignments.shape
        (torch.Size([2, 30, 30]), torch.Size([2, 8, 30]))

    Notebook: 08_speech_recognition.
    """

    def __init__(self, config: ASRConfig = ASRConfig()):
        super().__init__()
        self.config = config
        self.encoder = SpeechEncoder(config)
        encoder_out = 2 * config.encoder_dim
        self.ctc_head = nn.Linear(encoder_out, config.vocab_size)
        self.decoder = AttentionDecoder(config, encoder_out) if config.ctc_weight < 1 else None

    def encode(
        self, features: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """features (B, n_mels, frames) -> encoded (B, frames', 2 * encoder_dim), lengths'.

        Checks shapes only (`check_features(..., values=False)`): the callers that take data
        from outside (`transcribe`, the decoders, `train_recognizer`) check the values.
        """
        check_features(features, self.config.n_mels, lengths, values=False)
        return self.encoder(features, lengths)

    def ctc_log_probs(self, encoded: torch.Tensor) -> torch.Tensor:
        """(B, frames', D) -> (B, frames', vocab) log-probabilities, blank at index 0."""
        return F.log_softmax(self.ctc_head(encoded), dim=-1)

    def forward(
        self,
        features: torch.Tensor,
        lengths: torch.Tensor,
        targets: torch.Tensor,
        target_lengths: torch.Tensor,
    ) -> ASROutput:
        encoded, encoder_lengths = self.encode(features, lengths)  # (B, T', D)
        log_probs = self.ctc_log_probs(encoded)  # (B, T', V)
        ctc = ctc_loss(log_probs, targets, encoder_lengths, target_lengths)
        if self.decoder is None:
            return ASROutput(ctc, ctc, None, log_probs, encoder_lengths, None, None)
        padding = padding_mask(encoder_lengths, encoded.shape[1], validate=False)  # (B, T')
        inputs, outputs = decoder_targets(targets, target_lengths)  # (B, L + 1) each
        logits, alignments = self.decoder(encoded, padding, inputs)
        attention = F.cross_entropy(
            logits.transpose(1, 2), outputs, ignore_index=-100,
            label_smoothing=self.config.label_smoothing,
        )  # fmt: skip
        weight = self.config.ctc_weight
        loss = weight * ctc + (1 - weight) * attention
        return ASROutput(loss, ctc, attention, log_probs, encoder_lengths, logits, alignments)


def ctc_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
) -> torch.Tensor:
    """CTC loss from batch-first log-probabilities (blank = 0), mean of loss / target length.

    `F.ctc_loss` wants (frames, batch, vocab); this is the one place that transposes.
    Impossible alignments (more tokens than frames allow) give 0 instead of inf.
    """
    return F.ctc_loss(
        log_probs.transpose(0, 1), targets, input_lengths, target_lengths,
        blank=BLANK, reduction="mean", zero_infinity=True,
    )  # fmt: skip


def decoder_targets(
    targets: torch.Tensor, target_lengths: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forcing pairs: inputs ``<eos> y1 .. yn`` and outputs ``y1 .. yn <eos>``.

    Padding in the outputs is -100, which `F.cross_entropy` ignores.

    Example:
        >>> inputs, outputs = decoder_targets(torch.tensor([[5, 6, 0]]), torch.tensor([2]))
        >>> inputs.tolist(), outputs.tolist()
        ([[1, 5, 6, 0]], [[5, 6, 1, -100]])
    """
    batch, width = targets.shape
    valid = ~padding_mask(target_lengths, width, validate=False)  # (B, L) True = a real token
    body = torch.where(valid, targets, 0)
    inputs = torch.cat([body.new_full((batch, 1), EOS), body], dim=1)  # (B, L + 1)
    outputs = torch.cat([torch.where(valid, targets, -100), body.new_full((batch, 1), -100)], 1)
    outputs[torch.arange(batch), target_lengths] = EOS
    return inputs, outputs
