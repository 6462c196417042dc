"""Profiles: one switch that sizes every lesson, for learners (``full``) and for CI (``ci``).

A lesson never writes ``if CI: ...``. It reads its sizes from the active profile:

    profile = get_profile()          # COURSE_PROFILE=ci selects the small one
    corpus = build_corpus(words_config(profile))

Both profiles run the same code and assert the same claims; only the thresholds that
depend on size (how far above chance a model must be) differ, and they live here too.
Lessons add their own fields to `Profile` as the course grows.

Notebook: 00_welcome_and_setup (section "Profiles").
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Profile", "PROFILES", "get_profile", "PROFILE_ENV"]

PROFILE_ENV = "COURSE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Sizes shared by the lessons; see the module docstring."""

    name: str  # "full" (learners, reported results) or "ci" (continuous integration)
    train_clips_per_word: int  # isolated-word corpus: clips of each word in the train split
    eval_clips_per_word: int  # ... in the validation split and in the test split, each
    sentences_per_split: int  # digit strings and command sentences per split (train; eval /4)
    epochs: int  # default number of training epochs for the small lesson models
    demo_voices: int  # voices played in lesson 00's tour
    demo_clips_per_word: int  # lesson 00's small words corpus: clips per word in each split
    sqrt_d_trials: int  # lesson 01: random queries per dimension in the "why sqrt(d)" test
    event_clips_per_class: int  # lessons 02-03 "where is the event": training clips per class
    event_epochs: int  # lessons 02-03: training epochs of each attention-pooling model
    heads_clips_per_word: int  # lesson 04: training clips per word for the encoder block
    heads_epochs: int  # lesson 04: training epochs
    sed_train_scenes: int  # lesson 07: 10-s training scenes
    sed_eval_scenes: int  # lesson 07: scenes in the validation split and in the test split, each
    sed_epochs: int  # lesson 07: training epochs of each model (CRNN, CNN + attention)
    sed_min_event_f1: float  # lesson 07: event-based F1 on the test scenes each model must reach
    sed_attention_margin: float  # lesson 07: how far the attention model's event F1 may fall
    # below the CRNN's (0: it must match or beat it)
    sed_attention_focus: float  # lesson 07: attention an event's frames keep inside their event,
    # at least, as a multiple of what uniform attention would give
    features_voices: int  # lesson 05: voices (each with its accent) saying one word in the tour
    kws_commands: int  # lesson 06: commands classified besides the 10 digits and "unknown"
    kws_train_clips_per_word: int  # lesson 06: training clips per class
    kws_epochs: int  # lesson 06: training epochs of each classifier (the same for all three)
    kws_width: int  # lesson 06: channels of the CNN blocks, width of the KWT tokens
    kws_min_accuracy: float  # lesson 06: test accuracy (unseen voices) the best model must reach
    asr_demo_utterances: int  # lesson 08: training digit strings of the side-by-side runs
    asr_demo_epochs: int  # lesson 08: epochs of each side-by-side run (CTC, attention, joint)
    asr_demo_max_cer_ratio: float  # lesson 08: each run's final CER, at most this x untrained
    asr_joint_step_fraction: float  # lesson 08: the joint speller reaches attention-alone's
    # final loss within this share of the steps (1.0 in CI: too few steps to compare speeds)
    asr_max_cer: float  # lesson 08: the shipped recogniser's test CER (greedy attention)
    asr_max_wer: float  # ... and WER, at most
    asr_long_max_cer: float  # lesson 08: CER of location-aware attention on 2x longer strings
    asr_beam_utterances: int  # lesson 08: test utterances decoded by beam search

    @property
    def is_ci(self) -> bool:
        return self.name == "ci"


PROFILES = {
    "full": Profile(
        name="full",
        train_clips_per_word=200,
        eval_clips_per_word=40,
        sentences_per_split=2000,
        epochs=20,
        demo_voices=6,
        demo_clips_per_word=4,
        sqrt_d_trials=1000,
        event_clips_per_class=700,
        event_epochs=12,
        heads_clips_per_word=400,
        heads_epochs=6,
        sed_train_scenes=800,
        sed_eval_scenes=150,
        sed_epochs=12,
        sed_min_event_f1=0.85,
        sed_attention_margin=0.05,
        sed_attention_focus=1.5,
        features_voices=6,
        kws_commands=24,
        kws_train_clips_per_word=200,
        kws_epochs=20,
        kws_width=96,
        kws_min_accuracy=0.94,
        asr_demo_utterances=2000,
        asr_demo_epochs=3,
        asr_demo_max_cer_ratio=0.5,
        asr_joint_step_fraction=0.75,
        asr_max_cer=0.03,
        asr_max_wer=0.08,
        asr_long_max_cer=0.10,
        asr_beam_utterances=200,
    ),
    "ci": Profile(
        name="ci",
        train_clips_per_word=24,
        eval_clips_per_word=8,
        sentences_per_split=200,
        epochs=4,
        demo_voices=3,
        demo_clips_per_word=2,
        sqrt_d_trials=120,
        event_clips_per_class=150,
        event_epochs=8,
        heads_clips_per_word=100,
        heads_epochs=4,
        sed_train_scenes=160,
        sed_eval_scenes=40,
        sed_epochs=8,
        sed_min_event_f1=0.5,
        sed_attention_margin=0.1,
        sed_attention_focus=0.5,
        features_voices=3,
        kws_commands=0,
        kws_train_clips_per_word=100,
        kws_epochs=12,
        kws_width=64,
        kws_min_accuracy=0.8,
        asr_demo_utterances=320,
        asr_demo_epochs=8,
        asr_demo_max_cer_ratio=0.8,
        asr_joint_step_fraction=1.0,
        asr_max_cer=0.03,
        asr_max_wer=0.08,
        asr_long_max_cer=0.10,
        asr_beam_utterances=20,
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile named `name`, else ``$COURSE_PROFILE``, else ``full``.

    Example:
        >>> get_profile("ci").train_clips_per_word < get_profile("full").train_clips_per_word
        True
    """
    name = (name or os.environ.get(PROFILE_ENV) or "full").strip().lower()
    if name not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r} (from {PROFILE_ENV}); expected one of {list(PROFILES)}"
        )
    return PROFILES[name]
