"""Lesson 13's audio-text models in the full profile, on voices never heard in training.

- Spoken-term detection (the shipped detector, one said and one unsaid query per test
  sentence, half the unsaid ones from the said one's slot): presence F1, precision, recall,
  and the share of detected words whose attention peak lies within 100 ms of the word.
- Retrieval (the shipped dual encoder): recall@1 and @5 among 100 distinct transcripts, both
  ways.
- Alignment ("is word A said before word B?" on word lists): accuracy of the cross-attention
  and concatenation fusions, trained as the lesson trains them.
- Training time of the shipped models (their metadata) and of the fusions.

Targets (issue 17): F1 >= 90 %, >= 90 % of detected words located within 100 ms, recall@1
>= 80 % among 100, cross-attention >= 10 points above concatenation.
"""

from __future__ import annotations

from course_utils.audiotext import (
    Schedule,
    compare_fusions,
    detection_scores,
    load_detector,
    load_dual,
    make_utterances,
    retrieval_scores,
)
from course_utils.core import get_profile


def _row(measure: str, value, unit: str = "", target: str = "", met: bool | None = None) -> dict:
    return {
        "benchmark": "audiotext",
        "measure": measure,
        "value": value,
        "unit": unit,
        "target": target,
        "met": met,
    }


def run() -> list[dict]:
    settings = get_profile("full").audiotext
    test = make_utterances("commands", "test", settings.test_utterances)
    detector, detector_meta = load_detector()
    dual, dual_meta = load_dual()
    detection = detection_scores(detector, test)
    retrieval = retrieval_scores(dual, test, settings.candidates)
    schedule = Schedule(steps=settings.order_steps, batch_size=64, learning_rate=2e-3)
    train_lists = make_utterances("word lists", "train", settings.order_train)
    test_lists = make_utterances("word lists", "test", settings.order_test)
    order = compare_fusions(detector, train_lists, test_lists, schedule)
    accuracy = order["accuracy"]
    gap = accuracy["cross"] - accuracy["concat"]
    return [
        _row("detection F1", round(detection["f1"], 2), "%", ">= 90", detection["f1"] >= 90),
        _row(
            "detection precision / recall",
            f"{detection['precision']:.2f} / {detection['recall']:.2f}",
            "%",
        ),
        _row(
            "detected words located within 100 ms",
            round(detection["localised"], 2),
            "%",
            ">= 90",
            detection["localised"] >= 90,
        ),
        _row(
            f"retrieval recall@1 among {settings.candidates}",
            round(retrieval["recall@1"], 2),
            "%",
            ">= 80",
            retrieval["recall@1"] >= 80,
        ),
        _row(
            "retrieval recall@5 / text -> audio recall@1 / @5",
            f"{retrieval['recall@5']:.2f} / {retrieval['text recall@1']:.2f} / "
            f"{retrieval['text recall@5']:.2f}",
            "%",
        ),
        _row(
            "order accuracy, cross-attention / concatenation",
            f"{accuracy['cross']:.2f} / {accuracy['concat']:.2f}",
            "%",
        ),
        _row(
            "order: cross-attention minus concatenation",
            round(gap, 2),
            "points",
            ">= 10",
            gap >= 10,
        ),
        _row(
            "training time, detector / dual encoder (one thread)",
            f"{detector_meta['history']['seconds'] / 60:.1f} / "
            f"{dual_meta['history']['seconds'] / 60:.1f}",
            "min",
        ),
        _row(
            "training time of the fusions, cross / concat",
            f"{order['histories']['cross']['seconds']:.0f} / "
            f"{order['histories']['concat']['seconds']:.0f}",
            "s",
        ),
    ]
