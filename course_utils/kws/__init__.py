"""Lesson 06: keyword spotting, from a log-mel front end to a label.

`model`: CNN with mean or attention pooling, a patch keyword transformer, and
`KeywordSpotter` (audio at any sample rate in, a label out). `recipe`: the corpus, training
recipe and evaluations of lesson 06 (``python -m course_utils.kws`` runs them). `real_speech`:
scores on folders of real recordings, and `listen` (what the microphone widget shows).

Notebook: 06_audio_classification.
"""

from . import model, real_speech, recipe
from .model import (
    ClassifierConfig,
    ClassifierOutput,
    CNNClassifier,
    KeywordSpotter,
    KeywordTransformer,
    build_classifier,
    standardize,
)
from .real_speech import Heard, listen, score_recordings
from .recipe import (
    KINDS,
    KWSProfile,
    SpotterRecipe,
    accuracy_vs_snr,
    clean_test_config,
    clips,
    command_corpus_config,
    new_spotter,
    predict_clips,
    train_spotter,
)

__all__ = [
    "model",
    "real_speech",
    "recipe",
    "Heard",
    "listen",
    "score_recordings",
    "accuracy_vs_snr",
    "build_classifier",
    "ClassifierConfig",
    "ClassifierOutput",
    "clean_test_config",
    "clips",
    "CNNClassifier",
    "command_corpus_config",
    "KeywordSpotter",
    "KeywordTransformer",
    "KINDS",
    "new_spotter",
    "predict_clips",
    "SpotterRecipe",
    "standardize",
    "train_spotter",
    "KWSProfile",
]
