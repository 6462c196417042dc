"""The "where is the event" task: one short sound hidden at a random place in noise.

Lessons 02 and 03 teach attention pooling, a model that learns *where to listen*. To check
that it listens at the right place we need clips where the answer is known: a few seconds of
coloured noise (white, pink or brown, at a varied level) with ONE short event inside, a spoken
command word taken from the course corpus (the speech segment ``[speech_start, speech_end]``
of a word clip) or, for quick experiments, a tone burst. The label is which word (or tone).
Because the event's samples are known, every clip comes with a frame mask marking the
spectrogram frames inside the event, so a lesson can measure the attention mass on it.

Words come from the corpus splits, which are disjoint by voice: test clips hold voices no
model heard in training. Everything is numpy and deterministic: the same config gives the
same clips, byte for byte. Clips may also have variable lengths (lesson 03's padding masks).

Notebook: 02_additive_attention (the task) and 03_dot_product_attention (variable lengths).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..augment import NOISE_COLORS, AugmentConfig, colored_noise, snr_gain
from ..core import Profile, check_float_waveform, check_integer, check_number, check_sample_rate
from .corpus import build_corpus
from .corpus_config import SPLITS, CorpusConfig

__all__ = [
    "EVENT_WORDS",
    "EventClips",
    "EventTaskConfig",
    "build_event_task",
    "event_attention_mass",
    "event_frame_masks",
    "event_task_config",
    "mix_event",
]

EVENT_WORDS = ("yes", "no", "up", "down")


@dataclass(frozen=True)
class EventTaskConfig:
    """What to generate. Equal configs give byte-identical clips."""

    words: tuple[str, ...] = EVENT_WORDS  # "words": the classes, in label order
    tone_hz: tuple[float, ...] = (500.0, 1000.0, 2000.0, 4000.0)  # "tones": the classes
    source: str = "words"  # "words" (corpus speech) or "tones" (Hann-windowed tone bursts)
    clips_per_class: tuple[int, int, int] = (200, 40, 40)  # per class in train, val, test
    clip_seconds: float = 2.0  # length of every clip (the longest one if min_clip_seconds)
    min_clip_seconds: float | None = None  # if set, lengths vary in [min, clip_seconds]
    sample_rate: int = 16_000  # Hz
    snr_db_range: tuple[float, float] = (0.0, 10.0)  # event power (over the event) / noise
    level_db_range: tuple[float, float] = (-30.0, -10.0)  # RMS of the whole clip, dBFS
    noise_colors: tuple[str, ...] = ("white", "pink", "brown")  # drawn uniformly per clip
    word_augment: AugmentConfig = field(  # corpus augmentation; noise and gain are ours
        default_factory=lambda: AugmentConfig(noise_prob=0.0, gain_prob=0.0)
    )
    seed: int = 0  # everything random derives from this

    def __post_init__(self) -> None:
        if self.source not in ("words", "tones"):
            raise ValueError(f"source must be 'words' or 'tones', got {self.source!r}")
        check_sample_rate(self.sample_rate)
        if len(self.classes) < 2:
            raise ValueError(f"need at least two classes, got {self.classes}")
        if len(self.clips_per_class) != 3 or min(self.clips_per_class) < 1:
            raise ValueError(
                "clips_per_class must be three positive sizes (train, validation, test), "
                f"got {self.clips_per_class}"
            )
        if not self.clip_seconds >= 0.5:
            raise ValueError(f"clip_seconds must be at least 0.5 s, got {self.clip_seconds}")
        if self.min_clip_seconds is not None and not (
            0.5 <= self.min_clip_seconds <= self.clip_seconds
        ):
            raise ValueError(
                f"min_clip_seconds must lie in [0.5, clip_seconds={self.clip_seconds}], "
                f"got {self.min_clip_seconds}"
            )
        for name in ("snr_db_range", "level_db_range"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(low, high)}")
        if self.level_db_range[1] > 0:
            raise ValueError(f"level_db_range must be <= 0 dBFS, got {self.level_db_range}")
        unknown = [c for c in self.noise_colors if c not in NOISE_COLORS]
        if unknown or not self.noise_colors:
            raise ValueError(f"noise_colors must be from {list(NOISE_COLORS)}, got {unknown}")
        if self.source == "tones" and not all(0 < hz < self.sample_rate / 2 for hz in self.tone_hz):
            raise ValueError(f"tone_hz must lie in (0, sample_rate / 2), got {self.tone_hz}")

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in label order: the words, or tone names like "1000 Hz"."""
        if self.source == "words":
            return tuple(self.words)
        return tuple(f"{hz:g} Hz" for hz in self.tone_hz)


def event_task_config(profile: Profile, **overrides) -> EventTaskConfig:
    """The lessons' task sized by `profile` (train clips per class; a fifth as many to test)."""
    n = profile.event_clips_per_class
    sizes = (n, max(n // 5, 4), max(n // 5, 4))
    return replace(EventTaskConfig(clips_per_class=sizes), **overrides)


@dataclass
class EventClips:
    """One split of the task. Clip i is ``waveforms[i, :lengths[i]]`` (zeros after that)."""

    name: str  # "train", "validation" or "test"
    classes: tuple[str, ...]  # class names in label order
    sample_rate: int  # Hz
    waveforms: np.ndarray  # float32 (clips, time), zero-padded after each clip's length
    lengths: np.ndarray  # int64 (clips,): valid samples of each clip
    labels: np.ndarray  # int64 (clips,): index into `classes`
    event_start: np.ndarray  # int64 (clips,): first sample of the event
    event_end: np.ndarray  # int64 (clips,): one past its last sample
    snr_db: np.ndarray  # float32 (clips,): event power over its samples / noise power
    level_db: np.ndarray  # float32 (clips,): RMS of the clip in dBFS
    noise_colors: tuple[str, ...]  # per clip
    voices: tuple[str, ...]  # per clip: voice variant of the word ("" for tones)

    def __len__(self) -> int:
        return len(self.labels)

    def event_masks(self, hop_length: int = 160) -> np.ndarray:
        """Bool (clips, frames): frames whose centre lies inside the event (see
        `event_frame_masks`); frames = 1 + time // hop_length, as `LogMel` returns."""
        return event_frame_masks(
            self.event_start, self.event_end, self.waveforms.shape[1], hop_length
        )

    def event_fraction(self, hop_length: int = 160) -> float:
        """Mean share of each clip's valid frames inside the event: attention's chance level."""
        frames = 1 + self.lengths // hop_length
        return float(np.mean(self.event_masks(hop_length).sum(1) / frames))

    def dataset(self, hop_length: int | None = None) -> torch.utils.data.TensorDataset:
        """TensorDataset of (waveform (time,), label, length) items, plus the event mask
        (frames,) when `hop_length` is given. Default collation stacks them into batches."""
        tensors = [
            torch.from_numpy(self.waveforms),
            torch.from_numpy(self.labels),
            torch.from_numpy(self.lengths),
        ]
        if hop_length is not None:
            tensors.append(torch.from_numpy(self.event_masks(hop_length)))
        return torch.utils.data.TensorDataset(*tensors)


def event_frame_masks(
    event_start: np.ndarray | int, event_end: np.ndarray | int, num_samples: int, hop_length: int
) -> np.ndarray:
    """Mark the spectrogram frames inside an event.

    Frames are centred (``center=True``, as `LogMel` and librosa): frame t is centred on
    sample t * hop_length. A frame is inside when its centre lies in [event_start, event_end).

    Args:
        event_start: first sample of the event; an int or an array of shape (clips,).
        event_end: one past its last sample; same shape as `event_start`.
        num_samples: clip length in samples (the padded length for a batch).
        hop_length: samples between frames, e.g. 160 (10 ms at 16 kHz).

    Returns:
        bool array (frames,) for scalar inputs or (clips, frames), frames = 1 + num_samples //
        hop_length.

    Example:
        >>> event_frame_masks(320, 800, 1600, 160).astype(int)
        array([0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])

    Notebook: 02_additive_attention.
    """
    hop_length = check_integer(hop_length, "hop_length", minimum=1)
    num_samples = check_integer(num_samples, "num_samples", minimum=1)
    start, end = np.asarray(event_start), np.asarray(event_end)
    if start.shape != end.shape or start.ndim > 1:
        raise ValueError(
            f"event_start and event_end must be ints or (clips,) arrays of one shape, "
            f"got {start.shape} and {end.shape}"
        )
    if np.any(start > end) or np.any(start < 0) or np.any(end > num_samples):
        raise ValueError(f"need 0 <= event_start <= event_end <= num_samples={num_samples}")
    centres = np.arange(1 + num_samples // hop_length) * hop_length  # (frames,)
    return (centres >= start[..., None]) & (centres < end[..., None])  # (clips, frames)


def event_attention_mass(weights: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Share of each clip's attention that falls on its event frames.

    Args:
        weights: (batch, frames) attention weights over time (rows summing to 1).
        masks: bool (batch, frames), True inside the event (`EventClips.event_masks`).

    Returns:
        (batch,) tensor in [0, 1]; its mean is the lessons' "attention mass on the event".

    Example:
        >>> event_attention_mass(torch.tensor([[0.1, 0.7, 0.2]]), torch.tensor([[0, 1, 1]]).bool())
        tensor([0.9000])

    Notebook: 02_additive_attention.
    """
    masks = torch.as_tensor(masks, device=weights.device)
    if weights.ndim != 2 or masks.shape != weights.shape or masks.dtype != torch.bool:
        raise ValueError(
            f"need weights (batch, frames) and a bool mask of the same shape, got "
            f"{tuple(weights.shape)} and {masks.dtype} {tuple(masks.shape)}"
        )
    return (weights * masks).sum(-1)  # (batch,)


def mix_event(event: np.ndarray, noise: np.ndarray, offset: int, snr_db: float) -> np.ndarray:
    """Place `event` at `offset` in `noise`, scaling the noise to the requested SNR.

    SNR is measured over the event's own samples: 10 log10(mean(event^2) / mean(noise^2)),
    so it does not depend on how long the clip is around the event.

    Args:
        event: float32 (event_time,), not silent.
        noise: float32 (time,), not silent; the clip's length; time >= offset + event_time.
        offset: first sample of the event in the clip.
        snr_db: signal-to-noise ratio in dB.

    Returns:
        float32 (time,): scaled noise plus the event.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> clip = mix_event(np.ones(100, np.float32), colored_noise(1000, "white", rng), 50, 0.0)
        >>> clip.shape
        (1000,)

    Notebook: 02_additive_attention.
    """
    event, noise = check_float_waveform(event, "event"), check_float_waveform(noise, "noise")
    offset, snr_db = check_integer(offset, "offset", minimum=0), check_number(snr_db, "snr_db")
    if offset + event.size > noise.size:
        raise ValueError(
            f"event of {event.size} samples at offset {offset} does not fit in {noise.size}"
        )
    event_power = float(np.mean(np.square(event, dtype=np.float64)))
    noise_power = float(np.mean(np.square(noise, dtype=np.float64)))
    if event_power == 0 or noise_power == 0:
        raise ValueError("event and noise must not be silent: the SNR would be undefined")
    clip = noise * np.float32(snr_gain(event_power, noise_power, snr_db))
    clip[offset : offset + event.size] += event
    return clip


def _tone(hz: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    seconds = rng.uniform(0.15, 0.5)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    # A Hann envelope avoids clicks, which would be a second, broadband "event".
    return (np.sin(2 * np.pi * hz * t) * np.hanning(t.size)).astype(np.float32)


def _events(config: EventTaskConfig, split: str, cache_dir, progress) -> list[tuple]:
    """(event waveform, label, voice) for every clip of `split`, in label order."""
    index = SPLITS.index(split)
    if config.source == "tones":
        rng = np.random.default_rng([config.seed, index, 3])
        n = config.clips_per_class[index]
        return [
            (_tone(hz, config.sample_rate, rng), label, "")
            for label, hz in enumerate(config.tone_hz)
            for _ in range(n)
        ]
    corpus_config = CorpusConfig(
        task="words", words=tuple(config.words), clips_per_word=config.clips_per_class,
        sample_rate=config.sample_rate, augment=config.word_augment, seed=config.seed,
    )  # fmt: skip
    corpus = build_corpus(corpus_config, cache_dir=cache_dir, progress=progress)
    words = corpus[split]
    events = []
    for i, item in enumerate(words.items):
        wave = words.waveform(i)
        start = round(item["speech_start"] * config.sample_rate)
        end = max(round(item["speech_end"] * config.sample_rate), start + 1)
        events.append((wave[start:end], item["label"], item["voice_variant"]))
    return events


def _build_split(config: EventTaskConfig, split: str, cache_dir, progress) -> EventClips:
    sr = config.sample_rate
    max_len = round(config.clip_seconds * sr)
    events = _events(config, split, cache_dir, progress)
    rng = np.random.default_rng([config.seed, SPLITS.index(split), 4])
    n = len(events)
    waveforms = np.zeros((n, max_len), dtype=np.float32)
    lengths, starts, ends = (np.zeros(n, dtype=np.int64) for _ in range(3))
    snrs, levels = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    colors = []
    for i, (event, _, _) in enumerate(events):
        event = event[:max_len]
        length = max_len
        if config.min_clip_seconds is not None:
            length = int(rng.integers(round(config.min_clip_seconds * sr), max_len + 1))
            length = max(length, event.size)  # the whole event always fits
        offset = int(rng.integers(0, length - event.size + 1))
        colors.append(str(config.noise_colors[int(rng.integers(len(config.noise_colors)))]))
        snrs[i] = rng.uniform(*config.snr_db_range)
        clip = mix_event(event, colored_noise(length, colors[-1], rng), offset, float(snrs[i]))
        # Set the overall level, then scale down (never clip) if a peak would exceed 0.99.
        target = 10.0 ** (rng.uniform(*config.level_db_range) / 20.0)
        gain = min(target / math.sqrt(np.mean(np.square(clip, dtype=np.float64))),
                   0.99 / float(np.max(np.abs(clip))))  # fmt: skip
        clip = clip * np.float32(gain)
        levels[i] = 10.0 * np.log10(np.mean(np.square(clip, dtype=np.float64)))
        waveforms[i, :length] = clip
        lengths[i], starts[i], ends[i] = length, offset, offset + event.size
    return EventClips(
        name=split, classes=config.classes, sample_rate=sr, waveforms=waveforms,
        lengths=lengths, labels=np.array([e[1] for e in events], dtype=np.int64),
        event_start=starts, event_end=ends, snr_db=snrs, level_db=levels,
        noise_colors=tuple(colors), voices=tuple(e[2] for e in events),
    )  # fmt: skip


def build_event_task(
    config: EventTaskConfig | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> dict[str, EventClips]:
    """Build the train, validation and test splits of the "where is the event" task.

    Words are the speech segments of corpus word clips (`build_corpus`, cached under
    `cache_dir`), so the splits are disjoint by voice. Each clip gets a random noise colour,
    SNR and level from `config`, and the event at a uniformly random place.

    Args:
        config: what to build (default `EventTaskConfig()`: four command words, 2 s clips).
        cache_dir: folder of the corpus cache (default ``data/corpus``).
        progress: show the corpus progress bar when it has to be synthesised.

    Returns:
        {"train": EventClips, "validation": EventClips, "test": EventClips}; waveforms have
        shape (clips, time), time = clip_seconds * sample_rate.

    Example:
        >>> cfg = EventTaskConfig(source="tones", clips_per_class=(2, 1, 1), clip_seconds=1.0)
        >>> task = build_event_task(cfg)
        >>> task["train"].waveforms.shape, task["train"].event_masks(160).shape
        ((8, 16000), (8, 101))

    Notebook: 02_additive_attention.
    """
    config = config or EventTaskConfig()
    if not isinstance(config, EventTaskConfig):
        raise TypeError(f"config must be an EventTaskConfig, got {type(config).__name__}")
    return {split: _build_split(config, split, cache_dir, progress) for split in SPLITS}
