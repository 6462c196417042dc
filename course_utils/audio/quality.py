"""Speech quality measures: STOI, wideband PESQ, SI-SDR and a log-mel distance.

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
- `quality_scores`: all four at once.

Inputs are (time,) float waveforms of the same length and sample rate, the reference
first, as in `pystoi` and `pesq`. Bad input (other shapes, lengths, rates, silence,
NaN) raises ValueError with what was expected.

Notebook: 10_neural_audio_compression (lesson 11 will use it too).
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

from ..core import check_sample_rate, check_waveform

__all__ = ["mel_distance", "pesq_wb", "quality_scores", "si_sdr", "stoi"]


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


def quality_scores(reference, degraded, sample_rate: int = 16_000) -> dict[str, float]:
    """STOI, wideband PESQ, SI-SDR and mel distance of one pair (16 kHz for PESQ)."""
    return {
        "stoi": stoi(reference, degraded, sample_rate),
        "pesq": pesq_wb(reference, degraded, sample_rate),
        "si_sdr": si_sdr(reference, degraded),
        "mel_distance": mel_distance(reference, degraded, sample_rate),
    }
