"""The classic restorers a neural model must beat: Wiener filtering, spectral subtraction, sinc.

Both denoisers work on the short-time spectrum (Hann window, 512 samples = 32 ms at
16 kHz, hop 128) and keep the noisy phase; they differ in how they turn an estimate of the
noise power N(f) into a gain per time-frequency bin:

- `wiener_filter`: the Wiener gain G = xi / (1 + xi) with the a-priori SNR xi estimated
  by the decision-directed rule of Ephraim and Malah (1984),
  xi_t = alpha |G_(t-1) X_(t-1)|^2 / N + (1 - alpha) max(|X_t|^2 / N - 1, 0):
  mostly last frame's clean estimate, which keeps the gain smooth in time and avoids the
  "musical noise" of isolated bins switching on and off. G is floored (default -20 dB).
- `spectral_subtraction`: power subtraction with over-subtraction and a spectral floor
  (Berouti et al. 1979): |S|^2 = max(|X|^2 - a N, b N).

The noise power of both is the mean power of the quietest frames (a share `noise_frames`
of them, ranked by their mean log power over the bins): speech has pauses, and there the
noisy signal is the noise. That works for stationary noise; babble and scene noise change
from frame to frame, which no fixed N(f) follows: there the neural model has most to win.

For bandwidth extension the classic baseline is sinc interpolation: `sinc_upsample` puts a
low-rate signal on the 16 kHz grid with the windowed sinc of `degrade.band_limit`, which
returns that result already; nothing is restored above the old Nyquist frequency.

Every function takes a float numpy waveform of shape (time,) at 16 kHz and returns float32
of the same length (`sinc_upsample`: the new rate's length).

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio.functional as AF

from ..core import check_float_waveform, check_integer, check_number, check_sample_rate
from .degrade import MIN_LOW_RATE, SAMPLE_RATE, SINC_FILTER

__all__ = ["sinc_upsample", "spectral_subtraction", "wiener_filter"]

_TINY = 1e-12  # noise power floor, relative to the mean power: digital silence has none


def _check(noisy, sample_rate, n_fft, hop, noise_frames) -> tuple[np.ndarray, int, int, float]:
    """Validate the shared arguments; returns (noisy, n_fft, hop, noise_frames)."""
    noisy = check_float_waveform(noisy, "noisy")
    if check_sample_rate(sample_rate) != SAMPLE_RATE:
        raise ValueError(f"expected 16000 Hz audio, got {sample_rate} Hz; resample first")
    n_fft, hop = check_integer(n_fft, "n_fft", minimum=16), check_integer(hop, "hop", minimum=1)
    if hop > n_fft // 2:
        raise ValueError(f"hop must be at most n_fft / 2 = {n_fft // 2} for overlap-add, got {hop}")
    if noisy.size <= n_fft // 2:
        raise ValueError(
            f"noisy needs more than n_fft / 2 = {n_fft // 2} samples, got {noisy.size}"
        )
    noise_frames = check_number(noise_frames, "noise_frames")
    if not 0 < noise_frames <= 1:
        raise ValueError(f"noise_frames is a share of the frames, in (0, 1], got {noise_frames}")
    return noisy, n_fft, hop, noise_frames


def _stft(wave: np.ndarray, n_fft: int, hop: int) -> torch.Tensor:
    """(freq, frames) complex128 STFT, Hann window, centred frames."""
    window = torch.hann_window(n_fft, dtype=torch.float64)
    signal = torch.from_numpy(wave.astype(np.float64))
    return torch.stft(signal, n_fft, hop, window=window, center=True, return_complex=True)


def _istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Overlap-add back to a float32 (length,) waveform."""
    window = torch.hann_window(n_fft, dtype=torch.float64)
    wave = torch.istft(spec, n_fft, hop, window=window, center=True, length=length)
    return wave.numpy().astype(np.float32)


def _noise_power(power: np.ndarray, share: float) -> np.ndarray:
    """(freq,) mean power of the quietest `share` of the frames of a (freq, frames) power.

    Frames are ranked by their mean log power over the bins (their level in dB, averaged),
    not by their energy: brown and pink noise keep their energy in a few low bins whose
    power swings from frame to frame, so the lowest-energy frames are where the noise dipped.
    """
    floor = _TINY * power.mean() + 1e-30
    count = max(1, round(share * power.shape[1]))
    quietest = np.argsort(np.log(power + floor).mean(axis=0), kind="stable")[:count]
    return np.maximum(power[:, quietest].mean(axis=1), floor)


def _decision_directed_gain(
    power: np.ndarray, noise: np.ndarray, alpha: float, floor: float
) -> np.ndarray:
    """(freq, frames) Wiener gains with the a-priori SNR of Ephraim and Malah."""
    gains = np.empty_like(power)
    clean = np.maximum(power[:, 0] - noise, 0.0)  # first frame: the plain (ML) estimate
    for t in range(power.shape[1]):
        posterior = power[:, t] / noise
        prior = alpha * clean / noise + (1 - alpha) * np.maximum(posterior - 1, 0.0)
        gains[:, t] = np.maximum(prior / (1 + prior), floor)
        clean = gains[:, t] ** 2 * power[:, t]
    return gains


def wiener_filter(
    noisy: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = 512,
    hop: int = 128,
    noise_frames: float = 0.05,
    gain_floor_db: float = -20.0,
    alpha: float = 0.95,
) -> np.ndarray:
    """Denoise with a Wiener gain on the STFT, a-priori SNR by the decision-directed rule.

    Args:
        noisy: float speech plus noise, (time,), 16 kHz.
        sample_rate: 16000 Hz.
        n_fft: STFT size in samples (default 512, 32 ms).
        hop: STFT hop in samples, at most n_fft / 2 (default 128, 8 ms).
        noise_frames: share of the frames, the quietest, that estimate the noise, in (0, 1]
            (default 0.05: eSpeak sentences pause little).
        gain_floor_db: the smallest gain in dB, <= 0 (default -20): deeper gains remove
            more noise and more speech, and make musical noise.
        alpha: weight of last frame's clean estimate in the a-priori SNR, in [0, 1)
            (default 0.95; Ephraim and Malah's 0.98 smooths more and removes less).

    Returns:
        float32 (time,): the denoised waveform.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> tone = np.sin(np.arange(16000) * 0.2) * (np.arange(16000) % 4000 < 2000)
        >>> noisy = (tone + 0.3 * rng.standard_normal(16000)).astype(np.float32)
        >>> wiener_filter(noisy).shape
        (16000,)

    Notebook: 11_gan_audio_restoration.
    """
    noisy, n_fft, hop, noise_frames = _check(noisy, sample_rate, n_fft, hop, noise_frames)
    floor_db, alpha = check_number(gain_floor_db, "gain_floor_db"), check_number(alpha, "alpha")
    if floor_db > 0:
        raise ValueError(f"gain_floor_db must be <= 0 dB, got {floor_db}")
    if not 0 <= alpha < 1:
        raise ValueError(f"alpha must be in [0, 1), got {alpha}")
    spec = _stft(noisy, n_fft, hop)
    power = spec.abs().square().numpy()
    gains = _decision_directed_gain(
        power, _noise_power(power, noise_frames), alpha, 10.0 ** (floor_db / 20.0)
    )
    return _istft(spec * torch.from_numpy(gains), n_fft, hop, noisy.size)


def spectral_subtraction(
    noisy: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = 512,
    hop: int = 128,
    noise_frames: float = 0.05,
    over_subtraction: float = 3.0,
    floor: float = 0.05,
) -> np.ndarray:
    """Denoise by power spectral subtraction: |S|^2 = max(|X|^2 - a N, b N), noisy phase.

    Args:
        noisy: float speech plus noise, (time,), 16 kHz.
        sample_rate: 16000 Hz.
        n_fft: STFT size in samples (default 512, 32 ms).
        hop: STFT hop in samples, at most n_fft / 2 (default 128, 8 ms).
        noise_frames: share of the frames, the quietest, that estimate the noise, in (0, 1]
            (default 0.05: eSpeak sentences pause little).
        over_subtraction: a >= 1, how many times the noise power to subtract (default 3):
            more removes more noise, and more speech.
        floor: b in [0, 1), the spectral floor as a share of the noise power (default 0.05):
            a little noise left everywhere masks the musical noise.

    Returns:
        float32 (time,): the denoised waveform.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> tone = np.sin(np.arange(16000) * 0.2) * (np.arange(16000) % 4000 < 2000)
        >>> noisy = (tone + 0.3 * rng.standard_normal(16000)).astype(np.float32)
        >>> spectral_subtraction(noisy).shape
        (16000,)

    Notebook: 11_gan_audio_restoration.
    """
    noisy, n_fft, hop, noise_frames = _check(noisy, sample_rate, n_fft, hop, noise_frames)
    over = check_number(over_subtraction, "over_subtraction")
    floor = check_number(floor, "floor")
    if over < 1:
        raise ValueError(f"over_subtraction must be >= 1, got {over}")
    if not 0 <= floor < 1:
        raise ValueError(f"floor must be in [0, 1), got {floor}")
    spec = _stft(noisy, n_fft, hop)
    power = spec.abs().square().numpy()
    noise = _noise_power(power, noise_frames)[:, None]
    clean = np.maximum(power - over * noise, floor * noise)
    gains = np.sqrt(clean / np.maximum(power, 1e-30))
    return _istft(spec * torch.from_numpy(gains), n_fft, hop, noisy.size)


def sinc_upsample(
    wave: np.ndarray, from_rate: int = 8_000, to_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Windowed-sinc interpolation to a higher rate: the classic bandwidth-extension baseline.

    It uses `degrade.SINC_FILTER`, so `sinc_upsample` of an 8 kHz signal equals what
    `degrade.band_limit` returns: `band_limit`'s output is already this baseline's answer.

    Args:
        wave: float samples at `from_rate`, (time,).
        from_rate: the low rate in Hz, 2000 <= from_rate < to_rate (default 8000).
        to_rate: the output rate in Hz (default 16000).

    Returns:
        float32 (ceil(time * to_rate / from_rate),), empty above from_rate / 2.

    Example:
        >>> sinc_upsample(np.zeros(800, dtype=np.float32)).shape
        (1600,)

    Notebook: 11_gan_audio_restoration.
    """
    wave = check_float_waveform(wave, "wave")
    to_rate = check_sample_rate(to_rate, "to_rate")
    from_rate = check_integer(from_rate, "from_rate")
    if not MIN_LOW_RATE <= from_rate < to_rate:
        raise ValueError(
            f"from_rate must be in [{MIN_LOW_RATE}, to_rate={to_rate}), got {from_rate}"
        )
    return AF.resample(torch.from_numpy(wave), from_rate, to_rate, **SINC_FILTER).numpy()
