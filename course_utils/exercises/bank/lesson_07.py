"""Lesson 07's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain NumPy (it does not import ``course_utils.sed``:
its source is what ``solution()`` shows, so it must stand alone), a function making the test
inputs with the edge cases that expose common bugs, and the known mistakes with the hint each
earns. Results are arrays, lists of (onset, offset) pairs and booleans. Importing this module
registers them.

Notebook: 07_sound_event_detection.
"""

from __future__ import annotations

import numpy as np
import torch

from ..checker import register

__all__ = ["collar_match", "frame_labels", "median_filter", "runs"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def frame_labels(
    events: list[tuple], classes: tuple[str, ...], num_frames: int, hop_seconds: float
) -> np.ndarray:
    """Float (num_frames, classes) 0/1: frame t is active when onset <= t * hop < offset."""
    centres = np.arange(num_frames) * hop_seconds  # (frames,) the time of each frame's centre
    roll = np.zeros((num_frames, len(classes)), dtype=np.float32)
    for onset, offset, label in events:
        inside = (centres >= onset - 1e-9) & (centres < offset - 1e-9)  # [onset, offset)
        roll[inside, classes.index(label)] = 1
    return roll


def median_filter(x: np.ndarray, width: int) -> np.ndarray:
    """Median of x[t - h] .. x[t + h] for every t, h = width // 2, edges repeating end values."""
    h = width // 2
    padded = np.pad(x, h, mode="edge")  # repeat the first and last values
    return np.array([np.median(padded[t : t + width]) for t in range(len(x))])


def runs(active: np.ndarray, hop_seconds: float) -> list[tuple[float, float]]:
    """(onset, offset) in seconds of each run of 1s; frames a..b span [a * hop, (b + 1) * hop)."""
    edges = np.diff(np.concatenate([[0], active, [0]]))  # +1 at a start, -1 one past an end
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(a * hop_seconds, b * hop_seconds) for a, b in zip(starts, stops, strict=True)]


def collar_match(
    reference: tuple[float, float],
    estimate: tuple[float, float],
    t_collar: float = 0.2,
    percentage: float = 0.2,
) -> bool:
    """Whether estimate matches reference (onset, offset) within sed_eval's collars."""
    offset_collar = max(t_collar, percentage * (reference[1] - reference[0]))
    onset_ok = abs(estimate[0] - reference[0]) <= t_collar
    return bool(onset_ok and abs(estimate[1] - reference[1]) <= offset_collar)


# ----- 07.frame_labels -----


def _label_cases(g: torch.Generator) -> list[tuple]:
    return [
        ([(0.1, 0.3, "tone")], ("tone", "chirp"), 6, 0.1),  # the offset is a frame centre
        ([(0.05, 0.25, "chirp"), (0.0, 0.42, "tone")], ("tone", "chirp"), 8, 0.1),
        ([(1.01, 1.99, "tone")], ("tone",), 30, 0.1),  # between frame centres
        ([], ("tone", "chirp", "click"), 5, 0.02),  # no event: all zeros
        ([(0.3, 2.0, "click"), (0.0, 0.04, "chirp")], ("tone", "chirp", "click"), 12, 0.04),
    ]


def _offset_included(events, classes, num_frames, hop_seconds):
    centres = np.arange(num_frames) * hop_seconds
    roll = np.zeros((num_frames, len(classes)), dtype=np.float32)
    for onset, offset, label in events:
        roll[(centres >= onset - 1e-9) & (centres <= offset + 1e-9), classes.index(label)] = 1
    return roll


def _frames_by_truncation(events, classes, num_frames, hop_seconds):
    roll = np.zeros((num_frames, len(classes)), dtype=np.float32)
    for onset, offset, label in events:
        roll[int(onset / hop_seconds) : int(offset / hop_seconds), classes.index(label)] = 1
    return roll


def _frame_starts_as_centres(events, classes, num_frames, hop_seconds):
    return frame_labels([(a - hop_seconds / 2, b - hop_seconds / 2, c) for a, b, c in events],
                        classes, num_frames, hop_seconds)  # fmt: skip


register(
    "07.frame_labels",
    frame_labels,
    _label_cases,
    [
        (
            _offset_included,
            "An event covers [onset, offset): a frame centred exactly at the offset is outside.",
        ),
        (
            _frames_by_truncation,
            "Compare each frame's centre time with the onset and offset: truncating onset / hop "
            "to a frame index shifts events that do not start on a frame centre.",
        ),
        (
            _frame_starts_as_centres,
            "Frame t's centre is at t * hop_seconds, not half a hop later.",
        ),
        (
            lambda events, classes, num_frames, hop_seconds: (
                frame_labels(events, classes, num_frames, hop_seconds).T
            ),
            "Return (num_frames, classes): one row per frame, one column per class.",
        ),
    ],
    "For each event, mark the frames whose centre t * hop_seconds lies in [onset, offset), in "
    "the column of the event's class.",
    outputs=("labels",),
)


# ----- 07.median_filter -----


def _median_cases(g: torch.Generator) -> list[tuple]:
    rng = np.random.default_rng(0)
    return [
        (np.array([0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0]), 3),
        (rng.integers(0, 2, 40), 5),
        (np.array([1, 0, 0, 0, 0, 1]), 5),  # events touching both edges
        (rng.integers(0, 2, 25), 1),  # width 1: no filtering
        (np.array([1, 1, 0]), 7),  # wider than the array
        (np.array([1]), 3),  # a single frame
    ]


def _moving_average(x, width):
    return np.convolve(np.pad(x, width // 2, mode="edge"), np.ones(width) / width, "valid")


def _zero_edges(x, width):
    padded = np.pad(x, width // 2)  # zeros outside: events touching the edges get cut
    return np.array([np.median(padded[t : t + width]) for t in range(len(x))])


register(
    "07.median_filter",
    median_filter,
    _median_cases,
    [
        (
            _moving_average,
            "That is a moving average; take the median (the middle value) instead.",
        ),
        (
            _zero_edges,
            "Check the edges: positions outside the array repeat the first or the last value; "
            "zeros there cut off events that touch the edges.",
        ),
        (
            lambda x, width: np.array(
                [np.median(x[t : t + width]) for t in range(len(x) - width + 1)]
            ),
            "Your output is shorter than the input: pad both ends (repeating the end values) "
            "so that every frame gets a window centred on it.",
        ),
    ],
    "Pad both ends with width // 2 copies of the end values, then take the median of the "
    "window centred on each frame.",
    outputs=("filtered",),
)


# ----- 07.runs -----


def _runs_cases(g: torch.Generator) -> list[tuple]:
    return [
        (np.array([0, 1, 1, 0, 1]), 0.1),  # the last run reaches the end
        (np.array([1, 1, 1]), 0.02),  # one run over everything
        (np.zeros(5, dtype=int), 0.1),  # no run at all
        (np.array([1, 0, 1, 0, 0, 1, 1]), 0.5),  # a run at frame 0
        (np.array([0, 0, 1, 1, 1, 0, 0]), 0.04),
    ]


def _last_frame_as_offset(active, hop_seconds):
    return [(a, b - hop_seconds) for a, b in runs(active, hop_seconds)]


def _in_frames(active, hop_seconds):
    return [(a / hop_seconds, b / hop_seconds) for a, b in runs(active, hop_seconds)]


def _last_run_dropped(active, hop_seconds):
    edges = np.diff(np.concatenate([[0], active]))  # no 0 after the end: a final run never ends
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(a * hop_seconds, b * hop_seconds) for a, b in zip(starts, stops, strict=False)]


register(
    "07.runs",
    runs,
    _runs_cases,
    [
        (
            _last_frame_as_offset,
            "The offset is one hop AFTER the last active frame: a run over frames a..b ends at "
            "(b + 1) hops.",
        ),
        (_in_frames, "Return seconds, not frame numbers: multiply by hop_seconds."),
        (
            _last_run_dropped,
            "A run that lasts until the last frame has no 0 after it: close it at the end of "
            "the array too.",
        ),
    ],
    "Find where the frames switch from 0 to 1 (onsets) and from 1 to 0 (offsets), treating the "
    "outside of the array as 0, and convert frames to seconds.",
    outputs=("runs",),
)


# ----- 07.collar_match -----


def _collar_cases(g: torch.Generator) -> list[tuple]:
    rng = np.random.default_rng(1)
    pairs = [((1.0, 5.0), (1.1, 5.7)), ((1.0, 2.0), (1.1, 2.3)), ((1.0, 2.0), (1.35, 2.0))]
    pairs.append(((0.0, 2.0), (0.1, 2.45)))  # a long estimate: whose length sets the collar?
    for _ in range(30):
        onset, length = rng.uniform(0, 3), rng.uniform(0.2, 3)
        estimate = (onset + rng.uniform(-0.4, 0.4), onset + length + rng.uniform(-0.9, 0.9))
        pairs.append(((onset, onset + length), estimate))
    cases = [(reference, estimate) for reference, estimate in pairs]
    cases += [((0.0, 4.0), (0.15, 4.5), 0.2, 0.2), ((0.0, 4.0), (0.15, 4.5), 0.1, 0.5)]
    return cases


def _fixed_offset_collar(reference, estimate, t_collar=0.2, percentage=0.2):
    onset_ok = abs(estimate[0] - reference[0]) <= t_collar
    return bool(onset_ok and abs(estimate[1] - reference[1]) <= t_collar)


def _collar_from_estimate(reference, estimate, t_collar=0.2, percentage=0.2):
    offset_collar = max(t_collar, percentage * (estimate[1] - estimate[0]))
    onset_ok = abs(estimate[0] - reference[0]) <= t_collar
    return bool(onset_ok and abs(estimate[1] - reference[1]) <= offset_collar)


def _offset_only(reference, estimate, t_collar=0.2, percentage=0.2):
    offset_collar = max(t_collar, percentage * (reference[1] - reference[0]))
    return bool(abs(estimate[1] - reference[1]) <= offset_collar)


register(
    "07.collar_match",
    collar_match,
    _collar_cases,
    [
        (
            _fixed_offset_collar,
            "The offset collar grows with the event: max(t_collar, percentage x the reference "
            "event's length).",
        ),
        (
            _collar_from_estimate,
            "The offset collar is a share of the REFERENCE event's length, not the estimate's.",
        ),
        (
            _offset_only,
            "The onsets must match too: at most t_collar apart.",
        ),
    ],
    "Two conditions, both needed: the onsets at most t_collar apart, and the offsets at most "
    "max(t_collar, percentage x reference length) apart.",
    outputs=("match",),
)
