"""Speech quality measures: STOI, wideband PESQ, SI-SDR, log-mel and log-spectral distances.

Lessons 10 (decoded speech) and 11 (restored speech) score a processed signal against the
clean one it came from:

- `stoi`: short-time objective intelligibility (Taal et al. 2011), 0..1, from `pystoi`,
  the reference implementation: how well the 1/3-octave band envelopes of 384 ms windows
  correlate. Above about 0.9, listeners understand nearly every word.
- `pesq_wb`: wideband PESQ (ITU-T P.862.2), 1.0..4.6 (MOS-LQO), from `pesq`, the ITU
  reference code: a model of how a listener would rate the quality (16 kHz only).
- `si_sdr`: scale-invariant signal-to-distortion ratio in dB (Le Roux et al. 2019): the
  energy of the part of the estimate that is the reference, over the energy of the rest.
  It punishes phase errors that the ear barely hears, so a codec can sound fine with a low
  SI-SDR. No installed library computes it; its test checks a hand-worked case.
- `mel_distance`: the mean absolute difference of the two log-mel spectrograms in dB
  (64 bands, 25 ms windows, 10 ms hop; quiet cells floored 80 dB below the reference's
  peak so silence does not dominate).
- `log_spectral_distance`: LSD, the measure of the bandwidth-extension literature (NU-Wave,
  AudioSR): per frame, the RMS over frequency bins of log10 P_ref - log10 P_est (power
  spectrograms), averaged over frames; in log10 power ("bels", x10 for dB). With ``band=``
  it looks at one band only, e.g. the restored 4-8 kHz of 8 -> 16 kHz extension.
- `quality_scores`: STOI, PESQ, SI-SDR and mel distance at once.

Inputs are (time,) float waveforms of the same length and sample rate, the reference
first, as in `pystoi` and `pesq`. Bad input (other shapes, lengths, rates, silence,
NaN) raises ValueError with what was expected.

Notebook: 10_neural_audio_compression and 11_gan_audio_restoration.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

from ..core import check_integer, check_number, check_sample_rate, check_waveform

__all__ = ["log_spectral_distance", "mel_distance", "pesq_wb", "quality_scores", "si_sdr", "stoi"]

_LSD_FLOOR = 1e-8  # power floor of the log-spectral distance (NU-Wave, AudioSR)


def _pair(reference, degraded) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for wave, name in ((reference, "reference"), (degraded, "degraded")):
        if isinstance(wave, torch.Tensor):
            wave = wave.detach().cpu().numpy()
        check_waveform(wave, name)
        arrays.append(np.asarray(wave, dtype=np.float64))
    reference, degraded = arrays
    if len(reference) != len(degraded):
        raise ValueError(
            f"reference and degraded must have the same length, got {len(reference)} and "
            f"{len(degraded)} samples (align and trim them first)"
        )
    if not np.any(reference):
        raise ValueError("reference is silent (all zeros): these measures need speech")
    return reference, degraded


def stoi(reference, degraded, sample_rate: int, extended: bool = False) -> float:
    """STOI (or extended STOI) of `degraded` against `reference`, from `pystoi`.

    Example:
        >>> x = np.random.default_rng(0).standard_normal(16000)
        >>> round(stoi(x, x, 16000), 6)
        1.0
    """
    from pystoi import stoi as reference_stoi

    reference, degraded = _pair(reference, degraded)
    return float(reference_stoi(reference, degraded, check_sample_rate(sample_rate), extended))


def pesq_wb(reference, degraded, sample_rate: int = 16_000) -> float:
    """Wideband PESQ (MOS-LQO, 1.0 to about 4.6) from the ITU reference code (`pesq`).

    Raises ValueError unless `sample_rate` is 16000 (resample first) or when PESQ finds no
    speech in the reference.
    """
    from pesq import NoUtterancesError, pesq

    reference, degraded = _pair(reference, degraded)
    if sample_rate != 16_000:
        raise ValueError(
            f"wideband PESQ needs 16000 Hz audio, got {sample_rate} Hz; resample first"
        )
    try:
        return float(pesq(16_000, reference, degraded, "wb"))
    except NoUtterancesError as error:
        raise ValueError(f"PESQ found no speech in the reference ({error})") from None


def si_sdr(reference, estimate) -> float:
    """Scale-invariant SDR in dB: 10 log10(|a s|^2 / |a s - x|^2), a = <x, s> / |s|^2.

    Both signals are made zero-mean first (Le Roux et al. 2019).

    Example:
        >>> s = np.sin(np.arange(1000) / 5.0)
        >>> round(si_sdr(s, 0.5 * s), 6)  # a gain changes nothing
        inf
    """
    reference, estimate = _pair(reference, estimate)
    reference, estimate = reference - reference.mean(), estimate - estimate.mean()
    target = (estimate @ reference) / (reference @ reference) * reference
    error = float(np.sum((estimate - target) ** 2))
    if error == 0.0:
        return float("inf")
    return float(10 * np.log10(np.sum(target**2) / error))


def mel_distance(reference, degraded, sample_rate: int, floor_db: float = 80.0) -> float:
    """Mean |log-mel(reference) - log-mel(degraded)| in dB (see the module docstring)."""
    reference, degraded = _pair(reference, degraded)
    mel = torchaudio.transforms.MelSpectrogram(
        check_sample_rate(sample_rate), n_fft=int(0.025 * sample_rate),
        hop_length=sample_rate // 100, n_mels=64,
    ).double()  # fmt: skip
    ref_db, deg_db = (
        10 * torch.log10(mel(torch.from_numpy(w)) + 1e-20) for w in (reference, degraded)
    )
    floor = ref_db.max() - floor_db
    return float((ref_db.clamp(min=floor) - deg_db.clamp(min=floor)).abs().mean())


def _band_bins(sample_rate: int, n_fft: int, band) -> torch.Tensor:
    """Indices of the STFT bins with low_hz <= f < high_hz (all bins for band=None)."""
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
    if band is None:
        return torch.arange(freqs.numel())
    if not isinstance(band, (tuple, list)) or len(band) != 2:
        raise ValueError(f"band must be (low_hz, high_hz) or None, got {band!r}")
    low, high = check_number(band[0], "band low_hz"), check_number(band[1], "band high_hz")
    if not 0 <= low < high <= sample_rate / 2:
        raise ValueError(
            f"band must satisfy 0 <= low_hz < high_hz <= sample_rate / 2 = {sample_rate / 2:g} Hz,"
            f" got {band!r}"
        )
    bins = torch.nonzero((freqs >= low) & (freqs < high)).flatten()
    if bins.numel() == 0:
        raise ValueError(
            f"band {band!r} holds no STFT bin (bins are {sample_rate / n_fft:g} Hz apart); "
            "widen it or raise n_fft"
        )
    return bins


def log_spectral_distance(
    reference, estimate, sample_rate: int, band=None, n_fft: int = 2048, hop: int = 512
) -> float:
    """Log-spectral distance (LSD) in log10 power units ("bels"; multiply by 10 for dB).

    P = |STFT|^2 (Hann window, centred frames) floored at 1e-8; per frame,
    sqrt(mean over the chosen bins of (log10 P_ref - log10 P_est)^2); then the mean over
    frames, as in NU-Wave and AudioSR. 0 means identical spectra; a gain of 2 gives
    log10(4) = 0.602 in every bin. It ignores phase entirely.

    Args:
        reference: the clean signal, (time,), at least `n_fft` samples.
        estimate: the restored (or degraded) signal, (time,), the same length.
        sample_rate: rate in Hz of both.
        band: (low_hz, high_hz) to score only bins with low_hz <= f < high_hz, e.g.
            (4000, 8000), the band that 8 -> 16 kHz extension must invent; None: all bins.
        n_fft: STFT size in samples (default 2048, 128 ms at 16 kHz).
        hop: STFT hop in samples (default 512).

    Returns:
        the LSD, a float >= 0.

    Example:
        >>> x = np.random.default_rng(0).standard_normal(16000)
        >>> round(log_spectral_distance(x, 2 * x, 16000), 5)  # 2 log10(2)
        0.60206

    Notebook: 11_gan_audio_restoration.
    """
    reference, estimate = _pair(reference, estimate)
    sample_rate = check_sample_rate(sample_rate)
    n_fft, hop = check_integer(n_fft, "n_fft", minimum=2), check_integer(hop, "hop", minimum=1)
    if len(reference) < n_fft:
        raise ValueError(f"the signals need at least n_fft = {n_fft} samples, got {len(reference)}")
    bins = _band_bins(sample_rate, n_fft, band)
    window = torch.hann_window(n_fft, dtype=torch.float64)
    log_power = [
        torch.stft(torch.from_numpy(w), n_fft, hop, window=window, center=True, return_complex=True)
        .abs()
        .square()
        .clamp(min=_LSD_FLOOR)
        .log10()[bins]
        for w in (reference, estimate)
    ]  # each (bins, frames)
    per_frame = (log_power[0] - log_power[1]).square().mean(dim=0).sqrt()
    return float(per_frame.mean())


def quality_scores(reference, degraded, sample_rate: int = 16_000) -> dict[str, float]:
    """STOI, wideband PESQ, SI-SDR and mel distance of one pair (16 kHz for PESQ)."""
    return {
        "stoi": stoi(reference, degraded, sample_rate),
        "pesq": pesq_wb(reference, degraded, sample_rate),
        "si_sdr": si_sdr(reference, degraded),
        "mel_distance": mel_distance(reference, degraded, sample_rate),
    }
