"""Augmentation on the fly, per training batch: noise at a random SNR, an echo, and VTLP.

The corpus clips are augmented once, when generated (`course_utils.augment.waveform`); a
model that sees each clip many times also profits from fresh variations at every epoch.
Three are cheap enough to draw per batch, on any device:

- `NoiseMixer`: coloured noise at a random signal-to-noise ratio, added to the waveforms;
- `Echo`: one strong reflection (a hard wall, a voice variant with an echo), 30-250 ms late;
- `FrequencyWarp`: vocal tract length perturbation (VTLP) of the log-mel features.

All three are `nn.Module`s that act in training mode and are the identity in eval mode; they
draw from torch's global generator (`course_utils.set_seed` repeats a run).

VTLP. A longer or shorter vocal tract moves every formant by about the same factor: a child's
formants sit 20-40 % above an adult man's. A model trained on some voices meets new ones whose
spectra are stretched; VTLP (Jaitly and Hinton 2013) shows it such voices during training by
warping each example's frequency axis by a random factor alpha: the energy at f Hz moves to
alpha * f. On log-mel features this is a resampling of the mel axis, cheap and done per batch.

Waveforms are (batch, time); features keep torchaudio's layout (batch, n_mels, frames); the
band centres follow the Slaney mel scale that `course_utils.audio.features.LogMel` uses.

Shapes: B batch, T samples (waveforms) or frames (features), M mel bands.

Notebook: 06_audio_classification (section "Augmentation").
"""

from __future__ import annotations

import math

import librosa
import numpy as np
import torch
from torch import nn

from ..core import check_number, check_sample_rate, check_waveform
from .waveform import NOISE_COLORS, colored_noise, snr_gain

__all__ = ["Echo", "FrequencyWarp", "NoiseMixer", "frequency_warp", "mel_band_centers"]


def _probability(prob: float) -> float:
    prob = check_number(prob, "prob")
    if not 0 <= prob <= 1:
        raise ValueError(f"prob must be in [0, 1], got {prob}")
    return prob


def mel_band_centers(
    n_mels: int, sample_rate: int, f_min: float = 0.0, f_max: float | None = None
) -> torch.Tensor:
    """Centre frequency of each mel band in Hz, (n_mels,), Slaney scale (as `LogMel`).

    Example:
        >>> centers = mel_band_centers(40, 16000)
        >>> centers.shape, bool((centers.diff() > 0).all()), float(centers[-1]) < 8000
        (torch.Size([40]), True, True)
    """
    sample_rate = check_sample_rate(sample_rate)
    f_max = sample_rate / 2 if f_max is None else f_max
    edges = librosa.mel_frequencies(n_mels + 2, fmin=f_min, fmax=f_max, htk=False)
    return torch.tensor(edges[1:-1], dtype=torch.float32)  # band i peaks at edge i + 1


def frequency_warp(
    features: torch.Tensor, factors: torch.Tensor, centers: torch.Tensor
) -> torch.Tensor:
    """Move the energy at f Hz to factors[b] * f Hz in each example b (linear interpolation).

    Args:
        features: (batch, n_mels, frames) log-mel features.
        factors: (batch,) warp factors alpha > 0; 1 leaves an example unchanged.
        centers: (n_mels,) band centres in Hz, increasing (`mel_band_centers`).

    Returns:
        (batch, n_mels, frames): band j takes the value the input has at centers[j] / alpha,
        interpolated between the two nearest bands; beyond the edges the edge band is repeated.

    Example:
        >>> x = torch.randn(2, 40, 5)
        >>> centers = mel_band_centers(40, 16000)
        >>> torch.allclose(frequency_warp(x, torch.ones(2), centers), x, atol=1e-5)
        True
    """
    if features.ndim != 3 or centers.shape != (features.shape[1],):
        raise ValueError(
            f"expected features (batch, n_mels, frames) and centers (n_mels,), got "
            f"{tuple(features.shape)} and {tuple(centers.shape)}"
        )
    if factors.shape != (features.shape[0],) or not bool((factors > 0).all()):
        raise ValueError(f"factors must be (batch,)={features.shape[0]} positive numbers")
    n_mels, frames = features.shape[1:]
    centers = centers.to(features.device, features.dtype)
    source = centers[None] / factors[:, None].to(features.dtype)  # (B, M) Hz to read from
    upper = torch.searchsorted(centers, source.contiguous()).clamp(1, n_mels - 1)  # (B, M)
    low, high = centers[upper - 1], centers[upper]
    fraction = ((source - low) / (high - low)).clamp(0.0, 1.0)[..., None]  # (B, M, 1)
    index = (upper - 1)[..., None].expand(-1, -1, frames)  # (B, M, T)
    below = features.gather(1, index)
    above = features.gather(1, (index + 1).clamp(max=n_mels - 1))
    return below + fraction * (above - below)


class FrequencyWarp(nn.Module):
    """VTLP for training: warp each example by a factor drawn log-uniformly in [1/max, max].

    Args:
        n_mels, sample_rate, f_min, f_max: the mel front end the features come from.
        max_factor: the largest stretch (default 1.25: formants up to 25 % higher or 20 % lower).

    Shapes:
        features (batch, n_mels, frames) -> same; the identity in eval mode.

    Example:
        >>> warp = FrequencyWarp(n_mels=40, sample_rate=16000)
        >>> x = torch.randn(3, 40, 101)
        >>> warp(x).shape, warp.eval()(x) is x
        (torch.Size([3, 40, 101]), True)

    Notebook: 06_audio_classification.
    """

    def __init__(self, n_mels: int, sample_rate: int, f_min: float = 0.0,
                 f_max: float | None = None, max_factor: float = 1.25):  # fmt: skip
        super().__init__()
        self.max_factor = check_number(max_factor, "max_factor")
        if self.max_factor < 1:
            raise ValueError(f"max_factor must be >= 1, got {max_factor}")
        self.register_buffer("centers", mel_band_centers(n_mels, sample_rate, f_min, f_max))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if not self.training or self.max_factor == 1:
            return features
        limit = math.log(self.max_factor)
        log_factors = torch.empty(features.shape[0], device=features.device).uniform_(-limit, limit)
        return frequency_warp(features, log_factors.exp(), self.centers)

    def extra_repr(self) -> str:
        return f"n_mels={len(self.centers)}, max_factor={self.max_factor}"


class NoiseMixer(nn.Module):
    """Add coloured noise at a random SNR to some waveforms of each training batch.

    Noise comes from a bank of clips made once by `course_utils.augment.colored_noise`
    (white, pink, brown) and read from a random place; its level is set per example so that
    the clip-to-noise power ratio is the drawn SNR (`snr_gain`, as `add_noise` does).

    Args:
        sample_rate: rate of the waveforms in Hz.
        prob: chance that an example gets noise (default 0.5).
        snr_db_range: (low, high) SNR in dB, drawn uniformly (default -5 to 30).
        colors: noise colours in the bank.
        bank_clips: noise clips per colour (default 16), each `bank_seconds` long (default 2).
        seed: seed of the bank (the draws per batch use torch's generator).

    Shapes:
        waveform (batch, time) -> (batch, time); the identity in eval mode.

    Example:
        >>> mixer = NoiseMixer(16000, prob=1.0, snr_db_range=(10.0, 10.0))
        >>> clean = torch.randn(4, 16000)
        >>> noise = mixer(clean) - clean
        >>> round(10 * math.log10(clean.pow(2).mean() / noise.pow(2).mean()))
        10

    Notebook: 06_audio_classification.
    """

    def __init__(self, sample_rate: int, prob: float = 0.5,
                 snr_db_range: tuple[float, float] = (-5.0, 30.0),
                 colors: tuple[str, ...] = NOISE_COLORS, bank_clips: int = 16,
                 bank_seconds: float = 2.0, seed: int = 0):  # fmt: skip
        super().__init__()
        self.prob = _probability(prob)
        low, high = snr_db_range
        if not low <= high:
            raise ValueError(
                f"snr_db_range must be (low, high) with low <= high, got {snr_db_range}"
            )
        self.snr_db_range = (float(low), float(high))
        rng = np.random.default_rng(seed)
        length = round(bank_seconds * check_sample_rate(sample_rate))
        bank = [colored_noise(length, color, rng) for color in colors for _ in range(bank_clips)]
        self.register_buffer("bank", torch.from_numpy(np.stack(bank)).float(), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if not self.training or self.prob == 0:
            return waveform
        check_waveform(waveform, ndims=(2,))
        batch, time = waveform.shape
        device = waveform.device
        picks = torch.randint(len(self.bank), (batch,), device=device)
        starts = torch.randint(self.bank.shape[1], (batch, 1), device=device)
        index = (starts + torch.arange(time, device=device)) % self.bank.shape[1]  # (B, T)
        noise = self.bank[picks[:, None], index]  # (B, T), wraps around the bank clip
        snr_db = torch.empty(batch, device=device).uniform_(*self.snr_db_range)
        signal_power = waveform.pow(2).mean(dim=1).clamp_min(1e-10)
        noise_power = noise.pow(2).mean(dim=1).clamp_min(1e-10)
        scale = snr_gain(signal_power, noise_power, snr_db)  # (B,)
        chosen = (torch.rand(batch, device=device) < self.prob).to(waveform.dtype)
        return waveform + (chosen * scale)[:, None] * noise

    def extra_repr(self) -> str:
        return f"prob={self.prob}, snr_db_range={self.snr_db_range}, bank={tuple(self.bank.shape)}"


class Echo(nn.Module):
    """Add one delayed, attenuated copy of each chosen waveform: y(t) = x(t) + g x(t - d).

    A single strong reflection smears a word in time more than diffuse reverberation of the same
    energy; real rooms have them, and so do some eSpeak voice variants ("echo" in their files).

    Args:
        sample_rate: rate of the waveforms in Hz.
        prob: chance that an example gets an echo (default 0.3).
        delay_range: (low, high) delay d in seconds (default 0.03 to 0.25).
        gain_range: (low, high) gain g of the copy (default 0.2 to 0.8).

    Shapes:
        waveform (batch, time) -> (batch, time); the identity in eval mode.

    Example:
        >>> echo = Echo(8000, prob=1.0, delay_range=(0.001, 0.001), gain_range=(0.5, 0.5))
        >>> echo(torch.tensor([[1.0] + [0.0] * 11])).nonzero()[:, 1].tolist()
        [0, 8]

    Notebook: 06_audio_classification.
    """

    def __init__(self, sample_rate: int, prob: float = 0.3,
                 delay_range: tuple[float, float] = (0.03, 0.25),
                 gain_range: tuple[float, float] = (0.2, 0.8)):  # fmt: skip
        super().__init__()
        self.sample_rate = check_sample_rate(sample_rate)
        self.prob = _probability(prob)
        for name, (low, high) in (("delay_range", delay_range), ("gain_range", gain_range)):
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be (low, high) with 0 <= low <= high")
        self.delay_range, self.gain_range = tuple(delay_range), tuple(gain_range)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if not self.training or self.prob == 0:
            return waveform
        check_waveform(waveform, ndims=(2,))
        batch, time = waveform.shape
        device = waveform.device
        delays = torch.empty(batch, device=device).uniform_(*self.delay_range)
        delays = (delays * self.sample_rate).round().long().clamp(0, time)  # samples, (B,)
        gains = torch.empty(batch, device=device).uniform_(*self.gain_range)
        gains = gains * (torch.rand(batch, device=device) < self.prob)
        source = torch.arange(time, device=device) - delays[:, None]  # (B, T): t - d
        delayed = waveform.gather(1, source.clamp(min=0)) * (source >= 0)
        return waveform + gains[:, None].to(waveform.dtype) * delayed
