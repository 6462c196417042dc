"""Lesson 12's long recordings: spoken words in a stream, some of them keywords.

A recording is minutes of coloured background noise (white, pink or brown, at a varied
level) over which isolated words from the course corpus follow one another, separated by
pauses of 0.2-3 s. A third of the words are KEYWORDS (eight commands: "yes", "no", "up",
"down", "left", "right", "stop", "go"); the others are fillers (digits, the other commands,
words outside the vocabulary). Now and then one of lesson 07's synthetic sounds (a tone, a
chirp, clicks, a noise burst) plays in a pause, as a distractor. The task: find and locate
every keyword, as events (onset, offset, keyword).

- `LongformConfig`: what is generated (frozen; equal configs give identical recordings);
- `load_words`: one split's words, cut at their speech boundaries (the corpus's
  ``speech_start``/``speech_end``, as lesson 07's scenes cut them), from the cached corpus;
- `make_recording`: one recording of any length from those words and a numpy generator;
- `frame_targets`: the class of every frame (0 = no keyword, k = keywords[k - 1]);
- `TrainingCrops`: fresh random crops every step, as log-mel features and their events;
- `test_recordings`: fixed recordings (voices never heard in training) at a given length.

Splits are disjoint by voice: training words come from the corpus's train voices, test
words from its test voices.

Shapes: B batch, S samples, M mel bands, F frames.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from ..augment import NOISE_COLORS, AugmentConfig, colored_noise, snr_gain
from ..core import check_integer, check_number, check_sample_rate
from ..data import COMMANDS, DIGITS, UNKNOWN_WORDS, CorpusConfig, build_corpus, events_to_frames
from ..data.sounds import synth_event

__all__ = [
    "DISTRACTORS",
    "FILLERS",
    "KEYWORDS",
    "LongformConfig",
    "Recording",
    "TrainingCrops",
    "WordClips",
    "frame_targets",
    "load_words",
    "make_recording",
    "test_recordings",
]

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "stop", "go")
FILLERS = DIGITS + tuple(c for c in COMMANDS if c not in KEYWORDS) + UNKNOWN_WORDS
DISTRACTORS = ("tone", "chirp", "clicks", "noise_burst")  # lesson 07's synthetic events
Event = tuple[float, float, str]  # (onset_s, offset_s, keyword)


@dataclass(frozen=True)
class LongformConfig:
    """What the recordings hold. Equal configs give byte-identical recordings."""

    keywords: tuple[str, ...] = KEYWORDS  # the words to find; class k is keywords[k - 1]
    fillers: tuple[str, ...] = FILLERS  # words to ignore (46: digits, commands, unknown words)
    sample_rate: int = 16_000  # Hz
    keyword_share: float = 0.35  # chance that a word is a keyword
    gap_seconds: tuple[float, float] = (0.2, 3.0)  # pause after each word (uniform)
    snr_db_range: tuple[float, float] = (0.0, 20.0)  # word power (over the word) / background
    background_db_range: tuple[float, float] = (-45.0, -25.0)  # background RMS, dBFS
    noise_colors: tuple[str, ...] = ("white", "pink", "brown")  # one per recording
    distractors_per_minute: float = 6.0  # synthetic sounds, placed in pauses
    clips_per_word: tuple[int, int] = (60, 12)  # corpus clips per word: train, test voices
    word_augment: AugmentConfig = field(  # corpus augmentation; noise and gain are ours
        default_factory=lambda: AugmentConfig(noise_prob=0.0, gain_prob=0.0)
    )
    seed: int = 0  # everything random derives from this

    def __post_init__(self) -> None:
        check_sample_rate(self.sample_rate)
        if not self.keywords or set(self.keywords) & set(self.fillers):
            raise ValueError("keywords must be non-empty and share no word with fillers")
        if len(set(self.keywords)) != len(self.keywords):
            raise ValueError(f"keywords must be distinct, got {self.keywords}")
        if not 0.0 < self.keyword_share <= 1.0 or (not self.fillers and self.keyword_share < 1):
            raise ValueError(f"keyword_share must lie in (0, 1], got {self.keyword_share}")
        for name in ("gap_seconds", "snr_db_range", "background_db_range"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(low, high)}")
        if self.gap_seconds[0] < 0 or self.background_db_range[1] > -6:
            raise ValueError("need gaps >= 0 s and a background below -6 dBFS")
        if not self.noise_colors or any(c not in NOISE_COLORS for c in self.noise_colors):
            raise ValueError(f"noise_colors must be from {list(NOISE_COLORS)}")
        if self.distractors_per_minute < 0 or min(self.clips_per_word) < 1:
            raise ValueError("need distractors_per_minute >= 0 and clips_per_word >= 1")

    def corpus_config(self, split: str) -> CorpusConfig:
        """The corpus of one split ("train" or "test"): only that split is generated, so
        the test words build in seconds without the training ones."""
        sizes = {"train": (self.clips_per_word[0], 0, 0), "test": (0, 0, self.clips_per_word[1])}
        if split not in sizes:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return CorpusConfig(
            task="words",
            words=self.keywords + self.fillers,
            clips_per_word=sizes[split],
            sample_rate=self.sample_rate,
            augment=self.word_augment,
            seed=self.seed,
        )


@dataclass
class WordClips:
    """One split's words: speech only (cut at its boundaries), grouped by word."""

    split: str  # "train" or "test"
    clips: dict[str, list[np.ndarray]]  # word -> float32 (time,) clips
    voices: dict[str, list[str]]  # word -> the voice variant of each clip

    @property
    def all_voices(self) -> set[str]:
        return {v for voices in self.voices.values() for v in voices}


@lru_cache(maxsize=4)
def load_words(config: LongformConfig, split: str, progress: bool = False) -> WordClips:
    """The words of `split` ("train": training voices; "test": voices never heard), each
    cut at ``[speech_start, speech_end]`` as lesson 07's scenes cut them.

    The corpus is generated once and cached in ``data/corpus`` (a few seconds); the cut
    clips are kept in memory for the process and shared by every caller: do not modify them.
    """
    corpus = build_corpus(config.corpus_config(split), progress=progress)
    part = corpus["test" if split == "test" else "train"]
    sr = config.sample_rate
    clips: dict[str, list[np.ndarray]] = {w: [] for w in config.keywords + config.fillers}
    voices: dict[str, list[str]] = {w: [] for w in clips}
    for i, item in enumerate(part.items):
        wave = part.waveform(i)
        start = round(item["speech_start"] * sr)
        end = max(round(item["speech_end"] * sr), start + 1)
        clips[item["text"]].append(wave[start:end])
        voices[item["text"]].append(item["voice_variant"])
    return WordClips(split, clips, voices)


@dataclass
class Recording:
    """One long recording and what it holds."""

    waveform: np.ndarray  # float32 (time,) in [-1, 1]
    events: list[Event]  # keywords only, (onset_s, offset_s, keyword), sorted by onset
    sample_rate: int  # Hz
    words: list[tuple[float, float, str]]  # every word, keywords and fillers
    distractors: list[tuple[float, float, str]]  # the synthetic sounds

    @property
    def seconds(self) -> float:
        return self.waveform.size / self.sample_rate


def _free_spot(length: int, busy: list[tuple[int, int]], total: int, rng) -> int | None:
    """An onset where `length` samples overlap none of the `busy` spans (50 tries)."""
    if length >= total:
        return None
    for _ in range(50):
        onset = int(rng.integers(0, total - length))
        if all(onset + length <= a or b <= onset for a, b in busy):
            return onset
    return None


def make_recording(
    words: WordClips, seconds: float, rng: np.random.Generator, config: LongformConfig
) -> Recording:
    """A recording of `seconds`: words one after another with pauses, over noise.

    The first word starts after a pause drawn like the others; the last word is the last
    that fits whole. Each word is scaled to an SNR over the background (its power over its
    own span); distractors go in pauses. A peak above 0.99 is scaled down, never clipped.

    Args:
        words: the split's words (`load_words`).
        seconds: length of the recording, at least 1 s.
        rng: the only source of randomness (the same state gives the same recording).
        config: the recipe of the recordings.

    Returns:
        a `Recording`: float32 waveform (seconds * sample_rate,) and its keyword events.

    Example:
        >>> cfg = LongformConfig(clips_per_word=(1, 1))
        >>> fake = WordClips("test", {w: [np.ones(4000, np.float32)]
        ...                   for w in cfg.keywords + cfg.fillers}, {})
        >>> rec = make_recording(fake, 10.0, np.random.default_rng(0), cfg)
        >>> rec.waveform.shape, all(0 <= a < b <= 10 for a, b, _ in rec.events)
        ((160000,), True)

    Notebook: 12_long_audio_efficient_attention.
    """
    seconds = check_number(seconds, "seconds")
    if seconds < 1:
        raise ValueError(f"seconds must be at least 1, got {seconds}")
    sr, total = config.sample_rate, round(seconds * config.sample_rate)
    color = str(config.noise_colors[int(rng.integers(len(config.noise_colors)))])
    background = colored_noise(total, color, rng)  # unit RMS
    background *= np.float32(10 ** (rng.uniform(*config.background_db_range) / 20))
    noise_power = float(np.mean(np.square(background, dtype=np.float64)))
    audio = background
    placed, busy = [], []
    cursor = round(rng.uniform(*config.gap_seconds) * sr)
    while True:
        pool = config.keywords if rng.random() < config.keyword_share else config.fillers
        word = str(pool[int(rng.integers(len(pool)))])
        candidates = words.clips[word]
        if not candidates:
            raise ValueError(f"the {words.split} words hold no clip of {word!r}")
        clip = candidates[int(rng.integers(len(candidates)))]
        snr_db = rng.uniform(*config.snr_db_range)
        if cursor + clip.size > total:
            break
        power = max(float(np.mean(np.square(clip, dtype=np.float64))), 1e-12)
        gain = snr_gain(power, noise_power, snr_db, scale="signal")  # the background stays
        audio[cursor : cursor + clip.size] += np.float32(gain) * clip
        placed.append((cursor, cursor + clip.size, word))
        busy.append((cursor, cursor + clip.size))
        cursor += clip.size + round(rng.uniform(*config.gap_seconds) * sr)
    distractors = []
    for _ in range(int(rng.poisson(config.distractors_per_minute * seconds / 60))):
        label = DISTRACTORS[int(rng.integers(len(DISTRACTORS)))]
        sound = synth_event(label, rng, sr)
        onset = _free_spot(sound.size, busy, total, rng)
        snr_db = rng.uniform(*config.snr_db_range)
        if onset is None:
            continue
        power = max(float(np.mean(np.square(sound, dtype=np.float64))), 1e-12)
        gain = snr_gain(power, noise_power, snr_db, scale="signal")
        audio[onset : onset + sound.size] += np.float32(gain) * sound
        busy.append((onset, onset + sound.size))
        distractors.append((round(onset / sr, 6), round((onset + sound.size) / sr, 6), label))
    peak = float(np.max(np.abs(audio)))
    if peak > 0.99:
        audio *= np.float32(0.99 / peak)
    spans = [(round(a / sr, 6), round(b / sr, 6), w) for a, b, w in placed]
    events = [span for span in spans if span[2] in config.keywords]
    return Recording(audio, events, sr, spans, sorted(distractors))


def frame_targets(
    events, num_frames: int, hop_seconds: float, keywords: tuple[str, ...]
) -> torch.Tensor:
    """The class of every frame: k when its centre (t * hop_seconds) lies in an event of
    keywords[k - 1], else 0 (events of a recording never overlap).

    Returns:
        LongTensor (num_frames,).

    Example:
        >>> frame_targets([(0.1, 0.3, "no")], 5, 0.1, ("yes", "no")).tolist()
        [0, 2, 2, 0, 0]

    Notebook: 12_long_audio_efficient_attention.
    """
    roll = events_to_frames(events, keywords, num_frames, hop_seconds)  # (frames, K)
    classes = np.where(roll.any(axis=1), roll.argmax(axis=1) + 1, 0)
    return torch.from_numpy(classes.astype(np.int64))


class TrainingCrops:
    """`steps` batches of `batch_size` fresh recordings of `crop_seconds` each.

    Each crop is generated anew from the training words (numpy, a few ms a second of
    audio), so the model never sees the same crop twice. Batch `i` depends only on
    (`seed`, `i`): a run can be resumed or reproduced step for step.

    Args:
        words: the training words (`load_words(config, "train")`).
        config: the recordings' recipe.
        frontend: waveform (B, S) -> features (B, M, F), e.g. a detector's `features`.
        crop_seconds: length of each crop.
        batch_size: crops per batch.
        steps: batches per iteration.
        seed: the draws' seed.

    Yields:
        (features (B, M, F) float32, events: one list of (onset_s, offset_s, keyword) per crop).

    Notebook: 12_long_audio_efficient_attention.
    """

    def __init__(
        self,
        words: WordClips,
        config: LongformConfig,
        frontend,
        crop_seconds: float,
        batch_size: int,
        steps: int,
        seed: int = 0,
    ):
        self.words, self.config, self.frontend = words, config, frontend
        self.crop_seconds = check_number(crop_seconds, "crop_seconds")
        self.batch_size = check_integer(batch_size, "batch_size", minimum=1)
        self.steps = check_integer(steps, "steps", minimum=1)
        self.seed = seed

    def __len__(self) -> int:
        return self.steps

    def batch(self, step: int) -> tuple[torch.Tensor, list[list[Event]]]:
        """Batch number `step` (the same every time it is asked for)."""
        rng = np.random.default_rng([self.seed, step, 12])
        recordings = [
            make_recording(self.words, self.crop_seconds, rng, self.config)
            for _ in range(self.batch_size)
        ]
        waves = torch.from_numpy(np.stack([r.waveform for r in recordings]))  # (B, S)
        with torch.no_grad():
            features = self.frontend(waves)  # (B, M, F)
        return features, [r.events for r in recordings]

    def __iter__(self):
        for step in range(self.steps):
            yield self.batch(step)


def test_recordings(config: LongformConfig, seconds: float, count: int) -> list[Recording]:
    """`count` fixed recordings of `seconds` each from the test voices (never heard in
    training); the same config, length and count always give the same recordings."""
    count = check_integer(count, "count", minimum=1)
    words = load_words(config, "test")
    rng = np.random.default_rng([config.seed, round(1000 * seconds), 1234])
    return [make_recording(words, seconds, rng, config) for _ in range(count)]


test_recordings.__test__ = False  # a data function, not a test: pytest must not collect it
