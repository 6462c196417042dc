"""Lesson 12: long audio and efficient attention: keyword spotting in recordings of minutes.

`data`: the long recordings (words of the course corpus in a stream, a third of them
keywords, over coloured noise with synthetic distractors), their frame targets and fresh
training crops. `model`: `LongformDetector`, a convolution-and-attention detector whose
attention is local (a sliding window, O(T * window)) or full (O(T^2)), with no absolute
position, so it runs on any length. `evaluation`: `detect` with checked input, event-based
F1 (`score`) and the energy baseline. `recipe`: `LongformRecipe`, `train_detector` and the
shipped detectors (`load_detector`; ``python -m course_utils.longform`` rebuilds them).
`scaling`: time and memory of the attention forms against length, each point in a fresh
process. `gpu`: on a CUDA device, each SDPA backend's time against the device's peak.

Notebook: 12_long_audio_efficient_attention.
"""

from . import data, evaluation, gpu, model, recipe, scaling
from .data import (
    DISTRACTORS,
    FILLERS,
    KEYWORDS,
    LongformConfig,
    Recording,
    TrainingCrops,
    WordClips,
    frame_targets,
    load_words,
    make_recording,
    test_recordings,
)
from .evaluation import check_recording, decode, detect, energy_baseline, score
from .model import ATTENTIONS, DetectorConfig, LongformDetector, receptive_field_seconds
from .recipe import (
    VARIANTS,
    LongformProfile,
    LongformRecipe,
    build_checkpoint,
    checkpoint_path,
    detector_footprint,
    evaluate_variants,
    load_detector,
    save_detector,
    train_detector,
)

__all__ = [
    "ATTENTIONS",
    "DISTRACTORS",
    "FILLERS",
    "KEYWORDS",
    "VARIANTS",
    "DetectorConfig",
    "LongformConfig",
    "LongformDetector",
    "LongformProfile",
    "LongformRecipe",
    "Recording",
    "TrainingCrops",
    "WordClips",
    "build_checkpoint",
    "check_recording",
    "checkpoint_path",
    "decode",
    "detector_footprint",
    "detect",
    "energy_baseline",
    "evaluate_variants",
    "frame_targets",
    "load_detector",
    "load_words",
    "make_recording",
    "receptive_field_seconds",
    "save_detector",
    "score",
    "test_recordings",
    "train_detector",
    # modules
    "data",
    "evaluation",
    "gpu",
    "model",
    "recipe",
    "scaling",
]
