"""The classic codecs a neural codec is measured against, through what is installed.

- `mu_law_roundtrip`: 8-bit mu-law (the telephone's G.711 companding; torchaudio's
  `mu_law_encoding` / `mu_law_decoding`): 8 bits per sample, 128 kbps at 16 kHz;
- `classic_roundtrip`: Opus (in OGG) and MP3 through `soundfile`, whose libsndfile writes
  both (Opus from libsndfile 1.0.29, MP3 from 1.1.0); no other codec binary is needed.
  ``compression_level`` (0 best quality .. 1 smallest file) sets the bitrate.

Counting bits honestly: on a 2-second clip the OGG container's headers weigh several kbps,
so `classic_roundtrip` encodes all clips as one long stream and divides its size by its
duration (the headers then weigh next to nothing), then cuts the decoded stream back into
clips. Codecs may also shift the signal (Opus's look-ahead, MP3's encoder delay):
`estimate_delay` finds the shift by cross-correlation, and the clips are cut after undoing it.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from ..core import check_sample_rate, check_waveform

__all__ = [
    "CLASSIC_CODECS",
    "ClassicCodec",
    "check_codec_support",
    "classic_roundtrip",
    "estimate_delay",
    "mu_law_roundtrip",
]


def mu_law_roundtrip(wave: np.ndarray, bits: int = 8) -> np.ndarray:
    """Quantise a float waveform in [-1, 1] to `bits`-bit mu-law and back.

    Example:
        >>> x = np.linspace(-1, 1, 5, dtype=np.float32)
        >>> bool(np.abs(mu_law_roundtrip(x) - x).max() < 0.02)
        True
    """
    check_waveform(wave, "wave")
    channels = 2**bits
    codes = AF.mu_law_encoding(torch.as_tensor(np.clip(wave, -1.0, 1.0)), channels)
    return AF.mu_law_decoding(codes, channels).numpy().astype(np.float32)


@dataclass(frozen=True)
class ClassicCodec:
    """One setting of a codec libsndfile writes."""

    name: str  # e.g. "Opus 1.0"
    format: str  # soundfile format: "OGG" or "MP3"
    subtype: str  # "OPUS" or "MPEG_LAYER_III"
    compression_level: float  # 0 (best) .. 1 (smallest)
    bitrate_mode: str | None = None  # MP3: None (variable), "AVERAGE" or "CONSTANT"


CLASSIC_CODECS = (
    ClassicCodec("Opus", "OGG", "OPUS", 1.0),  # ~6.4 kbps on 16 kHz speech
    ClassicCodec("Opus", "OGG", "OPUS", 0.99),  # ~8 kbps
    ClassicCodec("Opus", "OGG", "OPUS", 0.97),  # ~12 kbps
    ClassicCodec("Opus", "OGG", "OPUS", 0.95),  # ~16 kbps
    ClassicCodec("MP3", "MP3", "MPEG_LAYER_III", 0.99, "AVERAGE"),  # ~10 kbps
    ClassicCodec("MP3", "MP3", "MPEG_LAYER_III", 0.99),  # ~22 kbps
)


def check_codec_support(codec: ClassicCodec) -> None:
    """Raise RuntimeError, saying what is missing, if libsndfile cannot write `codec`."""
    formats, version = sf.available_formats(), sf.__libsndfile_version__
    if codec.format not in formats or codec.subtype not in sf.available_subtypes(codec.format):
        needed = {"OPUS": "1.0.29", "MPEG_LAYER_III": "1.1.0"}.get(codec.subtype, "a newer")
        raise RuntimeError(
            f"the installed libsndfile {version} cannot write {codec.format}/{codec.subtype} "
            f"({codec.name}); it needs libsndfile {needed} or newer built with that codec "
            "(the soundfile wheels from PyPI bundle one)"
        )


def estimate_delay(reference: np.ndarray, decoded: np.ndarray, max_lag: int = 4000) -> int:
    """The shift (samples) that best aligns `decoded` with `reference`: decoded[n + d] ~
    reference[n]. Cross-correlation by FFT over lags -max_lag..max_lag.

    Example:
        >>> x = np.random.default_rng(0).standard_normal(8000)
        >>> estimate_delay(x, np.concatenate([np.zeros(37), x])[:8000])
        37
    """
    n = len(reference) + len(decoded)
    spectrum = np.fft.rfft(decoded, n) * np.conj(np.fft.rfft(reference, n))
    correlation = np.fft.irfft(spectrum, n)
    lags = np.r_[0 : max_lag + 1, -max_lag:0]
    return int(lags[np.argmax(correlation[lags])])


def classic_roundtrip(
    waves: list[np.ndarray], sample_rate: int, codec: ClassicCodec
) -> tuple[list[np.ndarray], float, int]:
    """Encode `waves` as one stream with `codec`, decode it, and cut it back into clips.

    Returns:
        (decoded clips, each the length of its input; bitrate in bits per second of the
        whole stream, container included; the delay undone, in samples).
    """
    check_sample_rate(sample_rate)
    check_codec_support(codec)
    if not waves:
        raise ValueError("classic_roundtrip needs at least one clip, got none")
    for i, wave in enumerate(waves):
        check_waveform(wave, f"waves[{i}]")
    stream = np.concatenate(waves).astype(np.float32)
    buffer = io.BytesIO()
    options = {"compression_level": codec.compression_level}
    if codec.bitrate_mode:
        options["bitrate_mode"] = codec.bitrate_mode
    sf.write(buffer, stream, sample_rate, format=codec.format, subtype=codec.subtype, **options)
    bits = buffer.tell() * 8
    buffer.seek(0)
    decoded, _ = sf.read(buffer, dtype="float32")
    delay = estimate_delay(stream, decoded)
    decoded = np.pad(decoded, (0, max(0, len(stream) + delay - len(decoded))))
    decoded = decoded[delay:] if delay >= 0 else np.pad(decoded, (-delay, 0))
    edges = np.cumsum([0] + [len(w) for w in waves])
    clips = [decoded[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return clips, bits / (len(stream) / sample_rate), delay
