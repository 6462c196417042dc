"""Scoring restoration: every system on the same damaged test utterances.

- `restore_all`: run a generator over whole utterances (any length, one at a time);
- `score_pairs`: the mean of each measure over (damaged, clean) pairs for one system's
  outputs: SI-SDR (dB), wideband PESQ, STOI, and the log-spectral distance over the full
  band and over the high band (4-8 kHz, the band an 8 kHz rate loses); with `by_kind`, the
  means per noise kind too;
- `validation_score`: the one number training watches (SI-SDR for denoising, high-band
  LSD for bandwidth extension).

The measures come from `course_utils.audio.quality` (pystoi, the ITU's PESQ code); lesson 08's
recogniser judges intelligibility through `course_utils.asr.recognizer_cer`.

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from ..audio.quality import log_spectral_distance, pesq_wb, si_sdr, stoi
from .model import Restorer

__all__ = ["HIGH_BAND_HZ", "MEASURES", "restore_all", "score_pairs", "validation_score"]

HIGH_BAND_HZ = (4000.0, 8000.0)  # what 8 -> 16 kHz extension must fill
MEASURES = ("si_sdr", "pesq", "stoi", "lsd", "lsd_high")
_RATE = 16_000


def restore_all(model: Restorer, waves, device: torch.device | str = "cpu") -> list[np.ndarray]:
    """`model` applied to each (time,) waveform, same lengths out, in eval mode."""
    model.eval()
    out = []
    with torch.no_grad():
        for wave in waves:
            x = torch.as_tensor(np.asarray(wave, dtype=np.float32), device=device)[None]
            out.append(model(x)[0].cpu().numpy())
    return out


def _measure(name: str, clean: np.ndarray, estimate: np.ndarray) -> float:
    if name == "si_sdr":
        return si_sdr(clean, estimate)
    if name == "pesq":
        return pesq_wb(clean, estimate, _RATE)
    if name == "stoi":
        return stoi(clean, estimate, _RATE)
    band = HIGH_BAND_HZ if name == "lsd_high" else None
    return log_spectral_distance(clean, estimate, _RATE, band=band)


def score_pairs(pairs, estimates, measures=MEASURES, by_kind: bool = False) -> dict:
    """Mean of each measure over the pairs: {measure: value} (and, with `by_kind`,
    {"by_kind": {kind: {measure: value}}}).

    Args:
        pairs: (damaged, clean, info) triples (`data.test_pairs`).
        estimates: one (time,) waveform per pair, each as long as its clean utterance
            (pass the damaged ones to score the damage itself).
        measures: names from `MEASURES`.
    """
    unknown = set(measures) - set(MEASURES)
    if unknown:
        raise ValueError(f"unknown measures {sorted(unknown)}; expected some of {MEASURES}")
    if len(estimates) != len(pairs) or not pairs:
        raise ValueError(f"need one estimate per pair, got {len(estimates)} for {len(pairs)}")
    rows = defaultdict(list)
    for (_, clean, info), estimate in zip(pairs, estimates, strict=True):
        scores = {name: _measure(name, clean, np.asarray(estimate)) for name in measures}
        rows["all"].append(scores)
        rows[info["kind"]].append(scores)
    mean = {k: {m: float(np.mean([r[m] for r in v])) for m in measures} for k, v in rows.items()}
    result = dict(mean.pop("all"))
    if by_kind:
        result["by_kind"] = mean
    return result


def validation_score(model: Restorer, pairs, task: str, device="cpu") -> tuple[str, float]:
    """("si_sdr", mean dB) for denoising, ("lsd_high", mean) for bandwidth extension."""
    measure = "si_sdr" if task == "denoise" else "lsd_high"
    restored = restore_all(model, [p[0] for p in pairs], device)
    return measure, score_pairs(pairs, restored, (measure,))[measure]
