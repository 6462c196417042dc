"""The course speech corpus: words, digit strings and command sentences spoken by eSpeak NG.

Every lesson trains on speech that the course makes itself, so nothing is downloaded and
every learner gets the same data. Diversity comes from eSpeak's ~100 voice variants times
8 English accents times speaking rate, pitch and intonation, then from augmentation (speed,
pitch, room reverberation, telephone band, coloured noise at a chosen SNR, gain).

Splits are disjoint by voice: a variant (the speaker) heard in training is never heard in
validation or test, so every score a lesson reports is on unseen voices.

Building is deterministic (same config, same bytes), runs on all cores, and is cached under
``data/corpus/`` in one file per config, written atomically.

Notebook: 00_welcome_and_setup (the splits) and 05_audio_features_and_data (the tour).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..augment import augment, pad_or_crop
from ..core import data_dir
from ..core.cache import load_npz, load_or_build, save_npz
from . import espeak
from .corpus_config import SPLITS, CorpusConfig, voice_splits
from .texts import (
    command_sentences,
    digit_strings,
    word_texts,
)

__all__ = ["Corpus", "CorpusSplit", "build_corpus", "cache_path", "trim_silence"]

CHUNK_SIZE = 64  # utterances per synthesis batch: fixed, so results do not depend on workers


# ---------------------------------------------------------------------------- generation


def _texts(config: CorpusConfig, split: str) -> list[tuple[str, int]]:
    """(text, label) for every utterance of `split`, in a fixed order (label -1: no class)."""
    index = SPLITS.index(split)
    rng = np.random.default_rng([config.seed, index, 1])
    if config.task == "words":
        return word_texts(config.words, config.unknown_words, config.clips_per_word[index], rng)
    n = config.utterances[index]
    if config.task == "digits":
        return [(text, -1) for text in digit_strings(n, config.digits_per_string, rng)]
    return [(text, -1) for text in command_sentences(n, rng)]


def trim_silence(
    waveform: np.ndarray, sample_rate: int, threshold_db: float = -40.0
) -> np.ndarray:
    """Cut leading and trailing silence (eSpeak pads its output), keeping 10 ms margins."""
    level = np.abs(waveform)
    loud = np.flatnonzero(level > level.max() * 10 ** (threshold_db / 20))
    margin = sample_rate // 100
    return waveform[max(loud[0] - margin, 0) : loud[-1] + margin + 1]


def _render_chunk(
    config: CorpusConfig, split: str, start: int, stop: int
) -> list[tuple[np.ndarray, dict]]:
    """Synthesise and augment utterances [start, stop) of `split`: int16 audio + metadata."""
    texts = _texts(config, split)[start:stop]
    variants = voice_splits(config.split_fractions)[split]
    rngs = [
        np.random.default_rng([config.seed, SPLITS.index(split), 2, i]) for i in range(start, stop)
    ]
    voices = [
        espeak.Voice(
            accent=config.accents[rng.integers(len(config.accents))],
            variant=variants[rng.integers(len(variants))],
            rate=int(rng.integers(config.rate_range[0], config.rate_range[1] + 1)),
            pitch=int(rng.integers(config.pitch_range[0], config.pitch_range[1] + 1)),
            pitch_range=int(
                rng.integers(config.intonation_range[0], config.intonation_range[1] + 1)
            ),
        )
        for rng in rngs
    ]
    speech = espeak.synthesize_batch(
        [(text, voice) for (text, _), voice in zip(texts, voices, strict=True)],
        sample_rate=config.sample_rate,
        seed=config.seed * 1_000_003 + start,
    )
    rendered = []
    for (text, label), voice, wave, rng in zip(texts, voices, speech, rngs, strict=True):
        wave = trim_silence(wave, config.sample_rate)
        wave, meta = _place_and_augment(wave, config, rng)
        meta |= {
            "text": text,
            "label": label,
            **{f"voice_{k}": v for k, v in asdict(voice).items()},
        }
        rendered.append(((np.clip(wave, -1, 1) * 32767).astype(np.int16), meta))
    return rendered


def _place_and_augment(
    speech: np.ndarray, config: CorpusConfig, rng: np.random.Generator
) -> tuple[np.ndarray, dict]:
    """Words: put the word at a random place in a fixed-length clip. Others: pad with silence.

    Returns the augmented clip and where the speech is in it (seconds), for lessons that
    ask a model to find it.
    """
    sr = config.sample_rate
    if config.task == "words":
        length = round(config.clip_seconds * sr)
        # Leave room for the slowest speed perturbation, which stretches the clip.
        slowest = min(config.augment.speed_range) if config.augment.speed_prob > 0 else 1.0
        room = max(int(length * slowest) - len(speech), 0)
        offset = int(rng.integers(0, room + 1))
        clip = pad_or_crop(speech, length, offset)
    else:
        before, after = (int(rng.uniform(0.1, 0.3) * sr) for _ in range(2))
        offset, length = before, before + len(speech) + after
        clip = pad_or_crop(speech, length, offset)
    end = min(offset + len(speech), length)
    clip, applied = augment(clip, sr, config.augment, rng)
    speed = applied.get("speed", 1.0)
    if config.task == "words":
        clip = pad_or_crop(clip, length, 0)
    meta = {"speech_start": offset / speed / sr, "speech_end": end / speed / sr}
    return clip.astype(np.float32), meta | {f"aug_{k}": v for k, v in applied.items()}


# ------------------------------------------------------------------------------- storage


@dataclass
class CorpusSplit:
    """One split: utterances stored as one int16 array plus offsets, and their metadata."""

    name: str
    sample_rate: int
    audio: np.ndarray  # int16 (total_samples,), every utterance back to back
    offsets: np.ndarray  # int64 (n + 1,): utterance i is audio[offsets[i]:offsets[i + 1]]
    items: list[dict]  # per utterance: text, label, voice_*, aug_*, speech_start/end (s)

    def __len__(self) -> int:
        return len(self.items)

    def waveform(self, index: int) -> np.ndarray:
        """Utterance `index` as float32 (time,) in [-1, 1]."""
        return (
            self.audio[self.offsets[index] : self.offsets[index + 1]].astype(np.float32) / 32768.0
        )

    @property
    def voices(self) -> set[str]:
        """Voice variants (speakers) heard in this split."""
        return {item["voice_variant"] for item in self.items}

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def dataset(self, transform=None):
        """A torch Dataset over this split (see `course_utils.data.datasets.SpeechDataset`)."""
        from .datasets import SpeechDataset

        return SpeechDataset(self, transform=transform)


@dataclass
class Corpus:
    """A generated corpus: its config and its three splits."""

    config: CorpusConfig
    splits: dict[str, CorpusSplit]
    path: Path | None = None  # the cache file it was loaded from or saved to

    def __getitem__(self, split: str) -> CorpusSplit:
        if split not in self.splits:
            raise KeyError(f"no split {split!r}; expected one of {list(self.splits)}")
        return self.splits[split]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    def summary(self) -> list[dict]:
        """One row per split: utterances, voices, hours; for a table in a lesson."""
        return [
            {
                "split": split.name,
                "utterances": len(split),
                "voices": len(split.voices),
                "accents": len({item["voice_accent"] for item in split.items}),
                "minutes": round(split.seconds / 60, 1),
            }
            for split in self.splits.values()
        ]


def _save(corpus: Corpus, path: Path) -> None:
    meta = {
        "config_key": corpus.config.key(),
        "items": {name: split.items for name, split in corpus.splits.items()},
    }
    arrays = {}
    for name, split in corpus.splits.items():
        arrays[f"{name}_audio"] = split.audio
        arrays[f"{name}_offsets"] = split.offsets
    save_npz(path, meta, arrays)


def _load(config: CorpusConfig, path: Path) -> Corpus:
    meta, arrays = load_npz(path)
    if meta["config_key"] != config.key():
        raise ValueError(f"{path} holds another corpus (key {meta['config_key']})")
    splits = {
        name: CorpusSplit(
            name=name,
            sample_rate=config.sample_rate,
            audio=arrays[f"{name}_audio"],
            offsets=arrays[f"{name}_offsets"],
            items=meta["items"][name],
        )
        for name in SPLITS
    }
    return Corpus(config, splits, path)


def cache_path(config: CorpusConfig, cache_dir: str | Path | None = None) -> Path:
    """Where `config`'s corpus is cached: ``<data>/corpus/<task>-<key>.npz``."""
    folder = Path(cache_dir) if cache_dir is not None else data_dir() / "corpus"
    return folder / f"{config.task}-{config.key()}.npz"


def build_corpus(
    config: CorpusConfig | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    progress: bool = True,
) -> Corpus:
    """Generate the corpus for `config`, or load it from the cache.

    Args:
        config: what to generate (default: ``CorpusConfig()``, digits and commands).
        cache_dir: folder of cache files (default ``data/corpus`` under `data_dir()`).
        use_cache: read and write the cache; False always regenerates and writes nothing.
        workers: processes for synthesis (default: all cores, at most 8). The corpus is the
            same whatever the number.
        progress: show a tqdm progress bar while generating.

    Returns:
        a `Corpus` with splits "train", "validation" and "test", disjoint by voice.

    Example:
        >>> cfg = CorpusConfig(words=("yes", "no"), clips_per_word=(2, 1, 1))
        >>> corpus = build_corpus(cfg, use_cache=False, progress=False)
        >>> len(corpus["train"]), corpus.labels
        (4, ('yes', 'no'))
    """
    config = config or CorpusConfig()
    path = cache_path(config, cache_dir) if use_cache else None

    def build() -> Corpus:
        splits = {name: _generate_split(config, name, workers, progress) for name in SPLITS}
        return Corpus(config, splits)

    def save(corpus: Corpus, path: Path) -> None:
        _save(corpus, path)
        corpus.path = path

    return load_or_build(path, lambda path: _load(config, path), build, save)


def _generate_split(
    config: CorpusConfig, split: str, workers: int | None, progress: bool
) -> CorpusSplit:
    from tqdm.auto import tqdm

    n = len(_texts(config, split))
    chunks = [(start, min(start + CHUNK_SIZE, n)) for start in range(0, n, CHUNK_SIZE)]
    workers = min(workers or min(os.cpu_count() or 1, 8), max(len(chunks), 1))
    bar = tqdm(total=n, desc=f"{config.task}/{split}", unit="utt", disable=not progress)
    results: list[tuple[np.ndarray, dict]] = []
    if workers <= 1:
        for start, stop in chunks:
            results += _render_chunk(config, split, start, stop)
            bar.update(stop - start)
    else:
        # fork is fast and safe here (workers use NumPy and eSpeak only); spawn elsewhere.
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_render_chunk, config, split, a, b) for a, b in chunks]
            for future, (start, stop) in zip(futures, chunks, strict=True):
                results += future.result()
                bar.update(stop - start)
    bar.close()
    lengths = [len(audio) for audio, _ in results]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    audio = np.concatenate([a for a, _ in results]) if results else np.zeros(0, np.int16)
    return CorpusSplit(split, config.sample_rate, audio, offsets, [m for _, m in results])
