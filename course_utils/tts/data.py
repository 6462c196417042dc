"""One voice saying many distinct sentences: the synthesiser's training data (lesson 09).

A text-to-speech model learns one voice, so every clip is spoken by the same eSpeak voice
(`TTSDataConfig.voice`: accent, variant, rate and pitch fixed). Texts come from the
corpus's grammars (`course_utils.data.texts`): command sentences, digit strings and short
phrases of the corpus's words, each text spoken once. The split is by *sentence*: a test
sentence is never heard in training, so synthesising it shows what generalises.

Each clip is trimmed of leading and trailing silence (a model cannot know how long a pause
to start with) and turned into `mel_target` frames. Building is deterministic and cached
under ``<data>/tts/`` with the course's keyed, atomic cache: a second build is instant.

Shapes: M mel bands, T frames.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..core import data_dir, pad_batch
from ..core.cache import config_key, load_npz, load_or_build, save_npz
from ..data import espeak
from ..data.texts import COMMANDS, DIGITS, UNKNOWN_WORDS, command_sentences, digit_strings
from .mel import MelSettings, mel_target
from .text import TextTokenizer

__all__ = [
    "TTSDataConfig", "TTSDataset", "build_tts_data", "make_texts", "speak", "trim_silence"
]  # fmt: skip

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class TTSDataConfig:
    """What the synthesiser's data set holds: how many texts of each kind, one voice."""

    commands: int = 200  # distinct command sentences, at most (the grammar has 159: all)
    digits: int = 1000  # distinct digit strings ...
    digits_per_string: tuple[int, int] = (2, 5)  # ... of this many digits
    phrases: int = 1000  # distinct phrases of corpus words ("yellow rocket stop") ...
    words_per_phrase: tuple[int, int] = (2, 4)  # ... of this many words
    validation: float = 0.1  # share of the texts held out for validation ...
    test: float = 0.1  # ... and for test (never seen in training)
    voice: espeak.Voice = field(default_factory=espeak.Voice)  # the one speaker
    trim_db: float = 40.0  # silence: below the clip's peak by more than this, at the ends
    margin_ms: float = 10.0  # silence kept at each end after trimming
    seed: int = 0

    def key(self) -> str:
        return config_key({**asdict(self), "mel": asdict(MelSettings())})


@dataclass
class TTSDataset:
    """Texts and their mel targets, one split; indexing gives (text, mel (M, T))."""

    texts: list[str]
    mels: list[torch.Tensor]  # (n_mels, frames) each

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> tuple[str, torch.Tensor]:
        return self.texts[i], self.mels[i]

    def batch(self, indices, tokenizer: TextTokenizer | None = None) -> tuple[torch.Tensor, ...]:
        """tokens (B, L), text_lengths (B,), mels (B, M, T), mel_lengths (B,): a padded batch."""
        tokenizer = tokenizer or TextTokenizer()
        tokens, text_lengths = tokenizer.batch([self.texts[i] for i in indices])
        mels, mel_lengths = pad_batch([self.mels[i] for i in indices])
        return tokens, text_lengths, mels, mel_lengths

    def batches(self, batch_size: int, shuffle: bool = False, seed: int = 0) -> list[tuple]:
        """All items in padded batches of `batch_size`, in order or shuffled."""
        order = np.random.default_rng(seed).permutation(len(self)) if shuffle else range(len(self))
        order = list(order)
        return [self.batch(order[i : i + batch_size]) for i in range(0, len(order), batch_size)]


def _distinct(draw, n: int, taken: set[str]) -> list[str]:
    """Up to `n` texts from `draw(k)` that are not in `taken` (nor repeated); adds them."""
    texts: list[str] = []
    for _ in range(50):  # a grammar with fewer distinct texts than asked gives what it has
        for text in draw(4 * n):
            if len(texts) < n and text not in taken:
                taken.add(text)
                texts.append(text)
        if len(texts) >= n:
            break
    return texts


def make_texts(config: TTSDataConfig) -> list[str]:
    """The data set's distinct texts, in a fixed shuffled order.

    Example:
        >>> texts = make_texts(TTSDataConfig(commands=3, digits=3, phrases=3))
        >>> len(texts), len(set(texts))
        (9, 9)
    """
    rng = np.random.default_rng(config.seed)
    words = COMMANDS + UNKNOWN_WORDS + DIGITS

    def phrases(k: int) -> list[str]:
        lo, hi = config.words_per_phrase
        return [" ".join(rng.choice(words, size=rng.integers(lo, hi + 1))) for _ in range(k)]

    taken: set[str] = set()
    texts = _distinct(lambda k: command_sentences(k, rng), config.commands, taken)
    texts += _distinct(lambda k: digit_strings(k, config.digits_per_string, rng), config.digits,
                       taken)  # fmt: skip
    texts += _distinct(phrases, config.phrases, taken)
    return [texts[i] for i in rng.permutation(len(texts))]


def trim_silence(waveform: np.ndarray, top_db: float = 40.0, margin: int = 160) -> np.ndarray:
    """Cut the silence before the first and after the last sample within `top_db` of the peak.

    Example:
        >>> trim_silence(np.r_[np.zeros(500), np.ones(10), np.zeros(500)], margin=2).shape
        (14,)
    """
    level = np.abs(waveform)
    loud = np.flatnonzero(level > level.max() * 10 ** (-top_db / 20))
    if loud.size == 0:
        return waveform
    return waveform[max(loud[0] - margin, 0) : loud[-1] + margin + 1]


def speak(texts: list[str], config: TTSDataConfig | None = None) -> list[torch.Tensor]:
    """The data set's voice saying `texts`, trimmed as its clips are: (time,) each, 16 kHz.

    The audio a synthesiser trained on `build_tts_data(config)` imitates (lesson 09 plays
    it beside the synthesised speech).
    """
    config = config or TTSDataConfig()
    rate = MelSettings().sample_rate
    waves = espeak.synthesize_batch([(text, config.voice) for text in texts],
                                    sample_rate=rate, seed=config.seed)  # fmt: skip
    margin = int(config.margin_ms * rate / 1000)
    return [torch.from_numpy(trim_silence(np.asarray(w, np.float32), config.trim_db, margin))
            for w in waves]  # fmt: skip


def _build(config: TTSDataConfig) -> dict[str, TTSDataset]:
    texts = make_texts(config)
    # float16 and back, as the cache stores them: a fresh build equals a loaded one
    mels = [mel_target(waveform).half().float() for waveform in speak(texts, config)]
    n_val = max(1, round(config.validation * len(texts)))
    n_test = max(1, round(config.test * len(texts)))
    bounds = {"validation": (0, n_val), "test": (n_val, n_val + n_test),
              "train": (n_val + n_test, len(texts))}  # fmt: skip
    return {name: TTSDataset(texts[a:b], mels[a:b]) for name, (a, b) in bounds.items()}


def _save(data: dict[str, TTSDataset], path: Path, config: TTSDataConfig) -> None:
    meta = {"config_key": config.key(), "texts": {k: v.texts for k, v in data.items()}}
    arrays = {}
    for name, split in data.items():
        lengths = np.array([m.shape[1] for m in split.mels], dtype=np.int64)
        arrays[f"{name}_lengths"] = lengths
        arrays[f"{name}_mels"] = (torch.cat(split.mels, dim=1).numpy().astype(np.float16)
                                  if split.mels else np.zeros((0, 0), np.float16))  # fmt: skip
    save_npz(path, meta, arrays)


def _load(path: Path, config: TTSDataConfig) -> dict[str, TTSDataset]:
    meta, arrays = load_npz(path)
    if meta["config_key"] != config.key():
        raise ValueError(f"{path} holds another data set (key {meta['config_key']})")
    data = {}
    for name in SPLITS:
        lengths = arrays[f"{name}_lengths"].tolist()
        frames = torch.from_numpy(arrays[f"{name}_mels"].astype(np.float32))
        data[name] = TTSDataset(meta["texts"][name], list(torch.split(frames, lengths, dim=1)))
    return data


def build_tts_data(
    config: TTSDataConfig | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> dict[str, TTSDataset]:
    """The synthesiser's data: {"train", "validation", "test"} -> `TTSDataset`, cached.

    Args:
        config: sizes, voice and seed (default `TTSDataConfig()`: 2,159 texts, one en-us voice).
        cache_dir: folder of cache files (default ``<data>/tts``).
        use_cache: read and write the cache; False always rebuilds and writes nothing.

    Mels are stored as float16 (a 0.001 step on a -1..1.5 scale, far below what is heard).
    """
    config = config or TTSDataConfig()
    folder = Path(cache_dir) if cache_dir is not None else data_dir() / "tts"
    path = folder / f"tts-{config.key()}.npz" if use_cache else None
    if path is not None:
        folder.mkdir(parents=True, exist_ok=True)
    return load_or_build(path, lambda p: _load(p, config), lambda: _build(config),
                         lambda data, p: _save(data, p, config))  # fmt: skip
