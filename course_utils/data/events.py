"""Timed events and their frame labels: what a scene holds and what a detector must output.

An event is ``(onset_s, offset_s, label)``. `events_to_frames` turns a list of them into the
frame targets (the "event roll") a sound event detector learns from; the scenes of lesson 07
and the long recordings of lesson 12 label their frames with it. Decoding a detector's output
back into events, and scoring it, is the detector's business (`course_utils.sed.events`).

Frames are centred: frame t covers the instant t * hop_seconds, as `LogMel` (center=True)
returns them.

Notebook: 07_sound_event_detection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..core import check_integer, check_number

__all__ = ["Event", "events_to_frames"]

Event = tuple[float, float, str]  # (onset in seconds, offset in seconds, class label)


def events_to_frames(
    events: Sequence[Event], classes: Sequence[str], num_frames: int, hop_seconds: float
) -> np.ndarray:
    """Frame targets of an event list: 1 where a frame's centre lies in [onset, offset).

    Args:
        events: (onset_s, offset_s, label) tuples; labels must be in `classes`.
        classes: class names, in column order.
        num_frames: frames of the roll, e.g. 1 + samples // hop_length.
        hop_seconds: time between frames (hop_length / sample_rate).

    Returns:
        float32 (frames, classes) array of 0 and 1 (the "event roll").

    Example:
        >>> events_to_frames([(0.1, 0.3, "tone")], ["tone", "chirp"], 5, 0.1)[:, 0]
        array([0., 1., 1., 0., 0.], dtype=float32)

    Notebook: 07_sound_event_detection.
    """
    num_frames = check_integer(num_frames, "num_frames", minimum=1)
    hop_seconds = check_number(hop_seconds, "hop_seconds")
    if hop_seconds <= 0:
        raise ValueError(f"hop_seconds must be positive, got {hop_seconds}")
    index = {label: i for i, label in enumerate(classes)}
    roll = np.zeros((num_frames, len(classes)), dtype=np.float32)
    for onset, offset, label in events:
        if label not in index:
            raise ValueError(f"event label {label!r} is not one of the classes {list(classes)}")
        if not 0 <= onset <= offset:
            raise ValueError(f"need 0 <= onset <= offset, got ({onset}, {offset}, {label!r})")
        # Frame t is centred at t * hop: active for onset <= t * hop < offset. The small
        # tolerance keeps times that are exact multiples of the hop on the right side.
        first = math.ceil(onset / hop_seconds - 1e-9)
        stop = math.ceil(offset / hop_seconds - 1e-9)
        roll[max(first, 0) : min(stop, num_frames), index[label]] = 1.0
    return roll
