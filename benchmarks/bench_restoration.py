"""Lesson 11's restoration in the full profile: every system and baseline on unseen voices.

- Denoising (test voices, one noise of the five kinds at 0-10 dB per utterance, fixed seed):
  the noisy input, spectral subtraction, the Wiener filter, the shipped denoiser (GAN,
  attention) and its attention-free twin: SI-SDR, wideband PESQ (pesq), STOI (pystoi), with
  SI-SDR per noise kind.
- Bandwidth extension 8 -> 16 kHz: sinc interpolation, the extender trained with L1 alone
  and the adversarial one: STOI and the log-spectral distance, full band and 4-8 kHz.
- Lesson 08's recogniser on the test utterances mixed at 0 dB: CER on clean, noisy, Wiener
  and denoised speech.
- Training time (the checkpoints' metadata) and the real-time factor of each generator on
  the CPU (seconds of work per second of audio, one utterance at a time).

Targets (issue 15): denoising SI-SDR +8 dB and PESQ +0.5 over the noisy input and >= 3 dB
SI-SDR over the Wiener filter; high-band LSD at most half of sinc interpolation's; the
adversarial extender below the L1 one on high-band LSD and no worse on STOI (within 0.01);
CER on denoised 0 dB speech at most half the noisy one's.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from course_utils.asr import load_recognizer, recognizer_cer
from course_utils.core import get_profile
from course_utils.restoration import (
    VARIANTS,
    Degradation,
    load_restorer,
    restore_all,
    score_pairs,
    spectral_subtraction,
    test_pairs,
    test_speech,
    wiener_filter,
)

SR = 16_000


def _row(measure: str, value, unit: str = "", target: str = "", met: bool | None = None) -> dict:
    return {"benchmark": "restoration", "measure": measure, "value": value, "unit": unit,
            "target": target, "met": met}  # fmt: skip


def _rounded(scores: dict) -> dict:
    return {k: round(v, 3) for k, v in scores.items() if k != "by_kind"}


def _real_time_factor(model, waves) -> float:
    started = time.perf_counter()
    restore_all(model, waves)
    return (time.perf_counter() - started) / (sum(len(w) for w in waves) / SR)


def run() -> list[dict]:
    profile = get_profile("full")
    n = profile.restoration.eval_clips
    speech = test_speech(profile)
    models = {v: load_restorer(v) for v in VARIANTS}
    noisy = test_pairs(speech, Degradation("denoise"), n)
    band = test_pairs(speech, Degradation("bandwidth"), n)
    damaged = [p[0] for p in noisy]
    measures = ("si_sdr", "pesq", "stoi")
    systems = {
        "noisy input": damaged,
        "spectral subtraction": [spectral_subtraction(x) for x in damaged],
        "Wiener filter": [wiener_filter(x) for x in damaged],
        "denoiser": restore_all(models["denoiser"][0], damaged),
        "denoiser without attention": restore_all(models["denoiser_conv"][0], damaged),
    }
    scores = {k: score_pairs(noisy, v, measures, by_kind=True) for k, v in systems.items()}
    rows = [_row(f"denoising, {k}", _rounded(v)) for k, v in scores.items()]
    rows += [_row(f"denoising SI-SDR by kind, {k}",
                  {kind: round(s["si_sdr"], 2) for kind, s in sorted(v["by_kind"].items())}, "dB")
             for k, v in scores.items()]  # fmt: skip
    ours, base, wiener = scores["denoiser"], scores["noisy input"], scores["Wiener filter"]
    gain = ours["si_sdr"] - base["si_sdr"]
    rows.append(_row("denoiser SI-SDR gain over the noisy input", round(gain, 2), "dB",
                     ">= 8 dB", gain >= 8))  # fmt: skip
    pesq_gain = ours["pesq"] - base["pesq"]
    rows.append(_row("denoiser PESQ gain over the noisy input", round(pesq_gain, 2), "",
                     ">= 0.5", pesq_gain >= 0.5))  # fmt: skip
    margin = ours["si_sdr"] - wiener["si_sdr"]
    rows.append(_row("denoiser SI-SDR over the Wiener filter", round(margin, 2), "dB",
                     ">= 3 dB", margin >= 3))  # fmt: skip

    band_systems = {
        "sinc interpolation": [p[0] for p in band],
        "L1 alone": restore_all(models["bandwidth_l1"][0], [p[0] for p in band]),
        "L1 + adversarial": restore_all(models["bandwidth"][0], [p[0] for p in band]),
    }
    band_scores = {k: score_pairs(band, v, ("stoi", "lsd", "lsd_high"))
                   for k, v in band_systems.items()}  # fmt: skip
    rows += [_row(f"bandwidth extension, {k}", _rounded(v)) for k, v in band_scores.items()]
    sinc, l1, gan = (band_scores[k] for k in band_systems)
    ratio = gan["lsd_high"] / sinc["lsd_high"]
    rows.append(_row("high-band LSD, adversarial over sinc", round(ratio, 3), "", "<= 0.5",
                     ratio <= 0.5))  # fmt: skip
    rows.append(_row("high-band LSD, adversarial against L1 alone",
                     f"{gan['lsd_high']:.3f} vs {l1['lsd_high']:.3f}", "", "lower",
                     gan["lsd_high"] < l1["lsd_high"]))  # fmt: skip
    rows.append(_row("STOI, adversarial against L1 alone", f"{gan['stoi']:.3f} vs {l1['stoi']:.3f}",
                     "", "no worse (0.01)", gan["stoi"] >= l1["stoi"] - 0.01))  # fmt: skip

    zero_db = test_pairs(speech, Degradation("denoise", snr_db=(0.0, 0.0)), n, seed=7)
    texts, recognizer = [p[2]["text"] for p in zero_db], load_recognizer()[0]
    versions = {"clean": [p[1] for p in zero_db], "noisy 0 dB": [p[0] for p in zero_db],
                "Wiener filter": [wiener_filter(p[0]) for p in zero_db],
                "denoiser": restore_all(models["denoiser"][0], [p[0] for p in zero_db]),
                }  # fmt: skip
    cer = {k: recognizer_cer(recognizer, texts, v)[0] for k, v in versions.items()}
    rows.append(_row("recogniser CER at 0 dB", {k: round(v, 4) for k, v in cer.items()}))
    rows.append(_row("CER denoised over CER noisy (0 dB)",
                     round(cer["denoiser"] / cer["noisy 0 dB"], 3), "", "<= 0.5",
                     cer["denoiser"] <= 0.5 * cer["noisy 0 dB"]))  # fmt: skip

    for variant, (model, metadata) in models.items():
        history = metadata["history"]
        where = f"{metadata['threads']} thread(s), {metadata['device']}"
        rows.append(_row(f"{variant}: training time ({where})",
                         round(history["seconds"] / 60, 1), "min"))  # fmt: skip
        with torch.no_grad():
            rtf = _real_time_factor(model, damaged[:10])
        rows.append(_row(f"{variant}: real-time factor on the CPU", round(rtf, 4), "s per s"))
    seconds = np.mean([len(w) for w in damaged]) / SR
    rows.append(_row(f"test utterances per task (unseen voices, {seconds:.1f} s each)", n))
    return rows
