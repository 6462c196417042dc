"""Lesson 10's speech: clean corpus utterances (no augmentation), cut into training crops.

A codec should reproduce what it is given, so it trains on clean speech: digit strings and
command sentences of the course corpus, with every augmentation off. The splits are disjoint
by voice as everywhere in the course: the codec is scored on voices it never heard.

- `codec_corpus_configs`: the two corpora, sized by the profile;
- `CodecSpeech`: one split's utterances as float waveforms;
- `random_crop`: one random fixed-length piece of an utterance;
- `RandomCrops`: an epoch of random fixed-length crops, a new draw every epoch.

Shapes: B batch, S samples.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..augment import AugmentConfig
from ..core import Profile
from ..data import CorpusConfig, build_corpus, digits_config, sentences_config

__all__ = ["CodecSpeech", "RandomCrops", "codec_corpus_configs", "load_codec_speech", "random_crop"]


def codec_corpus_configs(profile: Profile, sentences: int | None = None) -> list[CorpusConfig]:
    """Digit strings and command sentences without augmentation, `sentences` (default the
    profile's ``sentences_per_split``) of each in the train split and a quarter in the others."""
    n = profile.sentences_per_split if sentences is None else sentences
    common = {"augment": AugmentConfig.none(), "utterances": (n, n // 4, n // 4)}
    return [digits_config(profile, **common), sentences_config(profile, **common)]


@dataclass
class CodecSpeech:
    """One split's utterances: float32 waveforms in [-1, 1] and their transcripts."""

    waves: list[np.ndarray]
    texts: list[str]
    sample_rate: int

    def __len__(self) -> int:
        return len(self.waves)

    def seconds(self) -> float:
        return sum(len(w) for w in self.waves) / self.sample_rate


def load_codec_speech(profile: Profile, split: str, sentences: int | None = None,
                      progress: bool = False) -> CodecSpeech:  # fmt: skip
    """The utterances of `split` ("train", "validation" or "test") of both corpora (cached)."""
    waves, texts = [], []
    for config in codec_corpus_configs(profile, sentences):
        corpus = build_corpus(config, progress=progress)[split]
        for i in range(len(corpus)):
            waves.append(corpus.waveform(i))
            texts.append(corpus.items[i]["text"])
    return CodecSpeech(waves, texts, config.sample_rate)


def random_crop(wave: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """A random piece of `samples` samples of `wave` (time,), zero-padded when shorter."""
    if len(wave) < samples:
        wave = np.pad(wave, (0, samples - len(wave)))
    start = rng.integers(len(wave) - samples + 1)
    return wave[start : start + samples]


class RandomCrops:
    """`batches` batches per epoch of `batch_size` random crops of `samples` samples each.

    Utterances shorter than a crop are padded with zeros. Iterating again draws new crops
    (from `seed` and the epoch number, so a run is reproducible).

    Shapes: each batch (batch_size, 1, samples) float32.
    """

    def __init__(self, speech: CodecSpeech, samples: int, batch_size: int, batches: int,
                 seed: int = 0):  # fmt: skip
        if not len(speech):
            raise ValueError("RandomCrops needs at least one utterance, got an empty split")
        self.speech, self.samples = speech, samples
        self.batch_size, self.batches, self.seed = batch_size, batches, seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        for _ in range(self.batches):
            picks = rng.integers(len(self.speech), size=self.batch_size)
            crops = [random_crop(self.speech.waves[i], self.samples, rng) for i in picks]
            yield torch.from_numpy(np.stack(crops)[:, None])
