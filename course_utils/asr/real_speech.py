"""How well a recogniser trained on the synthetic corpus hears real people.

A folder of real recordings named ``{label}_{speaker}_{index}.wav`` whose labels are digits
("0" to "9", as in the Free Spoken Digit Dataset) is transcribed one clip at a time by
`recognize`, and scored per speaker: the share of clips transcribed as exactly the digit said
(an isolated word, so one inserted word is already wrong), and the character error rate.

Notebook: 08_speech_recognition (section "Real people: one word at a time").
"""

from __future__ import annotations

from collections import defaultdict

import torch.nn.functional as F

from ..data.recordings import Recording
from ..metrics import error_rate
from .inference import PAD_SECONDS, recognize
from .model import Recognizer

__all__ = ["score_recordings"]


def score_recordings(
    model: Recognizer,
    recordings: list[Recording],
    pad_seconds: float = PAD_SECONDS,
    decoder: str = "attention",
) -> dict:
    """Transcribe every recording and score the transcripts per speaker and overall.

    Args:
        model: a recogniser, e.g. ``load_recognizer()[0]``.
        recordings: from `course_utils.data.load_recordings` (any sample rate).
        pad_seconds: silence added on each side first (real takes are often cut tight).
        decoder: "ctc", "attention" or "beam" (see `course_utils.asr.transcribe`).

    Returns:
        {"speakers": {speaker: {"exact": share, "cer": CER, "clips": n}}, "exact": share,
        "cer": CER, "clips": n, "examples": [(said, heard), ...] (the first 20 misses)}.
    """
    if not recordings:
        raise ValueError("no recordings to score: expected at least one Recording")
    by_speaker: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    misses = []
    for recording in recordings:
        waveform, rate = recording.read()
        pad = round(pad_seconds * rate)
        heard = recognize(model, F.pad(waveform, (pad, pad)), rate, decoder=decoder)
        said = recording.word  # "3" -> "three"
        by_speaker[recording.speaker][0].append(said)
        by_speaker[recording.speaker][1].append(heard)
        if heard != said and len(misses) < 20:
            misses.append((said, heard))
    said_all = [t for said, _ in by_speaker.values() for t in said]
    heard_all = [t for _, heard in by_speaker.values() for t in heard]
    return {
        "speakers": {name: _scores(*pairs) for name, pairs in sorted(by_speaker.items())},
        **_scores(said_all, heard_all),
        "examples": misses,
    }


def _scores(said: list[str], heard: list[str]) -> dict:
    exact = sum(s == h for s, h in zip(said, heard, strict=True)) / len(said)
    return {"exact": exact, "cer": error_rate(said, heard), "clips": len(said)}
