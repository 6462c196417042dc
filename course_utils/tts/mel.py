"""The mel spectrogram a synthesiser predicts: one normalisation for the model and the vocoder.

A text-to-speech model is trained to output `mel_target(waveform)`, and its output is heard
through `mel_to_waveform` (in `course_utils.tts.vocoder`), which undoes exactly this
normalisation. Both read one `MelSettings`, so the two cannot disagree: a model trained on
per-clip standardised features (lesson 08's recogniser input) would sound wrong through a
vocoder that expects absolute levels, a classic mistake.

The features are `LogMel`'s power mel in dB (Slaney scale, as librosa), floored at
``min_db`` and mapped linearly so that the floor is -1 and 0 dB is +1 (speech peaks at about
+20 dB, i.e. 1.5). A fixed map, not per-clip statistics: loudness survives the round trip.

Shapes: M mel bands, T frames. Lesson 09 (speech synthesis) explains it.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ..audio import LogMel
from ..core import check_waveform

__all__ = ["MelSettings", "db_to_mel", "mel_frames", "mel_target", "mel_to_db"]


@dataclass(frozen=True)
class MelSettings:
    """How waveforms become the synthesiser's mel frames (and back, in the vocoder)."""

    sample_rate: int = 16_000  # Hz, the corpus rate
    n_fft: int = 1024  # FFT size and window length in samples (64 ms)
    hop_length: int = 256  # samples between frames (16 ms: 62.5 frames per second)
    n_mels: int = 80  # mel bands, Slaney scale and filter normalisation
    f_min: float = 0.0  # lowest band edge, Hz
    f_max: float = 8_000.0  # highest band edge, Hz
    min_db: float = -80.0  # floor in dB (power 1.0 = 0 dB); maps to -1, while 0 dB maps to +1

    def __post_init__(self) -> None:
        if self.min_db >= 0:
            raise ValueError(f"min_db must be negative, got {self.min_db}")


def db_to_mel(db: torch.Tensor, settings: MelSettings = MelSettings()) -> torch.Tensor:
    """dB -> normalised mel: floor at ``min_db``, then ``min_db`` -> -1 and 0 dB -> +1.

    Example:
        >>> db_to_mel(torch.tensor([-100.0, -80.0, -40.0, 0.0, 20.0])).tolist()
        [-1.0, -1.0, 0.0, 1.0, 1.5]
    """
    half_range = -settings.min_db / 2
    return db.clamp(min=settings.min_db) / half_range + 1


def mel_to_db(mel: torch.Tensor, settings: MelSettings = MelSettings()) -> torch.Tensor:
    """The inverse of `db_to_mel` above the floor: normalised mel -> dB.

    Example:
        >>> mel_to_db(torch.tensor([-1.0, 0.0, 1.5])).tolist()
        [-80.0, -40.0, 20.0]
    """
    return (mel - 1) * (-settings.min_db / 2)


@functools.lru_cache(maxsize=4)
def _log_mel(settings: MelSettings) -> LogMel:
    """One `LogMel` per settings, built once (a filterbank per call is wasted work)."""
    return LogMel(settings.sample_rate, n_fft=settings.n_fft, hop_length=settings.hop_length,
                  n_mels=settings.n_mels, f_min=settings.f_min, f_max=settings.f_max,
                  top_db=None)  # fmt: skip


def mel_target(waveform: torch.Tensor, settings: MelSettings = MelSettings()) -> torch.Tensor:
    """The mel frames a synthesiser learns to predict from a waveform at `settings.sample_rate`.

    Args:
        waveform: (time,) or (batch, time) float, in [-1, 1].
        settings: the analysis and the normalisation (default `MelSettings()`).

    Returns:
        (n_mels, frames) or (batch, n_mels, frames), frames = 1 + time // hop_length; about
        -1 in silence and up to about 1.5 at the loudest.

    Example:
        >>> mel_target(torch.zeros(16_000)).shape
        torch.Size([80, 63])
    """
    check_waveform(waveform, ndims=(1, 2))
    waveform = torch.as_tensor(waveform, dtype=torch.float32)
    log_mel = _log_mel(settings).to(waveform.device)
    return db_to_mel(log_mel(waveform), settings)


def mel_frames(num_samples: int, settings: MelSettings = MelSettings()) -> int:
    """Frames of `mel_target` for a clip of `num_samples` samples (centred frames).

    Example:
        >>> mel_frames(16_000)
        63
    """
    return 1 + int(num_samples) // settings.hop_length
