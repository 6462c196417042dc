"""Hearing mel frames: Griffin-Lim through torchaudio, undoing `mel_target`'s normalisation.

A mel spectrogram has lost two things a waveform needs: the fine frequency detail inside
each band and the phase. `torchaudio.transforms.InverseMelScale` finds a linear-frequency
power spectrogram whose mel bands match (least squares, negatives clipped to zero), and
`torchaudio.transforms.GriffinLim` (Griffin and Lim 1984) finds a phase consistent with it
by alternating STFT and inverse STFT. The result is intelligible but buzzy: lesson 09
measures how much the recogniser loses to the vocoder alone by running it on the true
mels of real speech, which separates the vocoder's losses from the model's.

Shapes: M mel bands, T frames, N samples.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import functools

import torch
import torchaudio.transforms as T
from torch import nn

from .mel import MelSettings, mel_to_db

__all__ = ["GriffinLimVocoder", "mel_to_waveform"]


class GriffinLimVocoder(nn.Module):
    """Normalised mel (`mel_target`'s output) -> waveform, with Griffin-Lim phase recovery.

    Args:
        settings: the analysis the mels came from (default `MelSettings()`).
        n_iter: Griffin-Lim iterations (default 32; more is slower and a little cleaner).

    Shapes:
        mel (n_mels, frames) or (batch, n_mels, frames) ->
        waveform (samples,) or (batch, samples), samples = (frames - 1) * hop_length.

    Example:
        >>> vocoder = GriffinLimVocoder(n_iter=2)
        >>> vocoder(torch.full((80, 63), -1.0)).shape
        torch.Size([15872])
    """

    def __init__(self, settings: MelSettings | None = None, n_iter: int = 32):
        super().__init__()
        settings = settings or MelSettings()
        self.settings = settings
        # The filterbank of `LogMel` (Slaney), which `mel_target` analyses with.
        self.inverse_mel = T.InverseMelScale(
            n_stft=settings.n_fft // 2 + 1, n_mels=settings.n_mels,
            sample_rate=settings.sample_rate, f_min=settings.f_min, f_max=settings.f_max,
            norm="slaney", mel_scale="slaney",
        )  # fmt: skip
        self.griffin_lim = T.GriffinLim(
            n_fft=settings.n_fft, hop_length=settings.hop_length, power=2.0, n_iter=n_iter,
            rand_init=False,  # start from zero phase: the same mel always sounds the same
        )  # fmt: skip

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if mel.ndim not in (2, 3) or mel.shape[-2] != self.settings.n_mels:
            raise ValueError(
                f"expected mel of shape ([batch,] n_mels={self.settings.n_mels}, frames), got "
                f"{tuple(mel.shape)}; was it made with other MelSettings?"
            )
        db = mel_to_db(mel.float(), self.settings)  # undo the normalisation of `mel_target`
        power_mel = 10.0 ** (db / 10)  # (..., M, T), as LogMel's MelSpectrogram computed it
        power = self.inverse_mel(power_mel)  # (..., n_fft // 2 + 1, T)
        return self.griffin_lim(power)  # (..., (T - 1) * hop_length)


@functools.lru_cache(maxsize=4)
def _vocoder(settings: MelSettings, n_iter: int) -> GriffinLimVocoder:
    return GriffinLimVocoder(settings, n_iter)


def mel_to_waveform(
    mel: torch.Tensor, settings: MelSettings | None = None, n_iter: int = 32
) -> torch.Tensor:
    """Hear normalised mel frames: the inverse of `mel_target`, through Griffin-Lim.

    Args:
        mel: (n_mels, frames) or (batch, n_mels, frames), normalised as `mel_target` does.
        settings: the `MelSettings` the mels were made with (default `MelSettings()`).
        n_iter: Griffin-Lim iterations (default 32).

    Returns:
        waveform (samples,) or (batch, samples) at `settings.sample_rate`, on mel's device,
        samples = (frames - 1) * hop_length.

    Example:
        >>> mel_to_waveform(torch.full((80, 10), -1.0), n_iter=2).shape
        torch.Size([2304])
    """
    vocoder = _vocoder(settings or MelSettings(), n_iter).to(mel.device)
    with torch.no_grad():
        return vocoder(mel)
