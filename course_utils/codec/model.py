"""The neural codec: encoder, optional latent transformers, residual VQ, decoder.

    waveform (B, 1, S) -> encoder -> latents (B, T, D) -> ResidualVQ -> codes (B, Q, T)
    codes -> vectors (B, T, D) -> decoder -> waveform (B, 1, S)

The frame rate is the sample rate over the hop (16 kHz / 320 = 50 latent frames a second).
Two kinds of each end (`CodecConfig.encoder`, `CodecConfig.decoder`):
- ``"stft"`` / ``"magnitude"`` (the default, `course_utils.codec.spectral`): the encoder
  reads the log-magnitude STFT, the decoder predicts it back and Griffin-Lim finds a phase;
- ``"conv"`` (`course_utils.codec.conv`): SoundStream's strided convolutions on the waveform
  and a mirrored transposed-convolution decoder.

With `transformer_layers` > 0, transformer encoder blocks (self-attention over the latent
frames) follow the encoder and precede the decoder: each frame can draw on the whole
utterance, the attention variant of lesson 10.

A waveform whose length is not a multiple of the hop is padded with zeros at the end (to two
frames at least: Griffin-Lim's STFT needs more than half a window) and the output is cut back
to the input's length.

Shapes: B batch, S samples, T frames (S / hop), D latent dimensions, Q quantiser stages.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..attention import TransformerEncoderBlock
from .conv import Decoder, Encoder
from .quantize import ResidualVQ
from .spectral import MagnitudeDecoder, STFTEncoder

__all__ = ["DECODERS", "ENCODERS", "Codec", "CodecConfig", "LatentTransformer", "bitrate"]

ENCODERS, DECODERS = ("stft", "conv"), ("magnitude", "conv")


def bitrate(frame_rate: float, n_q: int, codebook_size: int) -> float:
    """Bits per second of a residual-VQ code stream: frames/s x stages x log2(codes).

    Example:
        >>> bitrate(50, 12, 1024)  # EnCodec's 6 kbps at 16 kHz / 320
        6000.0
    """
    return float(frame_rate * n_q * math.log2(codebook_size))


@dataclass(frozen=True)
class CodecConfig:
    """The codec's sizes. Presets: ``CodecConfig.preset("tiny" | "small")``."""

    sample_rate: int = 16_000  # Hz
    encoder: str = "stft"  # "stft" (log-magnitude STFT in) or "conv" (strided convolutions)
    decoder: str = "magnitude"  # "magnitude" (+ Griffin-Lim) or "conv" (transposed convs)
    strides: tuple[int, ...] = (2, 4, 5, 8)  # hop = their product (320: 50 frames/s)
    channels: int = 16  # "conv" ends: channels of the first convolution, doubled per stride
    n_fft: int = 640  # spectral ends: STFT window (40 ms); its hop is half the codec's hop
    width: int = 192  # spectral ends: channels of the ConvNeXt blocks
    encoder_blocks: int = 4
    decoder_blocks: int = 6
    griffin_lim_iterations: int = 32
    latent_dim: int = 64  # D: size of a latent frame and of every code vector
    n_q: int = 12  # residual VQ stages (the highest bitrate uses them all)
    codebook_size: int = 1024  # K codes per stage: log2(K) = 10 bits
    transformer_layers: int = 0  # 0: no attention; else blocks before VQ and after it
    heads: int = 4
    transformer_dim: int = 128

    @classmethod
    def preset(cls, name: str, **overrides) -> CodecConfig:
        """"tiny" (the lesson's own quick training) or "small" (the shipped codec)."""
        presets = {
            "tiny": cls(width=64, encoder_blocks=2, decoder_blocks=2, n_q=4, codebook_size=256),
            "small": cls(),
        }
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}; expected one of {sorted(presets)}")
        return replace(presets[name], **overrides)

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {self.decoder!r}")

    @property
    def hop(self) -> int:
        return math.prod(self.strides)

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    def bitrate(self, n_q: int | None = None) -> float:
        """Bits per second with the first `n_q` stages (default all)."""
        return bitrate(self.frame_rate, self.n_q if n_q is None else n_q, self.codebook_size)


class LatentTransformer(nn.Module):
    """Pre-norm transformer blocks over latent frames, with residual projections in and out:
    (B, D, T) -> (B, D, T). No positional encoding: the convolutions around it already give
    each frame its local context, and the codec must work on any length."""

    def __init__(self, config: CodecConfig):
        super().__init__()
        d = config.transformer_dim
        self.project_in = nn.Linear(config.latent_dim, d)
        self.blocks = nn.ModuleList(
            TransformerEncoderBlock(d, config.heads, ff_dim=2 * d, dropout=0.0)
            for _ in range(config.transformer_layers)
        )
        self.project_out = nn.Linear(d, config.latent_dim)
        nn.init.zeros_(self.project_out.weight)  # starts as the identity: attention is added
        nn.init.zeros_(self.project_out.bias)

    def forward(self, z: torch.Tensor, need_weights: bool = False):
        h = self.project_in(z.transpose(1, 2))
        weights = None
        for block in self.blocks:
            h, weights = block(h, need_weights=need_weights)
        out = z + self.project_out(h).transpose(1, 2)
        return (out, weights) if need_weights else out


def _init_conv(module: nn.Module) -> None:
    """Weights of variance 1 / fan-in and zero biases: the signal keeps its scale through the
    layers. (PyTorch's default shrinks it layer by layer: the latents of an untrained encoder
    then barely vary over time, k-means puts every code on one spot, and the codebooks
    collapse.)"""
    if isinstance(module, nn.Conv1d | nn.ConvTranspose1d) and module.groups == 1:
        out_or_in, _, kernel = module.weight.shape
        fan_in = module.weight.shape[1] * kernel
        if isinstance(module, nn.ConvTranspose1d):  # each output sums in / stride kernel taps
            fan_in = out_or_in * kernel / module.stride[0]
        nn.init.normal_(module.weight, std=fan_in**-0.5)
        nn.init.zeros_(module.bias)


class Codec(nn.Module):
    """Encoder, residual VQ and decoder (and optionally latent transformers).

    `forward` is the training path (straight-through quantisation) and returns what the
    decoder makes (log magnitudes, or a waveform for the "conv" decoder); `encode` and
    `decode` are the two ends of a real transmission, waveform to integer codes and back.
    """

    def __init__(self, config: CodecConfig | None = None):
        super().__init__()
        self.config = config = config or CodecConfig()
        spectral_ends = config.encoder == "stft", config.decoder == "magnitude"
        self.encoder = STFTEncoder(config) if spectral_ends[0] else Encoder(config)
        self.decoder = MagnitudeDecoder(config) if spectral_ends[1] else Decoder(config)
        self.quantizer = ResidualVQ(config.n_q, config.latent_dim, config.codebook_size)
        layers = config.transformer_layers
        self.encoder_attention = LatentTransformer(config) if layers else nn.Identity()
        self.decoder_attention = LatentTransformer(config) if layers else nn.Identity()
        self.apply(_init_conv)
        if config.decoder == "conv":
            self.decoder.net[-1].weight.data.mul_(0.1)  # start near the input's level

    def latents(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveform (B, 1, S) -> latent frames before quantisation (B, T, D), T = ceil(S / hop)
        (2 at least)."""
        return self.encoder_attention(self.encoder(self.pad(wave))).transpose(1, 2)

    def reconstruct(self, vectors: torch.Tensor) -> torch.Tensor:
        """Quantised vectors (B, T, D) -> the decoder's output: log magnitudes (B, F, 2T), or
        a waveform (B, 1, T * hop) for the "conv" decoder."""
        return self.decoder(self.decoder_attention(vectors.transpose(1, 2)))

    def waveform(self, reconstruction: torch.Tensor, length: int) -> torch.Tensor:
        """The decoder's output -> waveform (B, 1, length) (Griffin-Lim for log magnitudes)."""
        if self.config.decoder == "magnitude":
            reconstruction = self.decoder.waveform(reconstruction)
        return reconstruction[..., :length]

    def forward(self, wave: torch.Tensor, n_q: int | None = None, quantize: bool = True):
        """Waveform (B, 1, S) -> (reconstruction, codes (B, n_q, T), commitment).

        The reconstruction is what `reconstruct` returns, for the loss. ``quantize=False``
        skips the quantiser (a plain autoencoder: codes None, commitment 0), what the recipe's
        first steps train before the codebooks start from k-means."""
        latents = self.latents(wave)
        if not quantize:
            return self.reconstruct(latents), None, latents.new_zeros(())
        quantized, codes, commitment = self.quantizer(latents, n_q)
        return self.reconstruct(quantized), codes, commitment

    @torch.no_grad()
    def encode(self, wave: torch.Tensor, n_q: int | None = None) -> torch.Tensor:
        """Waveform (B, 1, S) -> integer codes (B, n_q, T), T = ceil(S / hop) (2 at least)."""
        return self.quantizer(self.latents(wave), n_q)[1]

    @torch.no_grad()
    def decode(self, codes: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """Codes (B, n_q, T) -> waveform (B, 1, length), length T * hop by default."""
        length = codes.shape[-1] * self.config.hop if length is None else length
        return self.waveform(self.reconstruct(self.quantizer.decode(codes)), length)

    def pad(self, wave: torch.Tensor) -> torch.Tensor:
        """Zeros at the end of (B, 1, S): a whole number of frames, and at least two."""
        samples = max(wave.shape[-1], 2 * self.config.hop)
        return F.pad(wave, (0, samples - wave.shape[-1] + (-samples % self.config.hop)))
