"""How good a codec is: quality measures, codebook use and the recogniser, per bitrate.

Every system (the neural codec at each bitrate, mu-law, Opus and MP3) is scored on the same
clips of unseen voices with the same measures (`course_utils.audio.quality`): STOI, wideband
PESQ, SI-SDR and the log-mel distance, plus lesson 08's recogniser's CER on the decoded
speech (`course_utils.asr.recognizer_cer`). `rate_distortion` gathers them into one table,
one row per system and bitrate, which the lesson plots and the benchmark writes.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import numpy as np
import torch

from ..asr import Recognizer, recognizer_cer
from ..audio.quality import mel_distance, pesq_wb, si_sdr, stoi
from .baselines import CLASSIC_CODECS, classic_roundtrip, mu_law_roundtrip
from .data import CodecSpeech
from .inference import stages_for
from .model import Codec
from .quantize import codebook_usage

__all__ = ["codebook_use", "codec_roundtrip", "rate_distortion", "score_clips"]

MEASURES = ("stoi", "pesq", "si_sdr", "mel_distance")


@torch.no_grad()
def codec_roundtrip(codec: Codec, waves: list[np.ndarray], n_q: int) -> list[np.ndarray]:
    """Encode and decode each clip with the first `n_q` stages; same lengths out."""
    device = next(codec.parameters()).device
    out = []
    for wave in waves:
        x = torch.as_tensor(wave, dtype=torch.float32, device=device)[None, None]
        out.append(codec.decode(codec.encode(x, n_q), len(wave))[0, 0].cpu().numpy())
    return out


def score_clips(references: list[np.ndarray], decoded: list[np.ndarray],
                sample_rate: int = 16_000) -> dict[str, float]:  # fmt: skip
    """The mean of each measure over the clips (PESQ at 16 kHz)."""
    scores = {name: [] for name in MEASURES}
    for ref, deg in zip(references, decoded, strict=True):
        scores["stoi"].append(stoi(ref, deg, sample_rate))
        scores["pesq"].append(pesq_wb(ref, deg, sample_rate))
        scores["si_sdr"].append(si_sdr(ref, deg))
        scores["mel_distance"].append(mel_distance(ref, deg, sample_rate))
    return {name: round(float(np.mean(values)), 4) for name, values in scores.items()}


@torch.no_grad()
def codebook_use(codec: Codec, waves: list[np.ndarray]) -> list[dict[str, float]]:
    """Share of codes used and perplexity of every stage over the codes of `waves`."""
    device = next(codec.parameters()).device
    codes = [codec.encode(torch.as_tensor(w, device=device)[None, None])[0] for w in waves]
    codes = torch.cat(codes, dim=1)  # (Q, all frames)
    return [codebook_usage(stage, codec.config.codebook_size) for stage in codes]


def rate_distortion(
    codec: Codec,
    speech: CodecSpeech,
    kbps: tuple[float, ...] = (1.5, 3.0, 6.0),
    recognizer: Recognizer | None = None,
    classic: bool = True,
) -> list[dict]:
    """One row per system and bitrate, scored on every clip of `speech`.

    Rows: "original" (the recogniser's CER on the clips themselves), "codec" at each of
    `kbps`, "mu-law" (8 bits, 128 kbps) and, with `classic`, Opus and MP3 at the settings of
    `CLASSIC_CODECS` (their bitrates measured on the stream). Each row: system, kbps, the
    four measures, and "cer" when a `recognizer` is given.
    """
    waves, rate = speech.waves, speech.sample_rate
    systems = [("codec", k, codec_roundtrip(codec, waves, stages_for(codec, k))) for k in kbps]
    systems.append(("mu-law", 8 * rate / 1000, [mu_law_roundtrip(w) for w in waves]))
    if classic:
        for setting in CLASSIC_CODECS:
            decoded, bits_per_second, _ = classic_roundtrip(waves, rate, setting)
            systems.append((setting.name, round(bits_per_second / 1000, 2), decoded))
    rows = []
    if recognizer is not None:
        original = _cer(recognizer, speech, waves)  # 16-bit PCM
        rows.append({"system": "original", "kbps": 16 * rate / 1000, "cer": original})
    for name, kbps_, decoded in systems:
        row = {"system": name, "kbps": kbps_, **score_clips(waves, decoded, rate)}
        if recognizer is not None:
            row["cer"] = _cer(recognizer, speech, decoded)
        rows.append(row)
    return rows


def _cer(recognizer: Recognizer, speech: CodecSpeech, waves: list[np.ndarray]) -> float:
    return round(recognizer_cer(recognizer, speech.texts, waves, speech.sample_rate)[0], 4)
