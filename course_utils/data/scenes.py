"""Sound scenes with timed events, for sound event detection (lesson 07).

A scene is ten seconds of coloured background noise (white, pink or brown, at a varied level)
with a few events on top, each with its class, onset and offset:

- "word" and "sentence": speech from the course corpus, cut at ``[speech_start,
  speech_end]``: a single spoken word (a digit or a command, 0.3-0.8 s) or a spoken command
  sentence ("turn on the kitchen lights", 1-3 s). Telling them apart takes context: the first
  word of a sentence sounds like a word on its own until the next one follows;
- "tone": a steady harmonic tone (random f0, a few partials, 0.3-1.5 s, with fades);
- "chirp": a sine sweeping up or down by at least an octave (0.3-1.5 s);
- "clicks": a train of short clicks (0.3-1 s long, so the event has a duration);
- "noise_burst": band-passed noise (0.2-1 s).

Events of different classes may overlap (that is what makes detection *polyphonic*); events of
one class never overlap and are at least `min_gap_seconds` apart, so matching them to the truth
is well defined. Speech of the train scenes comes from the corpus train splits, that of the
validation and test scenes from voices never heard in training; the synthetic events use
per-split seeds.

Everything is numpy and deterministic: the same config gives the same scenes, byte for byte.
Scenes are cached as int16 in ``data/scenes/<key>.npz`` (about 0.3 MB per scene), written
atomically; the corpora they draw speech from are cached as usual.

Notebook: 07_sound_event_detection.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..augment import NOISE_COLORS, AugmentConfig, colored_noise, snr_gain
from ..core import Profile, check_sample_rate, data_dir
from ..core.cache import config_key, load_npz, load_or_build, save_npz
from .corpus import build_corpus
from .corpus_config import SPLITS, CorpusConfig
from .events import Event, events_to_frames
from .sounds import synth_event
from .texts import COMMANDS, DIGITS

__all__ = ["SCENE_CLASSES", "SceneConfig", "Scenes", "build_scenes", "scene_config"]

SCENES_VERSION = 1  # bump when the generation code changes what a config produces
SCENE_CLASSES = ("word", "sentence", "tone", "chirp", "clicks", "noise_burst")
_SPEECH = ("word", "sentence")


@dataclass(frozen=True)
class SceneConfig:
    """What to generate. Equal configs give byte-identical scenes (and share a cache file)."""

    classes: tuple[str, ...] = SCENE_CLASSES  # event classes in label order (from SCENE_CLASSES)
    scenes: tuple[int, int, int] = (800, 150, 150)  # scenes in train, validation, test
    scene_seconds: float = 10.0  # length of every scene
    sample_rate: int = 16_000  # Hz
    events_per_scene: tuple[int, int] = (3, 8)  # events drawn per scene, inclusive range
    snr_db_range: tuple[float, float] = (0.0, 20.0)  # event power (over the event) / background
    background_db_range: tuple[float, float] = (-45.0, -25.0)  # background RMS, dBFS
    noise_colors: tuple[str, ...] = ("white", "pink", "brown")  # background, one per scene
    overlap_prob: float = 0.3  # chance that an event is placed over an event of another class
    min_gap_seconds: float = 0.3  # silence between two events of the same class, at least
    word_clips: tuple[int, int, int] = (12, 3, 3)  # corpus clips per word in each split
    sentences: tuple[int, int, int] = (400, 80, 80)  # corpus command sentences in each split
    word_augment: AugmentConfig = field(  # corpus augmentation; noise and gain are ours
        default_factory=lambda: AugmentConfig(noise_prob=0.0, gain_prob=0.0)
    )
    seed: int = 0  # everything random derives from this

    def __post_init__(self) -> None:
        check_sample_rate(self.sample_rate)
        unknown = [c for c in self.classes if c not in SCENE_CLASSES]
        if unknown or len(set(self.classes)) != len(self.classes) or len(self.classes) < 2:
            raise ValueError(
                f"classes must be at least two distinct names from {SCENE_CLASSES}, "
                f"got {self.classes}"
            )
        if len(self.scenes) != 3 or min(self.scenes) < 1:
            raise ValueError(f"scenes must be three positive sizes, got {self.scenes}")
        if not 2.0 <= self.scene_seconds <= 60.0:
            raise ValueError(f"scene_seconds must lie in [2, 60], got {self.scene_seconds}")
        low, high = self.events_per_scene
        if not 1 <= low <= high:
            raise ValueError(
                f"events_per_scene must be (low, high), 1 <= low <= high, got {(low, high)}"
            )
        for name in ("snr_db_range", "background_db_range"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(low, high)}")
        if self.background_db_range[1] > -6:
            raise ValueError(
                f"background_db_range must stay below -6 dBFS, got {self.background_db_range}"
            )
        if not self.noise_colors or any(c not in NOISE_COLORS for c in self.noise_colors):
            raise ValueError(
                f"noise_colors must be from {list(NOISE_COLORS)}, got {self.noise_colors}"
            )
        if not 0.0 <= self.overlap_prob <= 1.0:
            raise ValueError(f"overlap_prob must lie in [0, 1], got {self.overlap_prob}")
        if self.min_gap_seconds < 0:
            raise ValueError(f"min_gap_seconds must be >= 0, got {self.min_gap_seconds}")
        for name in ("word_clips", "sentences"):
            sizes = getattr(self, name)
            if len(sizes) != 3 or min(sizes) < 1:
                raise ValueError(f"{name} must be three positive sizes, got {sizes}")

    def key(self) -> str:
        """A short hash of everything that changes the scenes; names the cache file."""
        corpora = [config.key() for config in self.corpus_configs()]
        settings = asdict(self) | {"version": SCENES_VERSION, "corpora": corpora}
        return config_key(settings)

    def corpus_configs(self) -> tuple[CorpusConfig, CorpusConfig]:
        """The corpora the speech events are cut from: words (digits and commands), and
        command sentences."""
        common = {"sample_rate": self.sample_rate, "augment": self.word_augment, "seed": self.seed}
        words = CorpusConfig(task="words", words=DIGITS + COMMANDS, clips_per_word=self.word_clips,
                             **common)  # fmt: skip
        return words, CorpusConfig(task="sentences", utterances=self.sentences, **common)


def scene_config(profile: Profile, **overrides) -> SceneConfig:
    """The lesson's scenes sized by `profile`: its train scenes, and its evaluation scenes for
    validation and for test each."""
    train, evaluate = profile.sed_train_scenes, profile.sed_eval_scenes
    sizes = (train, evaluate, evaluate)
    # about one word or sentence per scene in each category: enough for every event to be new
    clips = tuple(max(n // len(DIGITS + COMMANDS), 2) for n in sizes)
    sentences = tuple(max(n // 2, 4) for n in sizes)
    return replace(SceneConfig(scenes=sizes, word_clips=clips, sentences=sentences), **overrides)


@dataclass
class Scenes:
    """One split: scene i is ``waveform(i)``, its events ``events[i]``, sorted by onset."""

    name: str  # "train", "validation" or "test"
    classes: tuple[str, ...]  # class names in label order
    sample_rate: int  # Hz
    audio: np.ndarray  # int16 (scenes, time); waveform(i) gives float32 in [-1, 1]
    events: list[list[Event]]  # per scene: (onset_s, offset_s, label), sorted by onset
    noise_colors: tuple[str, ...]  # per scene: the background's colour
    voices: tuple[tuple[str, ...], ...]  # per scene: voice variants of its words

    def __len__(self) -> int:
        return self.audio.shape[0]

    @property
    def num_samples(self) -> int:
        return self.audio.shape[1]

    def waveform(self, index: int) -> np.ndarray:
        """Scene `index` as float32 (time,) in [-1, 1]."""
        return self.audio[index].astype(np.float32) / 32768.0

    def waveforms(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Scenes [start, stop) as float32 (scenes, time): convert in slices to save memory."""
        return self.audio[start:stop].astype(np.float32) / 32768.0

    def num_frames(self, hop_length: int) -> int:
        """Spectrogram frames of a scene: 1 + time // hop_length (centred frames)."""
        return 1 + self.num_samples // hop_length

    def frame_labels(self, hop_length: int = 320) -> np.ndarray:
        """Float32 (scenes, frames, classes) 0/1 targets: a frame is active for a class when its
        centre (t * hop_length samples) lies inside one of the class's events."""
        frames, hop = self.num_frames(hop_length), hop_length / self.sample_rate
        return np.stack([events_to_frames(e, self.classes, frames, hop) for e in self.events])

    def class_counts(self) -> dict[str, int]:
        """Events per class over the split."""
        counts = dict.fromkeys(self.classes, 0)
        for events in self.events:
            for *_, label in events:
                counts[label] += 1
        return counts


# ---------------------------------------------------------------------------- synthesis


def _place(
    labels_so_far: list[tuple[int, int, str]], label: str, length: int, config: SceneConfig,
    rng: np.random.Generator,
) -> int | None:  # fmt: skip
    """Onset (samples) for an event of `length`: same-class events apart by the gap; other
    classes overlapped on purpose with probability overlap_prob, avoided otherwise."""
    sr, total = config.sample_rate, round(config.scene_seconds * config.sample_rate)
    gap = round(config.min_gap_seconds * sr)
    if length > total:  # a sentence longer than a (short) scene: leave it out
        return None
    others = [(a, b) for a, b, other in labels_so_far if other != label]
    overlap = bool(others) and rng.random() < config.overlap_prob
    for _ in range(50):
        if overlap:  # start somewhere that makes the event cross a chosen other event
            a, b = others[int(rng.integers(len(others)))]
            low, high = max(a - length + sr // 10, 0), min(b - sr // 10, total - length)
            if low > high:
                continue
            onset = int(rng.integers(low, high + 1))
        else:
            onset = int(rng.integers(0, total - length + 1))
        offset = onset + length
        clash = False
        for a, b, other in labels_so_far:
            margin = gap if other == label else 0
            if other == label or not overlap:
                clash |= onset < b + margin and a < offset + margin
        if not clash:
            return onset
    return None


def _scene(
    config: SceneConfig, rng: np.random.Generator, words: dict[str, list[np.ndarray]],
    word_order: dict[str, list[int]], word_voices: dict[str, list[str]],
) -> tuple[np.ndarray, list[Event], str, tuple[str, ...]]:  # fmt: skip
    sr, total = config.sample_rate, round(config.scene_seconds * config.sample_rate)
    color = str(config.noise_colors[int(rng.integers(len(config.noise_colors)))])
    background = colored_noise(total, color, rng)  # unit RMS
    background *= np.float32(10 ** (rng.uniform(*config.background_db_range) / 20))
    noise_power = float(np.mean(np.square(background, dtype=np.float64)))
    scene = background.copy()
    placed: list[tuple[int, int, str]] = []
    voices = []
    for _ in range(int(rng.integers(config.events_per_scene[0], config.events_per_scene[1] + 1))):
        label = config.classes[int(rng.integers(len(config.classes)))]
        if label in _SPEECH:
            pick = word_order[label].pop() if word_order[label] else None
            if pick is None:  # every clip used once: start again in a new order
                word_order[label] = list(rng.permutation(len(words[label])))
                pick = word_order[label].pop()
            event, voice = words[label][pick], word_voices[label][pick]
        else:
            event, voice = synth_event(label, rng, sr), None
        onset = _place(placed, label, event.size, config, rng)
        snr_db = rng.uniform(*config.snr_db_range)
        if onset is None:  # no room left for this class: skip the event
            continue
        power = float(np.mean(np.square(event, dtype=np.float64)))
        gain = snr_gain(power, noise_power, snr_db, scale="signal")  # the background stays
        scene[onset : onset + event.size] += np.float32(gain) * event
        placed.append((onset, onset + event.size, label))
        if voice is not None:
            voices.append(voice)
    peak = float(np.max(np.abs(scene)))
    if peak > 0.99:  # scale down, never clip
        scene *= np.float32(0.99 / peak)
    events = sorted(
        ((round(a / sr, 6), round(b / sr, 6), label) for a, b, label in placed),
        key=lambda e: (e[0], e[2]),
    )
    return scene, events, color, tuple(voices)


def _build_split(config: SceneConfig, split: str, corpora, progress: bool) -> Scenes:
    from tqdm.auto import tqdm

    index = SPLITS.index(split)
    sr = config.sample_rate
    pools: dict[str, list[np.ndarray]] = {"word": [], "sentence": []}
    voices: dict[str, list[str]] = {"word": [], "sentence": []}
    for category, corpus in zip(_SPEECH, corpora, strict=True):
        if corpus is None:
            continue
        utterances = corpus[split]
        for i, item in enumerate(utterances.items):
            wave = utterances.waveform(i)
            start = round(item["speech_start"] * sr)
            end = max(round(item["speech_end"] * sr), start + 1)
            pools[category].append(wave[start:end])
            voices[category].append(item["voice_variant"])
    rng = np.random.default_rng([config.seed, index, 7])
    order = {k: list(rng.permutation(len(v))) for k, v in pools.items()}
    n = config.scenes[index]
    audio = np.zeros((n, round(config.scene_seconds * sr)), dtype=np.int16)
    events, colors, scene_voices = [], [], []
    for i in tqdm(range(n), desc=f"scenes/{split}", disable=not progress):
        scene, scene_events, color, used = _scene(config, rng, pools, order, voices)
        audio[i] = np.round(scene * 32767).astype(np.int16)
        events.append(scene_events)
        colors.append(color)
        scene_voices.append(used)
    return Scenes(split, config.classes, sr, audio, events, tuple(colors), tuple(scene_voices))


# ------------------------------------------------------------------------------ storage


def cache_path(config: SceneConfig, cache_dir: str | Path | None = None) -> Path:
    """Where `config`'s scenes are cached: ``<data>/scenes/<key>.npz``."""
    folder = Path(cache_dir) if cache_dir is not None else data_dir() / "scenes"
    return folder / f"{config.key()}.npz"


def _save(splits: dict[str, Scenes], config: SceneConfig, path: Path) -> None:
    meta = {
        "key": config.key(),
        "splits": {
            name: {"events": s.events, "noise_colors": s.noise_colors, "voices": s.voices}
            for name, s in splits.items()
        },
    }
    save_npz(path, meta, {f"{name}_audio": s.audio for name, s in splits.items()})


def _load(config: SceneConfig, path: Path) -> dict[str, Scenes]:
    meta, arrays = load_npz(path)
    if meta["key"] != config.key():
        raise ValueError(f"{path} holds other scenes (key {meta['key']})")
    return {
        name: Scenes(
            name,
            config.classes,
            config.sample_rate,
            arrays[f"{name}_audio"],
            [[(a, b, label) for a, b, label in scene] for scene in meta["splits"][name]["events"]],
            tuple(meta["splits"][name]["noise_colors"]),
            tuple(tuple(v) for v in meta["splits"][name]["voices"]),
        )  # fmt: skip
        for name in SPLITS
    }


def build_scenes(
    config: SceneConfig | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    use_cache: bool = True,
) -> dict[str, Scenes]:
    """Build (or load from the cache) the train, validation and test scenes.

    Args:
        config: what to build (default `SceneConfig()`: 800 / 150 / 150 scenes of 10 s).
        cache_dir: folder of the scene cache (default ``data/scenes``); the speech corpora are
            cached in ``data/corpus`` as usual (in ``cache_dir/corpus`` when it is given).
        progress: show progress bars while generating.
        use_cache: read and write the cache; False always regenerates and writes nothing.

    Returns:
        {"train": Scenes, "validation": Scenes, "test": Scenes}; audio has shape
        (scenes, scene_seconds * sample_rate).

    Example:
        >>> import tempfile
        >>> cfg = SceneConfig(scenes=(2, 1, 1), scene_seconds=3.0, word_clips=(1, 1, 1),
        ...                   sentences=(2, 1, 1))
        >>> scenes = build_scenes(cfg, cache_dir=tempfile.mkdtemp(), progress=False)
        >>> scenes["train"].audio.shape, scenes["train"].frame_labels(320).shape
        ((2, 48000), (2, 151, 6))

    Notebook: 07_sound_event_detection.
    """
    config = config or SceneConfig()
    if not isinstance(config, SceneConfig):
        raise TypeError(f"config must be a SceneConfig, got {type(config).__name__}")
    path = cache_path(config, cache_dir) if use_cache else None

    def build() -> dict[str, Scenes]:
        corpus_dir = None if cache_dir is None else Path(cache_dir) / "corpus"
        corpora = [  # only those a class needs
            build_corpus(c, cache_dir=corpus_dir, progress=progress)
            if label in config.classes
            else None
            for label, c in zip(_SPEECH, config.corpus_configs(), strict=True)
        ]
        return {name: _build_split(config, name, corpora, progress) for name in SPLITS}

    def save(splits: dict[str, Scenes], path: Path) -> None:
        _save(splits, config, path)

    return load_or_build(path, lambda path: _load(config, path), build, save)
