"""How well a keyword spotter trained on the synthetic corpus hears real people.

A folder of real recordings named ``{label}_{speaker}_{index}.wav`` (digits "0" to "9", as in
the Free Spoken Digit Dataset, or any of the spotter's words: ``stop_me_0.wav``) is classified
clip by clip with `KeywordSpotter.predict` and scored per speaker twice: among all the
spotter's classes (the 35 of lesson 06: a "three" heard as "tree" or "_unknown_" is wrong),
and, for the digits, with only the ten digit classes competing.

`listen` is what lesson 06's microphone widget shows for one recording: the answer, the
attention over the clip's frames, and the stretch of audio the model listened to most.

Notebook: 06_audio_classification (section "Real people").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import torch

from ..audio import resample
from ..core import check_waveform
from ..data.recordings import Recording
from ..data.texts import DIGITS
from ..metrics import attended_span
from .model import KeywordSpotter

__all__ = ["Heard", "listen", "score_recordings"]


def score_recordings(spotter: KeywordSpotter, recordings: list[Recording]) -> dict:
    """Classify every recording; accuracy per speaker among all classes and digits only.

    Args:
        spotter: a trained `KeywordSpotter`.
        recordings: from `course_utils.data.load_recordings`; each label a digit or one of
            the spotter's words.

    Returns:
        {"speakers": {speaker: {"accuracy": share, "digits_only": share or None, "clips": n}},
        "accuracy", "digits_only", "clips" over all recordings, and "confusions":
        {(said, heard): count} of the mistakes among all classes, most frequent first}.
        "digits_only" counts the digit recordings alone (None without any, or when the
        spotter has no digit classes).
    """
    if not recordings:
        raise ValueError("no recordings to score: expected at least one Recording")
    unknown = sorted({r.label for r in recordings if r.word not in spotter.labels})
    if unknown:
        raise ValueError(
            f"labels {unknown} are not among the spotter's classes; expected digits 0-9 or "
            f"words such as {list(spotter.labels[:5])}"
        )
    digits = all(d in spotter.labels for d in DIGITS)
    digit_index = [spotter.labels.index(d) for d in DIGITS] if digits else []
    hits: dict[str, list[tuple[bool, bool | None]]] = defaultdict(list)
    confusions: dict[tuple[str, str], int] = defaultdict(int)
    for recording in recordings:
        said = recording.word
        heard, probs = spotter.predict(*recording.read())
        among_digits = None
        if digits and said in DIGITS:
            among_digits = DIGITS[int(probs[digit_index].argmax())] == said
        hits[recording.speaker].append((heard == said, among_digits))
        if heard != said:
            confusions[(said, heard)] += 1
    everyone = [hit for speaker_hits in hits.values() for hit in speaker_hits]
    return {
        "speakers": {name: _shares(h) for name, h in sorted(hits.items())},
        **_shares(everyone),
        "confusions": dict(sorted(confusions.items(), key=lambda kv: -kv[1])),
    }


def _shares(hits: list[tuple[bool, bool | None]]) -> dict:
    digit_hits = [d for _, d in hits if d is not None]
    return {
        "accuracy": sum(a for a, _ in hits) / len(hits),
        "digits_only": sum(digit_hits) / len(digit_hits) if digit_hits else None,
        "clips": len(hits),
    }


@dataclass
class Heard:
    """What a spotter made of one recording (`listen`).

    Attributes:
        label: the answer; probabilities: (classes,) in the order of the spotter's labels.
        clip: (time,) the recording at the spotter's rate, centred in at least 1 s of silence.
        features: (n_mels, frames) what the model saw; weights: (frames',) attention pooling's
            weight per frame vector (None for a model without one), seconds_per_weight each.
        span: (start, stop) samples of `clip` holding `share` of the attention.
    """

    label: str
    probabilities: torch.Tensor
    clip: torch.Tensor
    features: torch.Tensor
    weights: torch.Tensor | None
    seconds_per_weight: float
    span: tuple[int, int] | None


@torch.no_grad()
def listen(spotter: KeywordSpotter, waveform, sample_rate: int, share: float = 0.8) -> Heard:
    """Classify one recording at any rate and say where the model listened.

    Args:
        spotter: a trained `KeywordSpotter` (in eval mode).
        waveform: (time,) mono audio at `sample_rate`.
        share: the part of the attention the returned span holds (default 0.8).
    """
    check_waveform(waveform, ndims=(1,))
    label, probabilities = spotter.predict(waveform, sample_rate)
    clip = resample(torch.as_tensor(waveform, dtype=torch.float32), sample_rate,
                    spotter.sample_rate).cpu()  # fmt: skip
    missing = spotter.sample_rate - clip.shape[0]  # centred in 1 s, as `predict` does
    if missing > 0:
        clip = torch.nn.functional.pad(clip, (missing // 2, missing - missing // 2))
    device = next(spotter.parameters()).device
    output = spotter(clip[None].to(device))
    features = spotter.features(clip[None].to(device))[0][0].cpu()
    weights = None if output.weights is None else output.weights[0].cpu()
    hop = spotter.frontend.hop_length
    # input frames per weight: the CNN's time stride, or the KWT's patch (4 in lesson 06)
    conv = getattr(spotter.model, "conv", None)
    stride = getattr(conv, "time_stride", None) or getattr(spotter.model, "patch", 1)
    per_weight = stride * hop / spotter.sample_rate
    span = None
    if weights is not None:
        start, stop = attended_span(weights, share)
        span = (round(start * per_weight * spotter.sample_rate),
                min(clip.shape[0], round(stop * per_weight * spotter.sample_rate)))  # fmt: skip
    return Heard(label, probabilities, clip, features, weights, per_weight, span)
