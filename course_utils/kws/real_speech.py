"""How well a keyword spotter trained on the synthetic corpus hears real people.

A folder of real recordings named ``{label}_{speaker}_{index}.wav`` with digit labels ("0"
to "9", as in the Free Spoken Digit Dataset) is classified clip by clip with
`KeywordSpotter.predict`, and scored per speaker twice: among all the spotter's classes (the
35 of lesson 06: a "three" heard as "tree" or "_unknown_" is wrong), and with only the ten
digit classes competing (the spotter's probabilities restricted to them).

Notebook: 06_audio_classification (section "Real speech").
"""

from __future__ import annotations

from collections import defaultdict

from ..data.recordings import Recording
from ..data.texts import DIGITS
from .model import KeywordSpotter

__all__ = ["score_recordings"]


def score_recordings(spotter: KeywordSpotter, recordings: list[Recording]) -> dict:
    """Classify every recording; accuracy per speaker among all classes and digits only.

    Args:
        spotter: a trained `KeywordSpotter` whose labels include the ten digit words.
        recordings: from `course_utils.data.load_recordings`, labelled "0" to "9".

    Returns:
        {"speakers": {speaker: {"accuracy": share, "digits_only": share, "clips": n}},
        "accuracy", "digits_only", "clips" over all recordings, and "confusions":
        {(said, heard): count} of the mistakes among all classes}.
    """
    if not recordings:
        raise ValueError("no recordings to score: expected at least one Recording")
    missing = [d for d in DIGITS if d not in spotter.labels]
    if missing:
        raise ValueError(f"the spotter's labels lack the digit classes {missing}")
    digit_index = [spotter.labels.index(d) for d in DIGITS]
    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    confusions: dict[tuple[str, str], int] = defaultdict(int)
    for recording in recordings:
        if not (recording.label.isdigit() and len(recording.label) == 1):
            raise ValueError(
                f"{recording.path}: expected a digit label 0-9, got {recording.label!r}"
            )
        said = DIGITS[int(recording.label)]
        waveform, rate = recording.read()
        heard, probs = spotter.predict(waveform, rate)
        among_digits = DIGITS[int(probs[digit_index].argmax())]
        hits[recording.speaker].append((heard == said, among_digits == said))
        if heard != said:
            confusions[(said, heard)] += 1
    everyone = [hit for speaker_hits in hits.values() for hit in speaker_hits]
    return {
        "speakers": {name: _shares(h) for name, h in sorted(hits.items())},
        **_shares(everyone),
        "confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])),
    }


def _shares(hits: list[tuple[bool, bool]]) -> dict:
    n = len(hits)
    return {
        "accuracy": sum(a for a, _ in hits) / n,
        "digits_only": sum(d for _, d in hits) / n,
        "clips": n,
    }
