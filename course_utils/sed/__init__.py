"""Lesson 07: sound event detection in scenes of overlapping events.

`model`: a CRNN and a CNN + self-attention detector. `events`: frame probabilities to
events, median filtering, and frame, event and segment F1 (through sed_eval). `recipe`: the
lesson's features, training, decoding and scores (``python -m course_utils.sed``).

Notebook: 07_sound_event_detection.
"""

from . import events, model, recipe
from .events import (
    Event,
    event_f1,
    events_to_frames,
    frame_f1,
    frames_to_events,
    median_filter,
    segment_f1,
    tune_decoding,
)
from .model import (
    CRNN,
    SED_PRESETS,
    CNNTransformer,
    ConvFrontEnd,
    SEDConfig,
    SEDOutput,
)
from .recipe import (
    DETECTORS,
    SEDProfile,
    SEDRecipe,
    train_detector,
)

__all__ = [
    "events",
    "model",
    "recipe",
    "CNNTransformer",
    "ConvFrontEnd",
    "CRNN",
    "DETECTORS",
    "Event",
    "event_f1",
    "events_to_frames",
    "frame_f1",
    "frames_to_events",
    "median_filter",
    "SED_PRESETS",
    "SEDConfig",
    "SEDOutput",
    "SEDRecipe",
    "segment_f1",
    "train_detector",
    "tune_decoding",
    "SEDProfile",
]
