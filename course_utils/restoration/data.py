"""Lesson 11's training and test pairs: clean corpus speech and its damaged copy.

The clean speech is lesson 10's (digit strings and command sentences, no augmentation,
splits disjoint by voice); `degrade.degrade` damages it on the fly, so every epoch hears new
noises at new SNRs. Test pairs are drawn once from a fixed seed, whole utterances, on the
voices of the test split.

- `load_clean_speech`: one split's clean utterances (cached corpus);
- `test_speech`: the test utterances every system is scored on (lesson 10's test clips);
- `PairBatches`: an epoch of random one-second crops, each damaged afresh;
- `test_pairs`: fixed (damaged, clean, info) triples for scoring.

Shapes: B batch, S samples.

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

import numpy as np
import torch

from ..codec.data import CodecSpeech, load_codec_speech, random_crop
from ..codec.recipe import test_clips
from ..core import Profile
from .degrade import Degradation, degrade

__all__ = ["PairBatches", "load_clean_speech", "test_pairs", "test_speech"]

_MIN_RMS = 1e-3  # a crop quieter than this is a pause: no SNR can be defined on it


def load_clean_speech(profile: Profile, split: str, progress: bool = False) -> CodecSpeech:
    """The clean utterances of `split` ("train", "validation" or "test")."""
    return load_codec_speech(profile, split, progress=progress)


def test_speech(profile: Profile) -> CodecSpeech:
    """The clean test utterances (voices never heard in training) that lessons 10 and 11
    score on: half digit strings, half command sentences. Only the test split is generated,
    so this is quick."""
    return test_clips(profile)


def _pair(clean: np.ndarray, degradation: Degradation, rng, voices) -> tuple:
    damaged, info = degrade(clean, degradation, rng, voices=voices)
    return damaged, clean * np.float32(info["scale"]), info


class PairBatches:
    """`batches` batches per epoch of `batch_size` (damaged, clean) crops of `samples`.

    Crops are drawn at random from the utterances (a crop that falls in a pause is drawn
    again) and damaged as `degradation` says; babble takes its voices from the same split.
    Iterating again draws new crops and new damage (from `seed` and the epoch number).

    Shapes: each batch is two float32 tensors (batch_size, samples): damaged, clean.
    """

    def __init__(self, speech: CodecSpeech, degradation: Degradation, samples: int,
                 batch_size: int, batches: int, seed: int = 0):  # fmt: skip
        if not len(speech):
            raise ValueError("PairBatches needs at least one utterance, got an empty split")
        self.speech, self.degradation, self.samples = speech, degradation, samples
        self.batch_size, self.batches, self.seed, self.epoch = batch_size, batches, seed, 0

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        for _ in range(self.batches):
            pairs = [_pair(self._crop(rng), self.degradation, rng, self.speech.waves)
                     for _ in range(self.batch_size)]  # fmt: skip
            yield (torch.from_numpy(np.stack([p[0] for p in pairs])),
                   torch.from_numpy(np.stack([p[1] for p in pairs])))  # fmt: skip

    def _crop(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(100):
            wave = self.speech.waves[rng.integers(len(self.speech))]
            crop = random_crop(wave, self.samples, rng)
            if np.sqrt(np.mean(crop**2)) > _MIN_RMS:
                return crop
        raise ValueError("found no crop with speech in 100 draws: is the split silent?")


def test_pairs(speech: CodecSpeech, degradation: Degradation, count: int, seed: int = 1234):
    """`count` fixed (damaged, clean, info) triples of whole utterances, drawn at random
    (from `seed`) among the split's; babble from the split's other utterances.
    info holds the noise kind and SNR (denoising) and the utterance's transcript."""
    if not 0 < count <= len(speech):
        raise ValueError(f"count must be between 1 and {len(speech)} utterances, got {count}")
    rng = np.random.default_rng(seed)
    order = np.random.default_rng(seed).permutation(len(speech))[:count]
    triples = []
    for i in order:
        others = [w for j, w in enumerate(speech.waves) if j != i]
        damaged, clean, info = _pair(speech.waves[i], degradation, rng, others)
        triples.append((damaged, clean, {**info, "text": speech.texts[i]}))
    return triples
