"""Speech synthesis with eSpeak NG, the voice of the course corpus.

eSpeak NG is a formant synthesiser: small, fast (about 1000x real time) and fully offline.
The `espeakng-loader` wheel ships its shared library and voice data, and we drive the C API
through ctypes. A voice is an accent (the language rules, e.g. ``en-us``) plus a variant
(the speaker: formants, pitch, breathiness, e.g. ``m3`` or ``f2``), spoken at a rate in
words per minute and a base pitch from 0 to 99.

The C library keeps global state (one current voice, one callback), so every call into it
holds one lock, and the engine is initialised once per process.

Notebook: 00_welcome_and_setup (and the corpus tour in 05_audio_features_and_data).
"""

from __future__ import annotations

import _ctypes
import ctypes
import functools
import sys
import threading
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from ..audio import resampling_filter
from ..core import check_sample_rate

__all__ = [
    "ACCENTS",
    "Voice",
    "list_accents",
    "list_variants",
    "native_sample_rate",
    "synthesize",
    "synthesize_batch",
]

# English accents shipped in espeak-ng-data/lang/gmw (en-Shaw is a spelling reform, left out).
ACCENTS = (
    "en",
    "en-us",
    "en-us-nyc",
    "en-gb-x-rp",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
)

MIN_RATE, MAX_RATE = 80, 450  # words per minute accepted by espeak_SetParameter(RATE)

# Values from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True)
class Voice:
    """One synthetic speaker.

    Attributes:
        accent: language rules, one of `ACCENTS` (e.g. ``"en-us"``).
        variant: speaker variant, one of `list_variants()` (e.g. ``"m3"``, ``"f2"``).
        rate: speaking rate in words per minute, 80 to 450 (eSpeak's default is 175).
        pitch: base pitch, 0 to 99 (default 50).
        pitch_range: intonation range, 0 (monotone) to 99 (default 50).
    """

    accent: str = "en-us"
    variant: str = "m3"
    rate: int = 175
    pitch: int = 50
    pitch_range: int = 50

    @property
    def name(self) -> str:
        """eSpeak's name for this voice, e.g. ``"en-us+m3"``."""
        return f"{self.accent}+{self.variant}"


class _Engine:
    """The process-wide eSpeak NG engine; every method holds the lock.

    eSpeak keeps synthesis state in C statics (pitch flutter phase, echo buffer, ...) that
    leak from one utterance into the next, and `espeak_Terminate` does not clear them. The
    only full reset is to unload the shared library and load it again (about 3 ms), so
    `reset()` does that: the same calls after a reset always give the same samples.
    """

    def __init__(self) -> None:
        import espeakng_loader  # imported here so that `import course_utils` stays light

        self.lock = threading.Lock()
        self.library_path = espeakng_loader.get_library_path()
        self.data_path = Path(espeakng_loader.get_data_path())
        self.libc = ctypes.cdll.msvcrt if sys.platform == "win32" else ctypes.CDLL(None)
        self._chunks: list[np.ndarray] = []
        # Keep a reference to the callback: ctypes would free it and the C side would crash.
        self._callback = _SYNTH_CALLBACK(self._collect)
        self.lib = None
        with self.lock:
            self._load()

    def _load(self) -> None:
        lib = ctypes.CDLL(self.library_path)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise with data at {self.data_path}")
        lib.espeak_SetSynthCallback(self._callback)
        self.lib, self.sample_rate = lib, rate

    def _unload(self) -> None:
        self.lib.espeak_Terminate()
        handle, self.lib = self.lib._handle, None
        if sys.platform == "win32":
            _ctypes.FreeLibrary(handle)
        else:
            _ctypes.dlclose(handle)

    def reset(self) -> None:
        """Reload the library so that the next utterance starts from a clean state."""
        with self.lock:
            self._unload()
            self._load()

    def _collect(self, wav, num_samples, events) -> int:
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        return 0  # 0 = carry on synthesising

    def speak(self, text: str, voice: Voice, seed: int) -> np.ndarray:
        """int16 samples at `self.sample_rate`; depends on the calls since the last reset."""
        data = text.encode("utf-8") + b"\0"
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
                raise ValueError(f"eSpeak NG rejected the voice {voice.name!r}")
            for param, value in (
                (_PARAM_RATE, voice.rate),
                (_PARAM_PITCH, voice.pitch),
                (_PARAM_RANGE, voice.pitch_range),
                (_PARAM_VOLUME, 100),
            ):
                self.lib.espeak_SetParameter(param, int(value), 0)
            # Breath and voicing noise draw on eSpeak's own generator and on libc's rand().
            self.lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
            self.libc.srand(ctypes.c_uint(seed))
            self._chunks = []
            self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if not chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(chunks)


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def _get_engine() -> _Engine:
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
        return _engine


def native_sample_rate() -> int:
    """The rate eSpeak NG synthesises at (22050 Hz for its voices)."""
    return _get_engine().sample_rate


def list_accents() -> tuple[str, ...]:
    """The English accents the course uses (see `ACCENTS`)."""
    return ACCENTS


@functools.lru_cache(maxsize=1)
def list_variants() -> tuple[str, ...]:
    """All speaker variants shipped with eSpeak NG (about 100), sorted by name."""
    folder = _get_engine().data_path / "voices" / "!v"
    return tuple(sorted(p.name for p in folder.iterdir() if p.is_file()))


def _check_voice(voice: Voice) -> None:
    if voice.accent not in ACCENTS:
        raise ValueError(f"unknown accent {voice.accent!r}; expected one of {list(ACCENTS)}")
    variants = list_variants()
    if voice.variant not in variants:
        raise ValueError(
            f"unknown voice variant {voice.variant!r}; expected one of {list(variants)}"
        )
    if not MIN_RATE <= voice.rate <= MAX_RATE:
        raise ValueError(f"rate must be {MIN_RATE}..{MAX_RATE} words per minute, got {voice.rate}")
    for field, value in (("pitch", voice.pitch), ("pitch_range", voice.pitch_range)):
        if not 0 <= value <= 99:
            raise ValueError(f"{field} must be 0..99, got {value}")


def _to_float(pcm: np.ndarray, native_rate: int, sample_rate: int) -> np.ndarray:
    waveform = pcm.astype(np.float32) / 32768.0
    if sample_rate != native_rate:
        g = gcd(sample_rate, native_rate)
        up, down = sample_rate // g, native_rate // g
        waveform = resample_poly(waveform, up, down, window=resampling_filter(up, down))
    return np.clip(waveform, -1.0, 1.0).astype(np.float32)


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not any(ch.isalnum() for ch in text):
        raise ValueError(f"text must contain at least one letter or digit, got {text!r}")


def synthesize_batch(
    requests: list[tuple[str, Voice]], sample_rate: int = 16_000, seed: int = 0
) -> list[np.ndarray]:
    """Speak several texts in a row, after one reset of the engine.

    Faster than calling `synthesize` for each (one reset instead of many); the result depends
    on the whole list, so a corpus builds its batches the same way every time.

    Args:
        requests: list of (text, voice) pairs.
        sample_rate: output rate in Hz, 4000 to 192000.
        seed: seed of eSpeak's breath noise; utterance i uses ``seed + i``.

    Returns:
        list of float32 waveforms of shape (samples,), one per request.
    """
    for text, voice in requests:
        _check_text(text)
        _check_voice(voice)
    sample_rate = check_sample_rate(sample_rate)
    engine = _get_engine()
    engine.reset()
    waveforms = []
    for i, (text, voice) in enumerate(requests):
        pcm = engine.speak(text, voice, seed + i)
        if pcm.size == 0:
            raise RuntimeError(f"eSpeak NG produced no audio for {text!r} with voice {voice.name}")
        waveforms.append(_to_float(pcm, engine.sample_rate, sample_rate))
    return waveforms


def synthesize(
    text: str, voice: Voice | None = None, sample_rate: int = 16_000, seed: int = 0
) -> np.ndarray:
    """Speak `text` with eSpeak NG.

    Args:
        text: what to say; must contain at least one letter or digit.
        voice: accent, variant, rate and pitch (default: ``Voice()``, American ``m3``).
        sample_rate: output rate in Hz, 4000 to 192000 (default 16000, the course's rate).
        seed: seed of eSpeak's breath and voicing noise.

    Returns:
        waveform: float32 array of shape (samples,), in [-1, 1]. The same arguments always
        give the same samples, byte for byte.

    Example:
        >>> wave = synthesize("seven", Voice("en-gb-x-rp", "f2"), sample_rate=16000)
        >>> wave.dtype, wave.ndim
        (dtype('float32'), 1)

    Notebook: 00_welcome_and_setup.
    """
    return synthesize_batch([(text, voice or Voice())], sample_rate, seed)[0]
