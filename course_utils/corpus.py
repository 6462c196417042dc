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

import hashlib
import json
import multiprocessing
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from . import tts
from .augment import AugmentConfig, augment, pad_or_crop
from .checks import check_sample_rate
from .files import atomic_write
from .profile import Profile
from .runtime import data_dir

__all__ = [
    "DIGITS",
    "COMMANDS",
    "UNKNOWN_WORDS",
    "UNKNOWN_LABEL",
    "SPLITS",
    "CorpusConfig",
    "Corpus",
    "CorpusSplit",
    "build_corpus",
    "voice_splits",
    "words_config",
    "digits_config",
    "sentences_config",
]

CORPUS_VERSION = 1  # bump when the generation code changes what a config produces
SPLITS = ("train", "validation", "test")
CHUNK_SIZE = 64  # utterances per synthesis batch: fixed, so results do not depend on workers
VOICE_SPLIT_SEED = 20_240_601  # fixed, not the corpus seed: every corpus holds out the same voices

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
COMMANDS = (
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "forward",
    "backward", "follow", "learn", "open", "close", "play", "pause", "start", "cancel",
    "louder", "quieter", "lights", "music",
)  # fmt: skip
# Words outside the vocabulary, for an "unknown word" class (lesson 06).
UNKNOWN_WORDS = (
    "bed", "bird", "cat", "dog", "happy", "house", "tree", "wow", "apple", "river",
    "table", "window", "yellow", "garden", "pencil", "rocket", "orange", "monkey", "silver",
    "thunder",
)  # fmt: skip
UNKNOWN_LABEL = "_unknown_"

# Grammar of the command sentences: templates and the values of their slots.
_ROOMS = ("kitchen", "bedroom", "living room", "office", "garden", "hallway")
_DEVICES = ("lights", "heating", "radio", "fan", "television", "music")
_SENTENCE_TEMPLATES = (
    "turn on the {room} {device}",
    "turn off the {room} {device}",
    "set the volume to {digit}",
    "move {direction} {digit} steps",
    "open the {room} window",
    "close the {room} door",
    "play some music in the {room}",
    "stop the {device}",
)
_DIRECTIONS = ("up", "down", "left", "right", "forward", "backward")


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
    accents: tuple[str, ...] = tts.ACCENTS  # eSpeak accents to draw from
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
        unknown = set(self.accents) - set(tts.ACCENTS)
        if unknown:
            raise ValueError(f"unknown accents {sorted(unknown)}; expected some of {tts.ACCENTS}")
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
        blob = json.dumps(settings, sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


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
    variants = list(tts.list_variants())
    order = np.random.default_rng(VOICE_SPLIT_SEED).permutation(len(variants))
    shuffled = [variants[i] for i in order]
    n_train = round(fractions[0] * len(variants))
    n_val = round(fractions[1] * len(variants))
    return {
        "train": tuple(sorted(shuffled[:n_train])),
        "validation": tuple(sorted(shuffled[n_train : n_train + n_val])),
        "test": tuple(sorted(shuffled[n_train + n_val :])),
    }


# ---------------------------------------------------------------------------- generation


def _texts(config: CorpusConfig, split: str) -> list[tuple[str, int]]:
    """(text, label) for every utterance of `split`, in a fixed order."""
    index = SPLITS.index(split)
    rng = np.random.default_rng([config.seed, index, 1])
    if config.task == "words":
        n = config.clips_per_word[index]
        texts = [(word, label) for label, word in enumerate(config.words) for _ in range(n)]
        if config.unknown_words:
            picks = rng.choice(len(config.unknown_words), size=n)
            texts += [(config.unknown_words[i], len(config.words)) for i in picks]
        return texts
    n = config.utterances[index]
    if config.task == "digits":
        lo, hi = config.digits_per_string
        lengths = rng.integers(lo, hi + 1, size=n)
        return [(" ".join(DIGITS[d] for d in rng.integers(0, 10, size=k)), -1) for k in lengths]
    sentences = []
    for _ in range(n):
        template = _SENTENCE_TEMPLATES[rng.integers(len(_SENTENCE_TEMPLATES))]
        sentences.append(
            (
                template.format(
                    room=_ROOMS[rng.integers(len(_ROOMS))],
                    device=_DEVICES[rng.integers(len(_DEVICES))],
                    digit=DIGITS[rng.integers(1, 10)],
                    direction=_DIRECTIONS[rng.integers(len(_DIRECTIONS))],
                ),
                -1,
            )
        )
    return sentences


def _trim_silence(
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
        tts.Voice(
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
    speech = tts.synthesize_batch(
        [(text, voice) for (text, _), voice in zip(texts, voices, strict=True)],
        sample_rate=config.sample_rate,
        seed=config.seed * 1_000_003 + start,
    )
    rendered = []
    for (text, label), voice, wave, rng in zip(texts, voices, speech, rngs, strict=True):
        wave = _trim_silence(wave, config.sample_rate)
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
        """A torch Dataset over this split (see `course_utils.datasets.SpeechDataset`)."""
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
    # Metadata travels as JSON bytes inside the .npz, so loading needs no pickle.
    meta = {
        "config_key": corpus.config.key(),
        "items": {name: split.items for name, split in corpus.splits.items()},
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for name, split in corpus.splits.items():
        arrays[f"{name}_audio"] = split.audio
        arrays[f"{name}_offsets"] = split.offsets
    with atomic_write(path, overwrite=True) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def _load(config: CorpusConfig, path: Path) -> Corpus:
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes())
        if meta["config_key"] != config.key():
            raise ValueError(f"{path} holds another corpus (key {meta['config_key']})")
        splits = {
            name: CorpusSplit(
                name=name,
                sample_rate=config.sample_rate,
                audio=npz[f"{name}_audio"],
                offsets=npz[f"{name}_offsets"],
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
    path = cache_path(config, cache_dir)
    if use_cache and path.exists():
        try:
            return _load(config, path)
        except Exception as error:  # a damaged cache file is ours to replace
            warnings.warn(
                f"corpus cache {path} is unreadable ({error}); rebuilding it", stacklevel=2
            )
    splits = {name: _generate_split(config, name, workers, progress) for name in SPLITS}
    corpus = Corpus(config, splits)
    if use_cache:
        _save(corpus, path)
        corpus.path = path
    return corpus


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
