"""Lesson 08's data: which corpora it trains and tests on, and their features as batches.

- `asr_corpus_configs`: spoken digit strings and command sentences (unseen test voices);
  `isolated_words_config`: single digits (one or two) with silence around them, through
  simulated recording devices; `training_configs`: what the shipped recognisers learn from;
  `demo_digits_config`: short strings for the lesson's side-by-side runs;
  `long_digits_config`: digit strings twice as long as any in training, for the
  content-against-location test;
- `FeatureSet`: log-mel features (standardised per utterance) and transcripts of a split,
  batched by length.

Shapes: B batch (utterances), M mel bands, T frames, L tokens.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

import functools
import math

import torch

from ..audio import LogMel, standardize
from ..augment import AugmentConfig
from ..core import Profile, check_features, pad_batch
from ..data import CorpusConfig, CorpusSplit, digits_config, sentences_config
from .tokenizer import CharTokenizer

__all__ = [
    "FeatureSet",
    "HOP_LENGTH",
    "N_MELS",
    "SAMPLE_RATE",
    "asr_corpus_configs",
    "isolated_words_config",
    "training_configs",
    "demo_digits_config",
    "log_mel_features",
    "long_digits_config",
]

SAMPLE_RATE, HOP_LENGTH, N_MELS = 16_000, 160, 40  # 10 ms frames; x4 subsampling: 40 ms


def asr_corpus_configs(profile: Profile) -> tuple[CorpusConfig, CorpusConfig]:
    """Digit strings (3 to 7 digits) and command sentences, sized by `profile`."""
    return digits_config(profile), sentences_config(profile)


def isolated_words_config(profile: Profile) -> CorpusConfig:
    """Single digits (one or two) with silence around them, through simulated recording devices.

    Real people often say one word: a recogniser that only heard strings of three or more
    digits inserts words into it ("nine" -> "one eight"). These utterances teach it that one
    word can be the whole utterance; `AugmentConfig.recorded()` puts them through simulated
    microphones, sound cards and codecs. Half as many as the digit strings.
    """
    n = profile.sentences_per_split // 2
    return digits_config(profile, digits_per_string=(1, 2), utterances=(n, n // 4, n // 4),
                         augment=AugmentConfig.recorded())  # fmt: skip


def training_configs(profile: Profile) -> tuple[CorpusConfig, ...]:
    """What the shipped recognisers train on: `asr_corpus_configs` plus isolated words."""
    return (*asr_corpus_configs(profile), isolated_words_config(profile))


def demo_digits_config(profile: Profile) -> CorpusConfig:
    """Short digit strings (2 to 4 digits) for lesson 08's side-by-side training runs."""
    n = profile.asr.demo_utterances
    return digits_config(profile, digits_per_string=(2, 4), utterances=(n, n // 4, n // 4))


def long_digits_config(profile: Profile, digits: int = 14) -> CorpusConfig:
    """Test voices saying strings of `digits` digits: twice the longest string in training."""
    n = profile.sentences_per_split // 8
    return digits_config(profile, digits_per_string=(digits, digits), utterances=(0, 0, n))


def log_mel_features(waveform: torch.Tensor, frontend: LogMel | None = None) -> torch.Tensor:
    """A 16 kHz waveform (time,) -> standardised log-mel features (n_mels, frames), as trained."""
    frontend = frontend or _frontend()
    return standardize(frontend(waveform)[None])[0]


@functools.lru_cache(maxsize=1)
def _frontend() -> LogMel:
    """The one log-mel front end (built once: `recognize` calls it for every utterance)."""
    return LogMel(SAMPLE_RATE, hop_length=HOP_LENGTH, n_mels=N_MELS)


class FeatureSet:
    """Log-mel features and transcripts of corpus splits, ready for batching.

    Args:
        splits: one or more `CorpusSplit` (e.g. the digit and the sentence train splits).
        tokenizer: turns transcripts into ids.

    Attributes:
        features: list of (n_mels, frames) float tensors, each standardised on its own.
        texts: the transcripts, in the same order.
    """

    def __init__(self, splits: CorpusSplit | list[CorpusSplit], tokenizer: CharTokenizer):
        splits = [splits] if isinstance(splits, CorpusSplit) else list(splits)
        frontend = _frontend()
        self.tokenizer = tokenizer
        self.features, self.texts, self.voices = [], [], []
        for split in splits:
            if split.sample_rate != SAMPLE_RATE:
                raise ValueError(f"expected {SAMPLE_RATE} Hz speech, got {split.sample_rate} Hz")
            for i, item in enumerate(split.items):
                waveform = torch.from_numpy(split.waveform(i))
                self.features.append(log_mel_features(waveform, frontend))  # (n_mels, frames)
                self.texts.append(item["text"])
                self.voices.append(item["voice_variant"])
        if not self.features:
            raise ValueError("no utterances: the splits are empty")

    def __len__(self) -> int:
        return len(self.features)

    @classmethod
    def from_features(
        cls, features: list[torch.Tensor], texts: list[str], tokenizer: CharTokenizer,
        voices: list[str] | None = None,
    ) -> FeatureSet:  # fmt: skip
        """A FeatureSet of features already computed (with `log_mel_features`)."""
        data = cls.__new__(cls)
        data.features, data.texts, data.tokenizer = list(features), list(texts), tokenizer
        data.voices = list(voices) if voices is not None else [""] * len(data.features)
        return data

    def subset(self, indices: list[int]) -> FeatureSet:
        """A FeatureSet of the chosen utterances only (e.g. the first 100 for a slow decoder)."""
        pick = lambda values: [values[i] for i in indices]  # noqa: E731
        return FeatureSet.from_features(pick(self.features), pick(self.texts), self.tokenizer,
                                        pick(self.voices))  # fmt: skip

    def check(self, n_mels: int = N_MELS) -> None:
        """Raise ValueError unless every utterance is (n_mels, frames), frames >= 1, finite.

        The recipe calls this once, on the CPU, instead of the model at every step.
        """
        for i, features in enumerate(self.features):
            frames = torch.tensor([features.shape[-1]])
            check_features(features[None], n_mels, frames, name=f"features of utterance {i}")

    def batch(self, indices: list[int]) -> dict:
        """Pad the chosen utterances: features (B, n_mels, frames), lengths, targets, texts."""
        features, lengths = pad_batch([self.features[i] for i in indices])  # (B, M, T), (B,)
        texts = [self.texts[i] for i in indices]
        targets, target_lengths = self.tokenizer.batch(texts)
        return {
            "features": features,  # (B, n_mels, frames)
            "lengths": lengths,  # (B,) valid frames
            "targets": targets,  # (B, max_tokens) character ids
            "target_lengths": target_lengths,  # (B,)
            "texts": texts,
            "indices": list(indices),  # positions in this FeatureSet
        }

    def num_batches(self, batch_size: int) -> int:
        """How many batches `batches(batch_size)` makes (counted, not padded)."""
        return math.ceil(len(self) / batch_size)

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> list[dict]:
        """Batches of utterances of similar length (little padding); shuffled if `generator`."""
        order = sorted(range(len(self)), key=lambda i: self.features[i].shape[-1])
        groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        if generator is not None:
            groups = [groups[i] for i in torch.randperm(len(groups), generator=generator)]
        return [self.batch(group) for group in groups]
