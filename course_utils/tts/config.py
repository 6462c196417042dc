"""The sizes and loss weights of the synthesiser: `TTSConfig` and its presets (lesson 09).

Field defaults are Tacotron 2's (Shen et al. 2018, section 2), except the reduction factor
(r = 2 mel frames per decoder step, as in the first Tacotron, Wang et al. 2017: half the
steps, and attention aligns sooner) and the guided-attention weight (Tachibana et al. 2017).
``TTSConfig.preset("tiny")`` is for unit tests; ``"fast"`` and ``"small"`` train on a laptop
CPU (lesson 09: "fast", with r = 2, aligned soonest in the measured runs).

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

__all__ = ["ATTENTION_KINDS", "TTSConfig"]

ATTENTION_KINDS = ("location", "content")

TTS_PRESETS = {  # field values that differ from the defaults, by preset name
    "tiny": dict(embed_dim=8, encoder_dim=16, prenet_dim=8, attention_rnn_dim=16,
                 decoder_rnn_dim=16, attention_dim=8, location_filters=4, location_kernel=5,
                 postnet_channels=8, max_decoder_steps=60),
    "small": dict(embed_dim=128, encoder_dim=128, prenet_dim=128, attention_rnn_dim=256,
                  decoder_rnn_dim=256, attention_dim=64, location_filters=16,
                  location_kernel=15, postnet_channels=128, reduction_factor=3),
    "fast": dict(embed_dim=64, encoder_dim=128, prenet_dim=64, attention_rnn_dim=128,
                 decoder_rnn_dim=128, attention_dim=64, location_filters=16,
                 location_kernel=15, postnet_channels=64, reduction_factor=2,
                 guided_sigma=0.1),  # the narrow band aligns sooner (measured: see TTSRecipe)
    "default": {},
}  # fmt: skip


@dataclass(frozen=True)
class TTSConfig:
    """Sizes of a `Tacotron`: ``TTSConfig.preset("tiny" | "small" | "default", **overrides)``."""

    vocab_size: int = 34  # len(TextTokenizer()), padding included
    n_mels: int = 80  # mel bands of the frames predicted (MelSettings().n_mels)
    embed_dim: int = 512  # character embedding size, also the encoder convolutions' channels
    encoder_convs: int = 3  # convolutions over characters (batch norm, ReLU, dropout)
    encoder_kernel: int = 5  # their width in characters (odd)
    encoder_dim: int = 512  # bidirectional LSTM output: encoder_dim // 2 per direction
    prenet_dim: int = 256  # the two prenet layers' width (a bottleneck on the last frame)
    prenet_dropout: float = 0.5  # prenet dropout, ...
    prenet_dropout_at_inference: bool = True  # ... kept on in eval mode too (Tacotron 2)
    attention_rnn_dim: int = 1024  # LSTM cell whose state queries the attention
    decoder_rnn_dim: int = 1024  # LSTM cell between attention and the frame projection
    attention_dim: int = 128  # hidden size of the attention's tanh layer
    attention_kind: str = "location"  # "location" (Chorowski et al. 2015) or "content"
    location_filters: int = 32  # location features: convolution channels ...
    location_kernel: int = 31  # ... and width, in characters (odd)
    reduction_factor: int = 2  # r: mel frames predicted per decoder step
    postnet_channels: int = 512  # the five postnet convolutions' channels
    postnet_layers: int = 5  # convolutions of the postnet
    postnet_kernel: int = 5  # their width in frames (odd)
    dropout: float = 0.5  # in the encoder convolutions and the postnet
    mel_loss: str = "l1"  # "l1" or "l2" ("l2" = Tacotron 2's MSE), before and after postnet
    stop_weight: float = 1.0  # weight of the stop-token cross-entropy
    guided_weight: float = 1.0  # weight of the guided-attention loss; 0 turns it off
    guided_sigma: float = 0.2  # g of the guided-attention weights (Tachibana et al.)
    max_text_length: int = 200  # characters a text may have at synthesis
    max_frames_per_char: float = 20.0  # length cap at synthesis: frames per input character
    max_decoder_steps: int = 1000  # ... and a hard cap on decoder steps

    def __post_init__(self) -> None:
        if self.attention_kind not in ATTENTION_KINDS:
            raise ValueError(
                f"attention_kind must be one of {ATTENTION_KINDS}, got {self.attention_kind!r}"
            )
        if self.mel_loss not in ("l1", "l2"):
            raise ValueError(f"mel_loss must be 'l1' or 'l2', got {self.mel_loss!r}")
        for name in ("vocab_size", "n_mels", "embed_dim", "encoder_convs", "encoder_dim",
                     "prenet_dim", "attention_rnn_dim", "decoder_rnn_dim", "attention_dim",
                     "location_filters", "reduction_factor", "postnet_channels",
                     "postnet_layers", "max_text_length", "max_decoder_steps"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("encoder_kernel", "location_kernel", "postnet_kernel"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1 or value % 2 == 0:
                raise ValueError(f"{name} must be a positive odd integer, got {value!r}")
        if self.encoder_dim % 2:
            raise ValueError(f"encoder_dim must be even (two directions), got {self.encoder_dim}")
        if self.postnet_layers < 2:
            raise ValueError(f"postnet_layers must be at least 2, got {self.postnet_layers}")
        for name in ("prenet_dropout", "dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        for name in ("stop_weight", "guided_weight", "guided_sigma", "max_frames_per_char"):
            if getattr(self, name) < 0 or (name == "guided_sigma" and self.guided_sigma == 0):
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @classmethod
    def preset(cls, name: str = "default", **overrides) -> TTSConfig:
        """A named size, with fields replaced by `overrides` (the course's one preset idiom).

        "tiny": about 22 k parameters, for unit tests; "fast": about 0.7 M with r = 2 and a
        narrower guided band (g = 0.1), the model lesson 09 trains on a CPU (about 0.25 s a
        step of 16 sentences on one core); "small":
        about 2.0 M with r = 3; "default": Tacotron 2's sizes (about 28 M), for a GPU.

        Example:
            >>> TTSConfig.preset("tiny", guided_weight=0.0).encoder_dim
            16
        """
        if name not in TTS_PRESETS:
            raise ValueError(f"unknown preset {name!r}; expected one of {list(TTS_PRESETS)}")
        return replace(cls(**TTS_PRESETS[name]), **overrides)

    def max_steps(self, text_length: int) -> int:
        """The length cap: decoder steps allowed for a text of `text_length` characters.

        Proportional to the text (`max_frames_per_char` frames per character, r frames a
        step), never above `max_decoder_steps`, never below one step.

        Example:
            >>> TTSConfig(reduction_factor=2).max_steps(10), TTSConfig().max_steps(10_000)
            (100, 1000)
        """
        steps = math.ceil(self.max_frames_per_char * text_length / self.reduction_factor)
        return max(1, min(self.max_decoder_steps, steps))

    def to_dict(self) -> dict:
        return asdict(self)
