"""Lesson 08's speech recognition in the full profile: training time, CER / WER, speed.

- The shipped recipe retrained from scratch (`course_utils.asr.recipe`, location-aware
  attention, joint loss, 12 epochs over 4000 digit strings and command sentences and 1000
  utterances of one or two digits), then
  scored on the unseen test voices: greedy attention, greedy CTC, beam search with CTC
  rescoring, and the real-time factor of transcription (decoding time / audio time).
- The shipped checkpoints on digit strings twice as long as any in training: location-aware
  against content-based attention.
- The same recogniser and recipe trained with attention alone (ctc_weight 0), and the lesson's
  side-by-side runs (small models, digit strings of 2-4 digits, section 6): the share of the
  steps after which the joint model's speller reaches the final loss of attention alone.

Targets (issue): CER <= 3 % and WER <= 8 % after <= 10 min of training on a 2-core CPU;
location-aware CER <= 10 % on 2x longer strings; joint reaches attention alone's final loss in
<= half its steps.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from course_utils import get_profile
from course_utils.asr import ASRConfig, CharTokenizer, Recognizer
from course_utils.asr.recipe import (
    ASRRecipe,
    FeatureSet,
    demo_digits_config,
    load_recognizer,
    long_digits_config,
    score,
    train_recognizer,
    training_configs,
    transcribe,
)
from course_utils.data import build_corpus

SMOOTH = 20  # steps averaged in the loss curves, as in the lesson


def _row(measure, value, unit="", target="", met=None) -> dict:
    return {"benchmark": "asr", "measure": measure, "value": value, "unit": unit,
            "target": target, "met": met}  # fmt: skip


def _smooth(values) -> np.ndarray:
    return np.convolve(np.asarray(values), np.ones(SMOOTH) / SMOOTH, mode="valid")


def _data(profile, tokenizer) -> dict[str, FeatureSet]:
    """As `build_checkpoints`: trained with isolated digits too, tested on strings and sentences."""
    corpora = [build_corpus(config, progress=False) for config in training_configs(profile)]
    data = {name: FeatureSet([c[name] for c in corpora], tokenizer)
            for name in ("train", "validation")}  # fmt: skip
    return data | {"test": FeatureSet([c["test"] for c in corpora[:2]], tokenizer)}


def _steps_to_reach(losses: list[float], reference: list[float]) -> float:
    """Share of the steps after which smoothed `losses` first reach `reference`'s final value."""
    curve, target = _smooth(losses), _smooth(reference)[-1]
    reached = np.flatnonzero(curve <= target)
    return (int(reached[0]) if len(reached) else len(curve)) / len(curve)


def _recipe_rows(data, tokenizer) -> tuple[list[dict], list[float]]:
    torch.manual_seed(0)
    model = Recognizer(ASRConfig(vocab_size=len(tokenizer)))
    start = time.perf_counter()
    history = train_recognizer(model, data["train"], data["validation"], ASRRecipe(), "cpu",
                               progress=False)  # fmt: skip
    seconds = time.perf_counter() - start
    test = data["test"]
    attention = score(model, test, "attention", "cpu")
    ctc = score(model, test, "ctc", "cpu")
    audio = sum(f.shape[-1] for f in test.features) / 100  # 10 ms frames
    start = time.perf_counter()
    transcribe(model, test, "attention", "cpu")
    rtf = (time.perf_counter() - start) / audio
    subset = test.subset(list(range(0, len(test), 5)))
    greedy_subset = score(model, subset, "attention", "cpu")
    rescored = score(model, subset, "beam", "cpu", ctc_weight=0.3, ctc_mode="rescore")
    joint = score(model, subset, "beam", "cpu", ctc_weight=0.3, ctc_mode="prefix")
    threads = torch.get_num_threads()
    rows = [
        _row(f"training time, 12 epochs of {len(data['train'])} utterances ({threads} threads)",
             round(seconds), "s", "<= 600", seconds <= 600),
        _row("test CER, greedy attention (unseen voices)", round(100 * attention["cer"], 2), "%",
             "<= 3", attention["cer"] <= 0.03),
        _row("test WER, greedy attention", round(100 * attention["wer"], 2), "%", "<= 8",
             attention["wer"] <= 0.08),
        _row("test CER / WER, greedy CTC",
             f"{100 * ctc['cer']:.2f} / {100 * ctc['wer']:.2f}", "%"),
        _row(f"CER / WER on {len(subset)} test utterances: greedy attention",
             f"{100 * greedy_subset['cer']:.2f} / {100 * greedy_subset['wer']:.2f}", "%"),
        _row(f"CER / WER on {len(subset)} test utterances: beam 4 + CTC rescoring (0.3)",
             f"{100 * rescored['cer']:.2f} / {100 * rescored['wer']:.2f}", "%"),
        _row(f"CER / WER on {len(subset)} test utterances: beam 4, joint decoding (0.3)",
             f"{100 * joint['cer']:.2f} / {100 * joint['wer']:.2f}", "%"),
        _row("real-time factor, greedy attention, batches of 64 (CPU)", round(rtf, 4), "x"),
    ]  # fmt: skip
    return rows, history.attention_losses


def _attention_alone_rows(data, tokenizer, joint_losses) -> list[dict]:
    """The same recogniser and recipe with ctc_weight = 0: how much sooner the joint one learns."""
    torch.manual_seed(0)
    model = Recognizer(ASRConfig(vocab_size=len(tokenizer), ctc_weight=0.0))
    history = train_recognizer(model, data["train"], data["validation"], ASRRecipe(), "cpu",
                               progress=False)  # fmt: skip
    cer = score(model, data["test"], "attention", "cpu")["cer"]
    fraction = _steps_to_reach(joint_losses, history.attention_losses)
    return [
        _row("attention alone (ctc_weight 0), same recipe: test CER, greedy", round(100 * cer, 2),
             "%"),
        _row("full recipe: joint reaches attention alone's final speller loss at this share of "
             "the steps", round(fraction, 3), "", "<= 0.5", fraction <= 0.5),
    ]  # fmt: skip


def _long_rows(profile, tokenizer) -> list[dict]:
    data = FeatureSet(build_corpus(long_digits_config(profile), progress=False)["test"], tokenizer)
    rows = []
    for attention in ("location", "content"):
        model, _ = load_recognizer(attention=attention)
        greedy = score(model, data, "attention", "cpu")["cer"]
        joint = score(model, data, "beam", "cpu", ctc_weight=0.3, ctc_mode="prefix")["cer"]
        target, met = ("<= 10", joint <= 0.10) if attention == "location" else ("", None)
        measure = f"shipped {attention} attention, {len(data)} strings of 14 digits: CER"
        rows += [_row(f"{measure}, greedy", round(100 * greedy, 2), "%"),
                 _row(f"{measure}, beam 4 joint decoding", round(100 * joint, 2), "%", target,
                      met)]  # fmt: skip
    return rows


def _joint_rows(profile, tokenizer) -> list[dict]:
    demo = build_corpus(demo_digits_config(profile), progress=False)
    train, validation = (
        FeatureSet(demo["train"], tokenizer),
        FeatureSet(demo["validation"], tokenizer),
    )
    recipe = ASRRecipe(epochs=profile.asr.demo_epochs, batch_size=8, learning_rate=5e-3)
    losses = {}
    for name, weight in (("attention alone", 0.0), ("joint", 0.3)):
        torch.manual_seed(0)
        model = Recognizer(ASRConfig.preset("small", ctc_weight=weight))
        history = train_recognizer(model, train, validation, recipe, "cpu", progress=False)
        losses[name] = history.attention_losses
    fraction = _steps_to_reach(losses["joint"], losses["attention alone"])
    return [_row("lesson's side-by-side runs: joint reaches attention alone's final speller "
                 "loss at this share of the steps", round(fraction, 3), "", "<= 0.5",
                 fraction <= 0.5)]  # fmt: skip


def run() -> list[dict]:
    profile, tokenizer = get_profile("full"), CharTokenizer()
    started = time.perf_counter()
    data = _data(profile, tokenizer)
    rows, joint_losses = _recipe_rows(data, tokenizer)
    rows += _attention_alone_rows(data, tokenizer, joint_losses)
    rows += _long_rows(profile, tokenizer)
    torch.set_num_threads(1)  # as the lesson does for its small side-by-side models
    rows += _joint_rows(profile, tokenizer)
    rows.append(_row("total", round(time.perf_counter() - started), "s"))
    return rows
