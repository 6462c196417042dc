"""From frame probabilities to events, and the scores of sound event detection.

A sound event detector outputs, for every frame and every class, the probability that the
class is active (a multi-label problem: events of different classes may overlap). Reporting
*events* needs a decoding step: threshold, smooth with a median filter, read off the runs of
active frames as (onset, offset, label), merge runs split by a short gap and drop blips.

Two families of scores (Mesaros, Heittola and Virtanen 2016, "Metrics for polyphonic sound
event detection"):

- **frame F1**: every (frame, class) cell is a binary decision; precision and recall are
  micro-averaged over all cells;
- **event-based F1**: an estimated event matches a reference event of the same class when its
  onset is within a collar (`t_collar`, 200 ms) of the reference onset, and its offset within
  max(t_collar, percentage_of_length x reference length) of the reference offset. Computed by
  `sed_eval`, the DCASE reference implementation, never by a home-made matcher;
- **segment-based F1** (`sed_eval` too): activity compared on fixed segments (1 s).

Frames are centred: frame t covers the instant t * hop_seconds, as `LogMel` (center=True)
returns them. `events_to_frames` and `frames_to_events` are exact inverses on binary rolls.

Notebook: 07_sound_event_detection.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from scipy import ndimage

from ..core import check_integer, check_number, to_numpy
from ..data import Event, events_to_frames

# dcase_util (under sed_eval) imports the deprecated pkg_resources: a warning for its authors.
warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning, r"dcase_util\.")

__all__ = [
    "Event",
    "tune_decoding",
    "event_f1",
    "events_to_frames",
    "frame_f1",
    "frames_to_events",
    "median_filter",
    "segment_f1",
]

# Floating tensors are scored in float32, whatever precision a model returned them in.
_SCORED_AS = torch.float32


def _check_roll(array: np.ndarray, name: str, classes: int | None = None) -> None:
    if array.ndim != 2 or (classes is not None and array.shape[1] != classes):
        expected = "(frames, classes)" if classes is None else f"(frames, {classes})"
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")


def median_filter(binary: np.ndarray | torch.Tensor, frames: int) -> np.ndarray:
    """Median filter each class's activity over `frames` frames (odd; 1 = no filtering).

    Fills gaps and removes blips shorter than about frames / 2 (edges repeat the end values).

    Args:
        binary: (frames, classes) array of 0/1 (or bool).
        frames: window length in frames, a positive odd integer.

    Returns:
        float32 (frames, classes) array of 0 and 1.

    Example:
        >>> median_filter(np.array([[0], [1], [0], [0], [1], [1], [0], [1], [1]]), 3)[:, 0]
        array([0., 0., 0., 0., 1., 1., 1., 1., 1.], dtype=float32)

    Notebook: 07_sound_event_detection.
    """
    binary = to_numpy(binary, _SCORED_AS).astype(np.float32)
    _check_roll(binary, "binary")
    frames = check_integer(frames, "frames", minimum=1)
    if frames % 2 == 0:
        raise ValueError(f"frames must be odd (a centred window), got {frames}")
    if frames == 1:
        return binary
    return ndimage.median_filter(binary, size=(frames, 1), mode="nearest")


def frames_to_events(
    probs: np.ndarray | torch.Tensor,
    hop_seconds: float,
    classes: Sequence[str],
    threshold: float | Sequence[float] = 0.5,
    median_frames: int | Sequence[int] = 1,
    min_duration: float = 0.0,
    merge_gap: float = 0.0,
) -> list[Event]:
    """Decode frame probabilities of one clip into events.

    Steps: activity = probs >= threshold; a median filter over `median_frames`; each run of
    active frames t = a..b becomes (a * hop, (b + 1) * hop, label); runs of one class closer
    than `merge_gap` seconds are merged; events shorter than `min_duration` are dropped.

    Args:
        probs: (frames, classes) probabilities (or 0/1 decisions) of one clip.
        hop_seconds: time between frames in seconds.
        classes: class names, in column order.
        threshold: probability at or above which a frame is active (default 0.5); one
            number, or one per class (e.g. tuned on validation data).
        median_frames: median filter length in frames, odd (default 1: none); one number,
            or one per class.
        min_duration: shortest event kept, in seconds (default 0: all).
        merge_gap: gaps shorter than this (seconds) between two events of a class are filled.

    Returns:
        events (onset_s, offset_s, label), sorted by onset then label.

    Example:
        >>> probs = np.array([[0.1], [0.9], [0.8], [0.2], [0.7]])
        >>> frames_to_events(probs, 0.1, ["tone"])
        [(0.1, 0.3, 'tone'), (0.4, 0.5, 'tone')]

    Notebook: 07_sound_event_detection.
    """
    probs = to_numpy(probs, _SCORED_AS)
    _check_roll(probs, "probs", len(classes))
    hop_seconds = check_number(hop_seconds, "hop_seconds")
    thresholds = np.asarray(threshold, dtype=np.float64)
    if thresholds.shape not in ((), (len(classes),)) or not np.isfinite(thresholds).all():
        raise ValueError(
            f"threshold must be one finite number or one per class ({len(classes)}), "
            f"got {threshold}"
        )
    if hop_seconds <= 0 or min_duration < 0 or merge_gap < 0:
        raise ValueError("need hop_seconds > 0, min_duration >= 0 and merge_gap >= 0")
    medians = [median_frames] * len(classes) if np.ndim(median_frames) == 0 else median_frames
    if len(medians) != len(classes):
        raise ValueError(f"median_frames must be one odd number or one per class, got {medians}")
    decided = probs >= thresholds  # (frames, classes)
    events: list[Event] = []
    for column, label in enumerate(classes):
        active = median_filter(decided[:, column : column + 1], medians[column])[:, 0] > 0.5
        padded = np.concatenate([[False], active, [False]])
        changes = np.flatnonzero(padded[1:] != padded[:-1])  # run starts and (exclusive) ends
        runs: list[list[float]] = []
        for start, stop in zip(changes[::2], changes[1::2], strict=True):
            onset, offset = float(start * hop_seconds), float(stop * hop_seconds)
            if runs and onset - runs[-1][1] < merge_gap - 1e-9:
                runs[-1][1] = offset  # a short gap: same event
            else:
                runs.append([onset, offset])
        events += [
            (round(a, 6), round(b, 6), label) for a, b in runs if b - a >= min_duration - 1e-9
        ]
    return sorted(events, key=lambda event: (event[0], event[2]))


def tune_decoding(
    probs: Sequence[np.ndarray] | np.ndarray | torch.Tensor,
    reference: Sequence[Sequence[Event]],
    hop_seconds: float,
    classes: Sequence[str],
    thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6),
    medians: Sequence[int] = (3, 7),
    t_collar: float = 0.2,
    percentage_of_length: float = 0.2,
) -> dict:
    """Choose each class's threshold and median filter for the best event F1 on held-out clips.

    Every (threshold, median) pair of the grid decodes all clips once and is scored by
    `event_f1`; each class keeps the pair with its best per-class F1. Tune on VALIDATION data,
    never on the test data you report.

    Args:
        probs: (clips, frames, classes) probabilities, or one (frames, classes) array per clip.
        reference: one list of true events per clip.
        hop_seconds: time between frames in seconds.
        classes: class names, in column order.
        thresholds: candidate thresholds (default 0.3, 0.4, 0.5, 0.6).
        medians: candidate median filter lengths in frames, odd (default 3, 7).
        t_collar: onset collar of the event F1 in seconds (default 0.2).
        percentage_of_length: offset collar as a share of the event length (default 0.2).

    Returns:
        {"threshold": [one per class], "median_frames": [one per class], "class_f1": {label:
        best F1}}; pass the first two to `frames_to_events`.

    Example:
        >>> probs = np.zeros((1, 20, 1)); probs[0, 5:12, 0] = 0.45
        >>> tune_decoding(probs, [[(0.5, 1.2, "tone")]], 0.1, ["tone"])["threshold"]
        [0.3]

    Notebook: 07_sound_event_detection.
    """
    probs = [to_numpy(p, _SCORED_AS) for p in probs]
    best = {label: (-1.0, 0.5, 1) for label in classes}  # (F1, threshold, median)
    for median in medians:
        for threshold in thresholds:
            estimated = [
                frames_to_events(p, hop_seconds, classes, threshold, median) for p in probs
            ]
            scores = event_f1(reference, estimated, classes, t_collar, percentage_of_length)
            for label, f1 in scores["class_f1"].items():
                if f1 > best[label][0]:
                    best[label] = (f1, threshold, median)
    return {
        "threshold": [best[label][1] for label in classes],
        "median_frames": [best[label][2] for label in classes],
        "class_f1": {label: best[label][0] for label in classes},
    }


def frame_f1(
    predictions: np.ndarray | torch.Tensor,
    targets: np.ndarray | torch.Tensor,
    threshold: float = 0.5,
    mask: np.ndarray | torch.Tensor | None = None,
) -> dict[str, float]:
    """Micro-averaged frame F1: each (frame, class) cell is one binary decision.

    Args:
        predictions: probabilities or 0/1 decisions, (frames, classes) or (clips, frames,
            classes); a cell is active when >= `threshold`.
        targets: 0/1 of the same shape.
        threshold: decision threshold (default 0.5; 0/1 decisions are unchanged by it).
        mask: optional bool of the leading shape ((frames,) or (clips, frames)), True =
            a real frame; padded frames (False) are not scored.

    Returns:
        {"f1", "precision", "recall"}; a score whose denominator is 0 is 0.0.

    Example:
        >>> frame_f1(np.array([[1, 0], [1, 1]]), np.array([[1, 0], [0, 1]]))["f1"]
        0.8

    Notebook: 07_sound_event_detection.
    """
    predictions, targets = to_numpy(predictions, _SCORED_AS), to_numpy(targets, _SCORED_AS)
    if predictions.shape != targets.shape or predictions.ndim not in (2, 3):
        raise ValueError(
            "predictions and targets must share a shape (frames, classes) or (clips, frames, "
            f"classes), got {predictions.shape} and {targets.shape}"
        )
    predicted, actual = predictions >= threshold, targets > 0.5
    if mask is not None:
        mask = to_numpy(mask, _SCORED_AS).astype(bool)
        if mask.shape != predictions.shape[:-1]:
            raise ValueError(f"mask must have shape {predictions.shape[:-1]}, got {mask.shape}")
        predicted, actual = predicted & mask[..., None], actual & mask[..., None]
    true_pos = float(np.sum(predicted & actual))
    precision = true_pos / max(float(predicted.sum()), 1.0)
    recall = true_pos / max(float(actual.sum()), 1.0)
    f1 = 2 * true_pos / max(float(predicted.sum() + actual.sum()), 1.0)
    return {"f1": f1, "precision": precision, "recall": recall}


def _containers(reference, estimated):
    """One `MetaDataContainer` pair per clip (filename "clip<i>"), as sed_eval expects."""
    import dcase_util  # imported here: it is slow to import and only the scores need it

    if len(reference) != len(estimated):
        raise ValueError(
            f"need one event list per clip in both: {len(reference)} references, "
            f"{len(estimated)} estimates"
        )
    pairs = []
    for i, (ref, est) in enumerate(zip(reference, estimated, strict=True)):
        name = f"clip{i:05d}"

        def container(events, name=name):
            return dcase_util.containers.MetaDataContainer(
                [
                    {"filename": name, "event_label": label, "onset": float(a), "offset": float(b)}
                    for a, b, label in events
                ]
            )

        pairs.append((container(ref), container(est)))
    return pairs


def _check_labels(events_per_clip, classes: Sequence[str], name: str) -> None:
    unknown = {label for events in events_per_clip for *_, label in events} - set(classes)
    if unknown:
        raise ValueError(f"{name} has labels {sorted(unknown)} not in classes {list(classes)}")


def _number(value) -> float:
    # sed_eval gives NaN for 0 / 0 (e.g. precision with no estimate at all): score it 0.
    return 0.0 if value is None or math.isnan(value) else float(value)


def _summary(results: dict, classes: Sequence[str]) -> dict:
    overall = results["overall"]
    return {
        "f1": _number(overall["f_measure"]["f_measure"]),
        "precision": _number(overall["f_measure"]["precision"]),
        "recall": _number(overall["f_measure"]["recall"]),
        "error_rate": _number(overall["error_rate"]["error_rate"]),
        "class_f1": {
            c: _number(results["class_wise"][c]["f_measure"]["f_measure"]) for c in classes
        },
    }


def event_f1(
    reference: Sequence[Sequence[Event]],
    estimated: Sequence[Sequence[Event]],
    classes: Sequence[str],
    t_collar: float = 0.2,
    percentage_of_length: float = 0.2,
) -> dict:
    """Event-based scores by `sed_eval.sound_event.EventBasedMetrics` (DCASE's reference code).

    An estimated event is correct when a reference event of the same class has its onset
    within `t_collar` seconds and its offset within max(t_collar, percentage_of_length x the
    reference's length); each reference matches at most one estimate (optimal matching).

    Args:
        reference: one list of (onset_s, offset_s, label) per clip: the truth.
        estimated: one list per clip, same order: the detections.
        classes: every class name (classes without events still count in per-class scores).
        t_collar: onset (and minimum offset) tolerance in seconds (default 0.2, as DCASE).
        percentage_of_length: offset tolerance as a share of the reference length (0.2).

    Returns:
        {"f1", "precision", "recall", "error_rate", "class_f1": {label: f1}}, micro-averaged
        over all events of all clips; a score that would be 0 / 0 (no estimate, or a class
        with neither reference nor estimate) is 0.0.

    Example:
        >>> truth = [[(1.0, 2.0, "tone")]]
        >>> event_f1(truth, [[(1.1, 2.1, "tone")]], ["tone"])["f1"]
        1.0
        >>> event_f1(truth, [[(1.5, 2.0, "tone")]], ["tone"])["f1"]
        0.0

    Notebook: 07_sound_event_detection.
    """
    import sed_eval

    _check_labels(reference, classes, "reference")
    _check_labels(estimated, classes, "estimated")
    metrics = sed_eval.sound_event.EventBasedMetrics(
        event_label_list=list(classes), t_collar=check_number(t_collar, "t_collar"),
        percentage_of_length=check_number(percentage_of_length, "percentage_of_length"),
    )  # fmt: skip
    for ref, est in _containers(reference, estimated):
        metrics.evaluate(reference_event_list=ref, estimated_event_list=est)
    with warnings.catch_warnings():  # sed_eval averages empty per-event lists: NaN, handled
        warnings.simplefilter("ignore", RuntimeWarning)
        return _summary(metrics.results(), classes)


def segment_f1(
    reference: Sequence[Sequence[Event]],
    estimated: Sequence[Sequence[Event]],
    classes: Sequence[str],
    segment_seconds: float = 1.0,
) -> dict:
    """Segment-based scores by `sed_eval.sound_event.SegmentBasedMetrics`.

    Each clip is cut into segments of `segment_seconds`; a class is active in a segment when
    any of its events overlaps it. Decisions are compared per (segment, class).

    Args:
        reference: one list of (onset_s, offset_s, label) per clip: the truth.
        estimated: one list per clip, same order: the detections.
        classes: every class name.
        segment_seconds: segment length in seconds (default 1.0, as DCASE).

    Returns:
        {"f1", "precision", "recall", "error_rate", "class_f1": {label: f1}}.

    Example:
        >>> segment_f1([[(0.2, 1.8, "tone")]], [[(0.5, 1.5, "tone")]], ["tone"])["f1"]
        1.0

    Notebook: 07_sound_event_detection.
    """
    import sed_eval

    _check_labels(reference, classes, "reference")
    _check_labels(estimated, classes, "estimated")
    metrics = sed_eval.sound_event.SegmentBasedMetrics(
        event_label_list=list(classes),
        time_resolution=check_number(segment_seconds, "segment_seconds"),
    )
    for ref, est in _containers(reference, estimated):
        metrics.evaluate(reference_event_list=ref, estimated_event_list=est)
    with warnings.catch_warnings():  # sed_eval averages empty per-event lists: NaN, handled
        warnings.simplefilter("ignore", RuntimeWarning)
        return _summary(metrics.results(), classes)
