"""Lesson 13's data: spoken sentences whose every word has a known place in time.

An utterance is a text spoken word by word by one eSpeak voice (accent, speaker, rate,
pitch), the words joined by short pauses, with silence before and after, over coloured noise.
Because each word is synthesised on its own, its span in the waveform is known exactly:
the truth against which the lesson checks where cross-attention looks (the models never see
it). Two kinds of text:

- ``"commands"``: sentences of the corpus grammar ("turn on the kitchen lights", lessons 08
  and 09); a query is one of its slot values (`QUERIES`: rooms, devices, digits, directions);
- ``"word lists"``: three to five distinct query words in a random order (no grammar to lean
  on), for the task "is word A said before word B?".

Voices are split as the corpus splits them (`voice_splits`): "test" utterances are spoken by
voices never heard in training. Generation takes about 15 ms an utterance; an
`UtteranceSet` keeps the audio as int16 in one array, cached in ``data/audiotext/`` (a
file per set, named by a hash of everything that makes it, written atomically).

Shapes: S samples.

Notebook: 13_multimodal_audio_text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..augment import NOISE_COLORS, colored_noise, snr_gain
from ..core import check_integer, check_sample_rate, data_dir
from ..core.cache import config_key, load_npz, load_or_build, save_npz
from ..data import DEVICES, DIGITS, DIRECTIONS, ROOMS, command_sentences, espeak, voice_splits
from ..data.corpus import trim_silence

__all__ = [
    "KINDS",
    "QUERIES",
    "SINGLE_WORDS",
    "SLOTS",
    "AudioTextConfig",
    "Utterance",
    "UtteranceSet",
    "find_span",
    "make_utterance",
    "make_utterances",
]

KINDS = ("commands", "word lists")
QUERIES = ROOMS + DEVICES + DIGITS[1:] + DIRECTIONS  # 27 slot values; "living room" is two words
SLOTS = {"room": ROOMS, "device": DEVICES, "digit": DIGITS[1:], "direction": DIRECTIONS}
SINGLE_WORDS = tuple(q for q in QUERIES if " " not in q)  # the 26 words of the word lists
Span = tuple[float, float]  # (start_s, end_s)


@dataclass(frozen=True)
class AudioTextConfig:
    """How utterances sound. Equal configs and seeds give identical utterances."""

    sample_rate: int = 16_000  # Hz
    gap_seconds: tuple[float, float] = (0.03, 0.25)  # pause between two words (uniform)
    edge_seconds: tuple[float, float] = (0.1, 0.5)  # silence before the first, after the last
    snr_db_range: tuple[float, float] = (10.0, 30.0)  # speech power / background noise
    noise_colors: tuple[str, ...] = ("white", "pink", "brown")
    rate_range: tuple[int, int] = (130, 220)  # words per minute
    pitch_range: tuple[int, int] = (15, 85)  # eSpeak base pitch, 0..99
    intonation_range: tuple[int, int] = (10, 90)  # eSpeak pitch range, 0..99
    words_per_list: tuple[int, int] = (3, 5)  # "word lists": words per utterance, inclusive
    seed: int = 0

    def __post_init__(self) -> None:
        check_sample_rate(self.sample_rate)
        for name in ("gap_seconds", "edge_seconds", "snr_db_range", "words_per_list"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(low, high)}")
        if min(self.gap_seconds + self.edge_seconds) < 0:
            raise ValueError("gap_seconds and edge_seconds must be >= 0")
        if not 2 <= self.words_per_list[0] <= self.words_per_list[1] <= len(SINGLE_WORDS):
            raise ValueError(
                f"words_per_list must lie in [2, {len(SINGLE_WORDS)}], got {self.words_per_list}"
            )
        if not self.noise_colors or any(c not in NOISE_COLORS for c in self.noise_colors):
            raise ValueError(f"noise_colors must be from {list(NOISE_COLORS)}")


@dataclass(frozen=True)
class Utterance:
    """One spoken text and where each of its words lies."""

    waveform: np.ndarray  # float32 (S,)
    text: str  # the transcript, words separated by single spaces
    spans: tuple[Span, ...]  # one (start_s, end_s) per word of the text
    voice: str  # the eSpeak voice's name
    sample_rate: int = 16_000

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.split())

    def span_of(self, query: str) -> Span | None:
        """Where `query` (one or more words) is said, or None when it is not."""
        return find_span(self.words, self.spans, query)


def find_span(words: tuple[str, ...], spans: tuple[Span, ...], query: str) -> Span | None:
    """The span of the first occurrence of `query`'s words in `words`, else None.

    Example:
        >>> find_span(("the", "living", "room"), ((0, 1), (1, 2), (2, 3)), "living room")
        (1, 3)
    """
    target = tuple(query.split())
    for i in range(len(words) - len(target) + 1):
        if words[i : i + len(target)] == target:
            return spans[i][0], spans[i + len(target) - 1][1]
    return None


def _texts(kind: str, count: int, rng: np.random.Generator, config: AudioTextConfig) -> list:
    if kind == "commands":
        return command_sentences(count, rng)
    lo, hi = config.words_per_list
    sizes = rng.integers(lo, hi + 1, size=count)
    picks = [rng.choice(len(SINGLE_WORDS), k, replace=False) for k in sizes]
    return [" ".join(SINGLE_WORDS[i] for i in pick) for pick in picks]


# eSpeak NG (espeakng-loader 0.2.4) crashes, with a segmentation fault that kills the process,
# speaking some words with this variant at a wide intonation range ("backward" at pitch 18,
# range 89). No other variant did, over five pitches, five ranges and four words. A draw of it
# takes the next variant; it is a training voice, so the test sets are unchanged.
UNSTABLE_VARIANTS = ("Demonic",)


def _voice(split: str, rng: np.random.Generator, config: AudioTextConfig) -> espeak.Voice:
    variants = voice_splits()[split]
    accent = espeak.ACCENTS[rng.integers(len(espeak.ACCENTS))]  # drawn in this order
    index = int(rng.integers(len(variants)))
    while variants[index] in UNSTABLE_VARIANTS:
        index = (index + 1) % len(variants)
    return espeak.Voice(
        accent=accent,
        variant=variants[index],
        rate=int(rng.integers(config.rate_range[0], config.rate_range[1] + 1)),
        pitch=int(rng.integers(config.pitch_range[0], config.pitch_range[1] + 1)),
        pitch_range=int(rng.integers(config.intonation_range[0], config.intonation_range[1] + 1)),
    )


def make_utterance(
    text: str, voice: espeak.Voice, rng: np.random.Generator, config: AudioTextConfig
) -> Utterance:
    """Speak `text` word by word with `voice`: pauses between words, silence at both ends,
    background noise at an SNR drawn from the config; peaks above 0.99 are scaled down.

    Example:
        >>> u = make_utterance("stop the fan", espeak.Voice(), np.random.default_rng(0),
        ...                    AudioTextConfig())
        >>> len(u.spans), u.spans[0][0] < u.spans[1][0] < u.spans[2][0]
        (3, True)
    """
    sr = config.sample_rate
    words = text.split()
    seed = int(rng.integers(2**31))
    clips = [
        trim_silence(w, sr) for w in espeak.synthesize_batch([(w, voice) for w in words], sr, seed)
    ]
    pieces, spans = [np.zeros(round(rng.uniform(*config.edge_seconds) * sr), np.float32)], []
    cursor = pieces[0].size
    for i, clip in enumerate(clips):
        if i:
            gap = np.zeros(round(rng.uniform(*config.gap_seconds) * sr), np.float32)
            pieces.append(gap)
            cursor += gap.size
        pieces.append(clip)
        spans.append((round(cursor / sr, 4), round((cursor + clip.size) / sr, 4)))
        cursor += clip.size
    pieces.append(np.zeros(round(rng.uniform(*config.edge_seconds) * sr), np.float32))
    speech = np.concatenate(pieces)
    power = float(np.mean(np.square(np.concatenate(clips), dtype=np.float64)))
    color = config.noise_colors[int(rng.integers(len(config.noise_colors)))]
    noise = colored_noise(speech.size, color, rng)  # unit power
    gain = snr_gain(power, 1.0, rng.uniform(*config.snr_db_range), scale="noise")
    audio = speech + np.float32(gain) * noise
    peak = float(np.max(np.abs(audio)))
    if peak > 0.99:
        audio *= np.float32(0.99 / peak)
    return Utterance(audio.astype(np.float32), " ".join(words), tuple(spans), voice.name, sr)


@dataclass
class UtteranceSet:
    """Many utterances, their audio stored once as int16 (0.5 MB for 10 s)."""

    texts: list[str]
    spans: list[tuple[Span, ...]]
    voices: list[str]
    audio: np.ndarray  # int16, every utterance one after another
    offsets: np.ndarray  # int64 (N + 1,): utterance i is audio[offsets[i]:offsets[i + 1]]
    sample_rate: int = 16_000
    kind: str = "commands"
    split: str = "train"
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def waveform(self, i: int) -> np.ndarray:
        """Utterance `i`'s audio: float32 (S,) in [-1, 1]."""
        return self.audio[self.offsets[i] : self.offsets[i + 1]].astype(np.float32) / 32767

    def __getitem__(self, i: int) -> Utterance:
        return Utterance(
            self.waveform(i), self.texts[i], self.spans[i], self.voices[i], self.sample_rate
        )

    @property
    def seconds(self) -> float:
        return self.audio.size / self.sample_rate

    def __add__(self, other: UtteranceSet) -> UtteranceSet:
        """Both sets in one (the first's utterances first)."""
        if other.sample_rate != self.sample_rate or other.split != self.split:
            raise ValueError("only sets of one split and one sample rate can be joined")
        kind = self.kind if self.kind == other.kind else "mixed"
        offsets = np.concatenate([self.offsets, self.offsets[-1] + other.offsets[1:]])
        return UtteranceSet(
            self.texts + other.texts,
            self.spans + other.spans,
            self.voices + other.voices,
            np.concatenate([self.audio, other.audio]),
            offsets,
            self.sample_rate,
            kind,
            self.split,
        )


CACHE_VERSION = 2  # bump when the generation code changes what a config produces


def cache_path(kind: str, split: str, count: int, config: AudioTextConfig) -> Path:
    """Where a set is cached: ``<data>/audiotext/<kind>-<split>-<count>-<key>.npz``."""
    key = config_key(
        {
            "kind": kind,
            "split": split,
            "count": count,
            "config": asdict(config),
            "version": CACHE_VERSION,
        }
    )
    return data_dir() / "audiotext" / f"{kind.replace(' ', '_')}-{split}-{count}-{key}.npz"


def _generate(kind: str, split: str, count: int, config: AudioTextConfig) -> UtteranceSet:
    splits = tuple(voice_splits())
    tag = [config.seed, KINDS.index(kind), splits.index(split), 13]
    texts = _texts(kind, count, np.random.default_rng(tag + [0]), config)
    utterances = []
    for i, text in enumerate(texts):
        rng = np.random.default_rng(tag + [1, i])
        utterances.append(make_utterance(text, _voice(split, rng, config), rng, config))
    waves = [np.round(u.waveform * 32767).astype(np.int16) for u in utterances]
    offsets = np.concatenate([[0], np.cumsum([w.size for w in waves])]).astype(np.int64)
    return UtteranceSet(
        [u.text for u in utterances],
        [u.spans for u in utterances],
        [u.voice for u in utterances],
        np.concatenate(waves),
        offsets,
        config.sample_rate,
        kind,
        split,
    )


def _save(utterances: UtteranceSet, path: Path) -> None:
    meta = {
        "texts": utterances.texts,
        "spans": utterances.spans,
        "voices": utterances.voices,
        "sample_rate": utterances.sample_rate,
        "kind": utterances.kind,
        "split": utterances.split,
    }
    save_npz(path, meta, {"audio": utterances.audio, "offsets": utterances.offsets})


def _load(path: Path) -> UtteranceSet:
    meta, arrays = load_npz(path)
    spans = [tuple(tuple(span) for span in row) for row in meta["spans"]]
    return UtteranceSet(
        meta["texts"],
        spans,
        meta["voices"],
        arrays["audio"],
        arrays["offsets"],
        meta["sample_rate"],
        meta["kind"],
        meta["split"],
    )


@lru_cache(maxsize=8)
def make_utterances(
    kind: str,
    split: str,
    count: int,
    config: AudioTextConfig = AudioTextConfig(),
    use_cache: bool = True,
) -> UtteranceSet:
    """`count` utterances of `kind` ("commands" or "word lists") spoken by the voices of
    `split` ("train", "validation" or "test"; test voices are never heard in training).

    The same arguments always give the same set, generated once (about 15 ms an utterance)
    and cached on disk (`cache_path`; ``use_cache=False`` neither reads nor writes it) and in
    memory for the process: do not modify it.

    Example:
        >>> test = make_utterances("word lists", "test", 2, use_cache=False)
        >>> len(test), len(test[0].spans) == len(test[0].words)
        (2, True)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    splits = voice_splits()
    if split not in splits:
        raise ValueError(f"split must be one of {tuple(splits)}, got {split!r}")
    count = check_integer(count, "count", minimum=1)
    path = cache_path(kind, split, count, config) if use_cache else None
    return load_or_build(path, _load, lambda: _generate(kind, split, count, config), _save)
