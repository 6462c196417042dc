"""What the speech corpus holds: its config, sized presets, and the split of voices.

`CorpusConfig` says what to generate (task, vocabulary, sizes, voices, augmentation); two
equal configs give byte-identical corpora and share one cache file, named by `key()`.
`words_config`, `digits_config` and `sentences_config` size a config from the profile.
`voice_splits` holds out the same voices in every corpus, so a score on "test" is always on
voices never heard in training.

Notebook: 00_welcome_and_setup (the splits) and 05_audio_features_and_data (the tour).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..augment import AugmentConfig
from ..core import Profile, check_sample_rate
from ..core.cache import config_key
from . import espeak
from .texts import COMMANDS, DIGITS, UNKNOWN_LABEL

__all__ = [
    "SPLITS",
    "CorpusConfig",
    "digits_config",
    "sentences_config",
    "voice_splits",
    "words_config",
]

CORPUS_VERSION = 1  # bump when the generation code changes what a config produces
SPLITS = ("train", "validation", "test")
VOICE_SPLIT_SEED = 20_240_601  # fixed, not the corpus seed: every corpus holds out the same voices


@dataclass(frozen=True)
class CorpusConfig:
    """What to generate. Two equal configs give byte-identical corpora (and share a cache)."""

    task: str = "words"  # "words" (isolated, fixed-length clips), "digits" or "sentences"
    words: tuple[str, ...] = DIGITS + COMMANDS  # "words": the vocabulary; labels in this order
    unknown_words: tuple[str, ...] = ()  # "words": spoken as one extra class, UNKNOWN_LABEL
    clips_per_word: tuple[int, int, int] = (200, 40, 40)  # "words": per label in each split
    utterances: tuple[int, int, int] = (2000, 500, 500)  # "digits"/"sentences": per split
    digits_per_string: tuple[int, int] = (3, 7)  # "digits": length range, inclusive
    sample_rate: int = 16_000  # Hz
    clip_seconds: float = 1.0  # "words": every clip is this long, the word at a random place
    accents: tuple[str, ...] = espeak.ACCENTS  # eSpeak accents to draw from
    rate_range: tuple[int, int] = (120, 240)  # speaking rate, words per minute
    pitch_range: tuple[int, int] = (15, 85)  # eSpeak base pitch, 0..99
    intonation_range: tuple[int, int] = (10, 90)  # eSpeak pitch range (intonation), 0..99
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)  # of voice variants
    augment: AugmentConfig = field(default_factory=AugmentConfig)  # applied in every split
    seed: int = 0  # everything random derives from this

    def __post_init__(self) -> None:
        if self.task not in ("words", "digits", "sentences"):
            raise ValueError(f"task must be 'words', 'digits' or 'sentences', got {self.task!r}")
        check_sample_rate(self.sample_rate)
        if self.task == "words" and not self.words:
            raise ValueError("task 'words' needs a non-empty tuple of words")
        unknown = set(self.accents) - set(espeak.ACCENTS)
        if unknown:
            raise ValueError(
                f"unknown accents {sorted(unknown)}; expected some of {espeak.ACCENTS}"
            )
        counts = self.clips_per_word if self.task == "words" else self.utterances
        if len(counts) != 3 or min(counts) < 0:
            raise ValueError(
                f"expected three non-negative sizes (train, validation, test), got {counts}"
            )
        if abs(sum(self.split_fractions) - 1) > 1e-6 or min(self.split_fractions) <= 0:
            raise ValueError(
                "split_fractions must be three positive numbers summing to 1, "
                f"got {self.split_fractions}"
            )

    @property
    def labels(self) -> tuple[str, ...]:
        """Class names, in label order (empty for sentence tasks)."""
        if self.task != "words":
            return ()
        return self.words + ((UNKNOWN_LABEL,) if self.unknown_words else ())

    def key(self) -> str:
        """A short hash of everything that changes the corpus; names its cache file."""
        settings = asdict(self) | {"version": CORPUS_VERSION, "engine": _engine_version()}
        return config_key(settings)


def _engine_version() -> str:
    from importlib.metadata import version

    return version("espeakng-loader")


def words_config(profile: Profile, **overrides) -> CorpusConfig:
    """Isolated digits and commands sized by `profile` (lessons 02-07)."""
    sizes = (profile.train_clips_per_word, profile.eval_clips_per_word, profile.eval_clips_per_word)
    return replace(CorpusConfig(task="words", clips_per_word=sizes), **overrides)


def digits_config(profile: Profile, **overrides) -> CorpusConfig:
    """Spoken digit strings with transcripts, sized by `profile` (lesson 08)."""
    n = profile.sentences_per_split
    return replace(CorpusConfig(task="digits", utterances=(n, n // 4, n // 4)), **overrides)


def sentences_config(profile: Profile, **overrides) -> CorpusConfig:
    """Short command sentences with transcripts, sized by `profile` (lessons 08, 09, 13)."""
    n = profile.sentences_per_split
    return replace(CorpusConfig(task="sentences", utterances=(n, n // 4, n // 4)), **overrides)


def voice_splits(
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> dict[str, tuple[str, ...]]:
    """Assign every eSpeak voice variant to exactly one split.

    The assignment depends only on the fractions (not on the corpus seed), so the test
    voices of every corpus in the course are the same, and never heard in any training set.

    Args:
        fractions: shares of the variants for train, validation and test.

    Returns:
        {"train": variants, "validation": variants, "test": variants}, disjoint.

    Example:
        >>> splits = voice_splits()
        >>> set(splits["train"]) & set(splits["test"])
        set()
    """
    variants = list(espeak.list_variants())
    order = np.random.default_rng(VOICE_SPLIT_SEED).permutation(len(variants))
    shuffled = [variants[i] for i in order]
    n_train = round(fractions[0] * len(variants))
    n_val = round(fractions[1] * len(variants))
    return {
        "train": tuple(sorted(shuffled[:n_train])),
        "validation": tuple(sorted(shuffled[n_train : n_train + n_val])),
        "test": tuple(sorted(shuffled[n_train + n_val :])),
    }
