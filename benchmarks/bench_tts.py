"""Lesson 09's speech synthesis in the full profile: alignment speed, intelligibility, speed.

- Side-by-side runs as in the lesson (the "fast" model, 10 epochs, but over all 1,727 training
  sentences: 1,080 steps), with and without the guided-attention loss: validation focus rate
  per step, seconds per step.
- The shipped synthesiser (`course_utils.tts.recipe`), scored afresh on the test sentences
  (never seen in training): free-running focus rate, jumps, stop tokens, and lesson 08's
  recogniser's CER on synthesised speech, on Griffin-Lim of the true mels and on the voice
  itself; its training time (from the checkpoint's metadata); the synthesis real-time factor
  on the CPU (mel frames and Griffin-Lim, over the seconds of speech made).
- Both shipped synthesisers on sentences twice as long as in training: words skipped or
  repeated by location-sensitive against content-only attention.

Targets (issue 13): focus >= 0.85 within 1,500 steps (at least 0.75); without the guided loss
slower; CER <= 2x that of Griffin-Lim of the true mels and <= 10 %; location-sensitive attention
no more than half the skipped or repeated words of content-only attention.
"""

from __future__ import annotations

import time

import torch

from course_utils.asr import load_recognizer
from course_utils.tts import (
    Tacotron,
    TTSConfig,
    TTSRecipe,
    build_tts_data,
    load_synthesizer,
    mel_to_waveform,
    score_synthesizer,
    synthesize,
    train_synthesizer,
    word_errors,
)
from course_utils.tts.mel import MelSettings


def _row(measure, value, unit="", target="", met=None) -> dict:
    return {"benchmark": "tts", "measure": measure, "value": value, "unit": unit,
            "target": target, "met": met}  # fmt: skip


def _side_by_side(data) -> list[dict]:
    rows, focus = [], {}
    for name, weight in (("guided", 1.0), ("not guided", 0.0)):
        torch.manual_seed(0)
        model = Tacotron(TTSConfig.preset("fast", guided_weight=weight))
        start = time.perf_counter()
        history = train_synthesizer(model, data["train"], data["validation"],
                                    TTSRecipe(epochs=10), "cpu", progress=False)  # fmt: skip
        seconds = time.perf_counter() - start
        steps = int(history.epochs[-1]["step"])
        focus[name] = history.epochs[-1]["focus"]
        curve = ", ".join(f"{int(e['step'])}: {e['focus']:.2f}" for e in history.epochs[::3])
        rows += [_row(f"{name}: validation focus by step", curve),
                 _row(f"{name}: seconds per training step", round(seconds / steps, 3), "s")]
    rows.append(_row(f"guided focus after the side-by-side run ({steps} steps)",
                     round(focus["guided"], 3), "", ">= 0.75", focus["guided"] >= 0.75))
    rows.append(_row("without the guided loss, same steps", round(focus["not guided"], 3), "",
                     "lower", focus["not guided"] < focus["guided"]))
    return rows


def _shipped(data, recognizer) -> list[dict]:
    model, metadata = load_synthesizer()
    scores = score_synthesizer(model, data["test"], recognizer)
    reached = [e for e in metadata["validation"] if e["focus"] >= 0.85]
    first = int(reached[0]["step"]) if reached else None
    ratio_ok = scores["cer"] <= 2 * scores["cer_griffin_lim"]
    rows = [
        _row("shipped: training time", round(metadata["train_seconds"] / 60, 1), "min"),
        _row("shipped: first validation focus >= 0.85 at step", first, "", "<= 1500",
             first is not None and first <= 1500),
        _row("shipped: test focus (free-running)", round(scores["focus"], 3)),
        _row("shipped: test jumps (backward + forward)",
             scores["backward"] + scores["forward"]),
        _row("shipped: ended by the stop token", scores["stopped"], "share"),
        _row("shipped: CER, synthesised speech", round(scores["cer"], 3), "", "<= 0.10",
             scores["cer"] <= 0.10),
        _row("shipped: CER, Griffin-Lim of the true mels", round(scores["cer_griffin_lim"], 3),
             "", "synthesised <= 2x this", ratio_ok),
        _row("shipped: CER, the voice itself", round(scores["cer_real"], 3)),
    ]
    torch.manual_seed(0)
    texts = data["test"].texts[:32]
    start = time.perf_counter()
    waveforms = [mel_to_waveform(result.mel) for result in synthesize(model, texts)]
    seconds = time.perf_counter() - start
    audio = sum(len(w) for w in waveforms) / MelSettings().sample_rate
    rows.append(_row("shipped: synthesis real-time factor (CPU, with Griffin-Lim)",
                     round(seconds / audio, 3), "x"))
    return rows


def _long_sentences(data) -> list[dict]:
    test = data["test"].texts
    texts = [f"{test[i]} {test[i + 1]}" for i in range(0, len(test) - 1, 2)]
    errors = {}
    for kind in ("location", "content"):
        model, _ = load_synthesizer(attention=kind)
        torch.manual_seed(0)
        results = synthesize(model, texts)
        pairs = zip(results, texts, strict=True)
        errors[kind] = sum(sum(word_errors(result.alignment, text)) for result, text in pairs)
    words = sum(len(t.split()) for t in texts)
    met = errors["location"] <= errors["content"] / 2
    return [_row("2x-long sentences: words", words),
            _row("2x-long: skipped + repeated words, content-only", errors["content"]),
            _row("2x-long: skipped + repeated words, location-sensitive", errors["location"], "",
                 "<= half of content-only", met)]  # fmt: skip


def run() -> list[dict]:
    started = time.perf_counter()
    torch.set_num_threads(1)  # small decoder steps: one thread, as the lesson's rule gives
    data = build_tts_data()
    rows = _side_by_side(data)
    rows += _shipped(data, load_recognizer()[0])
    rows += _long_sentences(data)
    rows.append(_row("total", round(time.perf_counter() - started), "s"))
    return rows
