"""Lesson 10's neural codec in the full profile: rate-distortion beside the classic codecs.

- Every system on the same 48 test clips (unseen voices, `course_utils.codec.test_clips`):
  the shipped codec at 1.5, 3 and 6 kbps, 8-bit mu-law, Opus and MP3 at the settings of
  `CLASSIC_CODECS` (bitrates measured on one long stream); STOI (pystoi), wideband PESQ
  (pesq), SI-SDR, mel distance, and lesson 08's recogniser's CER (also on the originals).
- The codec without its transformer layers (the "conv" checkpoint, same recipe) at 1.5 and
  6 kbps; codebook use of every stage over all 1,000 test utterances; training time (from
  the checkpoints' metadata).
- Encode and decode real-time factors on the CPU (seconds of work per second of audio).
- When ``COURSE_RECORDINGS`` names a folder of ``{label}_{speaker}_{index}.wav`` recordings
  of real people: STOI and PESQ of the codec at 6 and 1.5 kbps and of Opus at its lowest
  setting on up to 100 of them (read at 16 kHz; 8 kHz recordings have nothing above 4 kHz).

Targets (issue 14): at 6 kbps STOI >= 0.92 and at least Opus's STOI and PESQ at the same
bitrate; at 1.5 kbps STOI >= 0.85; every stage uses >= 80 % of its codes; CER at 6 kbps
<= 1.5x the CER of the originals.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from course_utils.asr import load_recognizer
from course_utils.codec import (
    CLASSIC_CODECS,
    CodecSpeech,
    classic_roundtrip,
    codebook_use,
    codec_roundtrip,
    load_codec,
    load_codec_speech,
    rate_distortion,
    score_clips,
    stages_for,
    test_clips,
)
from course_utils.core import get_profile
from course_utils.data import load_recordings


def _row(measure: str, value, unit: str = "", target: str = "", met: bool | None = None) -> dict:
    return {"benchmark": "codec", "measure": measure, "value": value, "unit": unit,
            "target": target, "met": met}  # fmt: skip


def _real_time_factors(model, clips) -> tuple[float, float]:
    seconds = clips.seconds()
    waves = [torch.as_tensor(w)[None, None] for w in clips.waves]
    started = time.perf_counter()
    codes = [model.encode(w) for w in waves]
    encoded = time.perf_counter()
    for c, w in zip(codes, waves, strict=True):
        model.decode(c, w.shape[-1])
    decoded = time.perf_counter()
    return (encoded - started) / seconds, (decoded - encoded) / seconds


MEASURES = ("stoi", "pesq", "si_sdr", "mel_distance", "cer")


def _scores(row: dict) -> str:
    return ", ".join(f"{k} {row[k]}" for k in MEASURES if row.get(k) is not None)


def _versus(name: str, ours: dict, theirs: dict, key: str) -> dict:
    value = f"{ours[key]} vs {theirs[key]}"
    met = ours[key] >= theirs[key]
    return _row(f"codec 6 kbps against {name}: {key}", value, "", ">= Opus", met)


def run() -> list[dict]:
    started = time.perf_counter()
    clips = test_clips(get_profile("full"))
    model, meta = load_codec()
    conv, conv_meta = load_codec(variant="conv")
    table = rate_distortion(model, clips, recognizer=load_recognizer()[0])
    rows = [_row(f"{r['system']} at {r['kbps']} kbps", _scores(r)) for r in table]
    by = {(r["system"], r["kbps"]): r for r in table}
    c6, c15 = by[("codec", 6.0)], by[("codec", 1.5)]
    opus = min((r for r in table if r["system"] == "Opus"), key=lambda r: r["kbps"])
    original = by[("original", 256.0)]["cer"]
    cer_ok = c6["cer"] <= 1.5 * max(original, 0.01)
    rows += [
        _row("codec 6 kbps STOI", c6["stoi"], "", ">= 0.92", c6["stoi"] >= 0.92),
        _versus(f"Opus {opus['kbps']} kbps", c6, opus, "stoi"),
        _versus(f"Opus {opus['kbps']} kbps", c6, opus, "pesq"),
        _row("codec 1.5 kbps STOI", c15["stoi"], "", ">= 0.85", c15["stoi"] >= 0.85),
        _row("CER at 6 kbps / CER of the originals", f"{c6['cer']} / {original}", "", "<= 1.5x",
             cer_ok),  # fmt: skip
    ]
    every_test_utterance = load_codec_speech(get_profile("full"), "test")  # 1,000
    least = min(u["used"] for u in codebook_use(model, every_test_utterance.waves))
    rows.append(_row("codebook use over the 1,000 test utterances, least-used stage",
                     round(least, 3), "", ">= 0.8", least >= 0.8))  # fmt: skip
    for kbps in (1.5, 6.0):
        decoded = codec_roundtrip(conv, clips.waves, stages_for(conv, kbps))
        scores = score_clips(clips.waves, decoded)
        ours = by[("codec", kbps)]
        rows.append(_row(f"conv only (no transformer) at {kbps} kbps", _scores(scores), "",
                         f"with attention: {_scores(ours)}"))  # fmt: skip
    for name, m in (("attention", meta), ("conv only", conv_meta)):
        rows.append(_row(f"{name}: training time ({m['threads']} thread)",
                         round(m["train_seconds"] / 60, 1), "min"))  # fmt: skip
    encode, decode = _real_time_factors(model, clips)
    rows.append(_row("encode real-time factor (CPU)", round(encode, 4)))
    rows.append(_row("decode real-time factor (CPU, Griffin-Lim 32 iterations)", round(decode, 4)))
    rows += _real_speech(model)
    rows.append(_row("total", round(time.perf_counter() - started), "s"))
    return rows


def _real_speech(model, limit: int = 100) -> list[dict]:
    folder = os.environ.get("COURSE_RECORDINGS")
    if not folder:
        return [_row("real recordings", "skipped: COURSE_RECORDINGS is not set")]
    recordings = load_recordings(folder, sample_rate=16_000)
    picks = np.linspace(0, len(recordings) - 1, min(limit, len(recordings))).round().astype(int)
    waves = [recordings[i].read()[0].numpy() for i in picks]
    speech = CodecSpeech(waves, [recordings[i].label for i in picks], 16_000)
    speakers = len({recordings[i].speaker for i in picks})
    rows = []
    for kbps in (1.5, 6.0):
        decoded = codec_roundtrip(model, speech.waves, stages_for(model, kbps))
        scores = score_clips(speech.waves, decoded)
        rows.append(_row(f"real recordings ({len(waves)}, {speakers} speakers): codec {kbps} kbps",
                         _scores(scores)))  # fmt: skip
    decoded, bits, _ = classic_roundtrip(speech.waves, 16_000, CLASSIC_CODECS[0])
    rows.append(_row(f"real recordings: Opus {bits / 1000:.2f} kbps",
                     _scores(score_clips(speech.waves, decoded))))  # fmt: skip
    return rows
