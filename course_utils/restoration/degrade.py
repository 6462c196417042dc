"""Lesson 11's damage: noise at a chosen SNR, or a lost high band, applied to clean speech.

A restoration model learns from (damaged, clean) pairs: we damage clean 16 kHz speech
ourselves, so the target is known exactly.

- Denoising: `NOISE_KINDS` are colored noise ("white", "pink", "brown"), "babble"
  (`babble`: other talkers, the hardest: it *is* speech) and "scene" (`scene_noise`:
  lesson 07's events over a quiet pink background). `make_noise` picks one by name,
  `add_noise_at_snr` mixes at SNR = 10 log10(P_clean / P_noise), whole-clip powers (the
  course's one formula, `augment.snr_gain`), and `measured_snr` checks a mixture.
- Bandwidth extension: `band_limit` resamples down and back up (windowed sinc): the band
  above low_rate / 2 is empty (about 100 dB down), the length kept. That is also the
  classic baseline's answer, sinc interpolation. `telephone_band`: the phone line.
- `Degradation` names a task and its ranges; `degrade` draws one damaged clip.

Functions take and return float32 numpy arrays of shape (time,) at 16 kHz; randomness
comes only from an explicit `numpy.random.Generator`.

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import torch
import torchaudio.functional as AF

from ..augment import add_noise, colored_noise, pad_or_crop
from ..augment.rooms import telephone
from ..core import check_float_waveform, check_integer, check_number, check_rng, check_sample_rate
from ..data.sounds import EVENT_SECONDS, synth_event

__all__ = [
    "MIN_LOW_RATE",
    "NOISE_KINDS",
    "SAMPLE_RATE",
    "SINC_FILTER",
    "SNR_RANGE_DB",
    "TASKS",
    "Degradation",
    "add_noise_at_snr",
    "babble",
    "band_limit",
    "degrade",
    "make_noise",
    "measured_snr",
    "scene_noise",
    "telephone_band",
]

SAMPLE_RATE = 16_000  # the lesson's rate: clean, damaged and restored speech
NOISE_KINDS = ("white", "pink", "brown", "babble", "scene")
TASKS = ("denoise", "bandwidth")
SNR_RANGE_DB = (-10.0, 40.0)  # the SNRs `add_noise_at_snr` accepts
MIN_LOW_RATE = 2_000  # lowest rate `band_limit` goes down to
PEAK_LIMIT = 0.99  # `degrade` scales a louder mixture down to this peak
# torchaudio's (librosa's) "kaiser_best" windowed sinc: 64 zero crossings, stopband ~100 dB
# down. The default Hann-windowed filter leaves the lost band only about 20 dB down.
SINC_FILTER = MappingProxyType(
    dict(
        lowpass_filter_width=64, rolloff=0.94759, resampling_method="sinc_interp_kaiser", beta=14.77
    )
)
EVENTS_PER_SECOND = 3.0  # mean rate of events in `scene_noise`
EVENT_GAIN_DB = (-20.0, 0.0)  # event levels spread over 20 dB
SCENE_BACKGROUND_DB = -20.0  # pink background re the events' power


def _check_rate(sample_rate: int) -> int:
    sample_rate = check_sample_rate(sample_rate)
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"expected 16000 Hz audio, got {sample_rate} Hz; resample first")
    return sample_rate


def _check_low_rate(low_rate: int) -> int:
    low_rate = check_integer(low_rate, "low_rate")
    if not MIN_LOW_RATE <= low_rate < SAMPLE_RATE:
        raise ValueError(f"low_rate must be in [{MIN_LOW_RATE}, {SAMPLE_RATE}) Hz, got {low_rate}")
    return low_rate


def _check_clean(clean: np.ndarray, name: str = "clean") -> np.ndarray:
    """A (time,) finite float waveform that is not silent, as float32."""
    clean = check_float_waveform(clean, name)
    if not np.any(clean):
        raise ValueError(f"{name} is silent (all zeros): there is no speech to damage")
    return clean


def _power(wave: np.ndarray) -> float:
    return float(np.mean(np.square(wave, dtype=np.float64)))


def _unit_rms(wave: np.ndarray) -> np.ndarray:
    power = _power(wave)
    return (wave / np.float32(np.sqrt(power))).astype(np.float32) if power > 0 else wave


def babble(
    voices: list[np.ndarray], num_samples: int, rng: np.random.Generator, talkers=(3, 6)
) -> np.ndarray:
    """Several other talkers at once: the sum of random utterances, unit RMS.

    Each talker is one of `voices` (no repeats while there are enough), at unit RMS, from a
    random offset, tiled or cropped to `num_samples`: nobody falls silent before the end.

    Args:
        voices: other utterances, float (time_i,) each, none silent.
        num_samples: length of the noise.
        rng: the only source of randomness.
        talkers: (fewest, most) talkers, drawn uniformly, both included.

    Returns:
        float32 array of shape (num_samples,), mean of squares 1.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> voices = [np.sin(np.arange(800, dtype=np.float32) * f) for f in (0.1, 0.2, 0.3)]
        >>> babble(voices, 1600, rng).shape
        (1600,)

    Notebook: 11_gan_audio_restoration.
    """
    if not isinstance(voices, (list, tuple)) or len(voices) == 0:
        raise ValueError("babble needs voices: a non-empty list of (time,) utterances")
    num_samples = check_integer(num_samples, "num_samples", minimum=1)
    check_rng(rng)
    if len(talkers) != 2 or not 1 <= talkers[0] <= talkers[1]:
        raise ValueError(f"talkers must be (fewest, most) with 1 <= fewest <= most, got {talkers}")
    count = int(rng.integers(talkers[0], talkers[1] + 1))
    chosen = rng.choice(len(voices), size=count, replace=count > len(voices))
    mix = np.zeros(num_samples, dtype=np.float32)
    for index in chosen:
        voice = _unit_rms(_check_clean(voices[index], f"voices[{index}]"))
        offset = int(rng.integers(voice.size))
        mix += np.resize(np.roll(voice, -offset), num_samples)  # tiles or crops
    return _unit_rms(mix)


def scene_noise(num_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Lesson 07's sound events at random times over a quiet pink background, unit RMS.

    About three events a second (Poisson), each a random class of `EVENT_SECONDS` (tone,
    chirp, clicks, noise burst) from `synth_event`, at a random level spread over 20 dB;
    under them pink noise 20 dB below the events' power.

    Args:
        num_samples: length of the noise.
        sample_rate: 16000 Hz.
        rng: the only source of randomness.

    Returns:
        float32 array of shape (num_samples,), mean of squares 1.

    Example:
        >>> scene_noise(16000, 16000, np.random.default_rng(0)).shape
        (16000,)

    Notebook: 11_gan_audio_restoration.
    """
    num_samples = check_integer(num_samples, "num_samples", minimum=1)
    check_rng(rng)
    sample_rate = _check_rate(sample_rate)
    labels = list(EVENT_SECONDS)
    count = max(1, int(rng.poisson(EVENTS_PER_SECOND * num_samples / sample_rate)))
    events = np.zeros(num_samples, dtype=np.float32)
    for _ in range(count):
        event = synth_event(labels[int(rng.integers(len(labels)))], rng, sample_rate)
        gain = np.float32(10.0 ** (rng.uniform(*EVENT_GAIN_DB) / 20.0))
        events += pad_or_crop(event * gain, num_samples, int(rng.integers(num_samples)))
    background = colored_noise(num_samples, "pink", rng)
    if not np.any(events):  # a clip so short that only silent fade-ins landed in it
        return background
    return _unit_rms(add_noise(events, background, -SCENE_BACKGROUND_DB))


def make_noise(
    kind: str, num_samples: int, rng: np.random.Generator, sample_rate=SAMPLE_RATE, voices=None
) -> np.ndarray:
    """A unit-RMS noise of one of `NOISE_KINDS`.

    Args:
        kind: "white", "pink", "brown" (`colored_noise`), "babble" (`babble`, needs
            `voices`) or "scene" (`scene_noise`).
        num_samples: length of the noise.
        rng: the only source of randomness.
        sample_rate: 16000 Hz.
        voices: other utterances for "babble"; ignored by the other kinds.

    Returns:
        float32 array of shape (num_samples,), mean of squares 1.

    Example:
        >>> make_noise("brown", 8000, np.random.default_rng(0)).shape
        (8000,)

    Notebook: 11_gan_audio_restoration.
    """
    _check_rate(sample_rate)
    if kind in ("white", "pink", "brown"):
        return colored_noise(num_samples, kind, rng)
    if kind == "babble":
        if voices is None or len(voices) == 0:
            raise ValueError("noise kind 'babble' needs voices: a list of other utterances")
        return babble(voices, num_samples, rng)
    if kind == "scene":
        return scene_noise(num_samples, sample_rate, rng)
    raise ValueError(f"unknown noise kind {kind!r}; expected one of {NOISE_KINDS}")


def add_noise_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Mix `noise` into `clean` at `snr_db` (whole-clip powers), with `augment.add_noise`.

    Args:
        clean: float32 speech, (time,), not silent.
        noise: float32 noise, (noise_time,), tiled or cropped to the speech's length.
        snr_db: the wanted SNR, -10 to 40 dB.

    Returns:
        float32 (time,): clean + scaled noise (peaks may exceed 1; `degrade` handles that).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> clean = np.sin(np.arange(16000, dtype=np.float32) * 0.1)
        >>> noisy = add_noise_at_snr(clean, make_noise("pink", 16000, rng), 5.0)
        >>> round(measured_snr(clean, noisy), 3)
        5.0

    Notebook: 11_gan_audio_restoration.
    """
    clean = _check_clean(clean)
    snr_db, (low, high) = check_number(snr_db, "snr_db"), SNR_RANGE_DB
    if not low <= snr_db <= high:
        raise ValueError(f"snr_db must be in [{low:g}, {high:g}] dB, got {snr_db:g}")
    return add_noise(clean, noise, snr_db)


def measured_snr(clean: np.ndarray, noisy: np.ndarray) -> float:
    """10 log10(P_clean / P_(noisy - clean)) in dB: the SNR a mixture actually has.

    Args:
        clean: the speech, (time,), not silent.
        noisy: the mixture, (time,), the same length.

    Returns:
        the SNR in dB; inf when noisy equals clean.

    Example:
        >>> clean = np.ones(100, dtype=np.float32)
        >>> round(measured_snr(clean, 1.1 * clean), 3)  # noise power 0.01: 20 dB
        20.0

    Notebook: 11_gan_audio_restoration.
    """
    clean, noisy = _check_clean(clean), check_float_waveform(noisy, "noisy")
    if clean.size != noisy.size:
        raise ValueError(f"noisy must have clean's length {clean.size}, got {noisy.size}")
    noise_power = _power(noisy.astype(np.float64) - clean)
    if noise_power == 0:
        return float("inf")
    return float(10 * np.log10(_power(clean) / noise_power))


def band_limit(clean: np.ndarray, sample_rate=SAMPLE_RATE, low_rate: int = 8_000) -> np.ndarray:
    """Down-sample to `low_rate` and back (windowed sinc): the band above low_rate / 2 is lost.

    Both steps use `SINC_FILTER` (cut-off 0.95 x low_rate / 2, e.g. 3.8 kHz for 8 kHz),
    so the lost band is empty (about 100 dB down) and the band below the cut-off unchanged.
    This is at once the damage of bandwidth extension and the classic baseline's answer
    (sinc interpolation of the low-rate signal).

    Args:
        clean: float32 speech, (time,).
        sample_rate: 16000 Hz.
        low_rate: the lower rate in Hz, 2000 <= low_rate < sample_rate (default 8000).

    Returns:
        float32 (time,): the same length as `clean`.

    Example:
        >>> wave = np.random.default_rng(0).standard_normal(1600).astype(np.float32)
        >>> band_limit(wave).shape
        (1600,)

    Notebook: 11_gan_audio_restoration.
    """
    clean = _check_clean(clean)
    sample_rate = _check_rate(sample_rate)
    low_rate = _check_low_rate(low_rate)
    wave = torch.from_numpy(clean)
    low = AF.resample(wave, sample_rate, low_rate, **SINC_FILTER)
    back = AF.resample(low, low_rate, sample_rate, **SINC_FILTER)
    return pad_or_crop(back.numpy(), clean.size)


def telephone_band(clean: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The phone line of `course_utils.augment.telephone`: 300-3400 Hz band-pass and mu-law.

    Args:
        clean: float32 speech, (time,).
        sample_rate: 16000 Hz.

    Returns:
        float32 (time,).

    Example:
        >>> wave = 0.1 * np.random.default_rng(0).standard_normal(1600).astype(np.float32)
        >>> telephone_band(wave).shape
        (1600,)

    Notebook: 11_gan_audio_restoration.
    """
    return telephone(_check_clean(clean), _check_rate(sample_rate))


@dataclass(frozen=True)
class Degradation:
    """What `degrade` does: the task and the ranges it draws from (uniformly).

    Example:
        >>> Degradation("denoise", snr_db=(-5.0, 5.0)).noise_kinds
        ('white', 'pink', 'brown', 'babble', 'scene')

    Notebook: 11_gan_audio_restoration.
    """

    task: str  # "denoise" or "bandwidth"
    snr_db: tuple[float, float] = (0.0, 10.0)  # denoise: (low, high) dB, within [-10, 40]
    noise_kinds: tuple[str, ...] = NOISE_KINDS  # denoise: the kinds drawn from
    low_rate: int = 8_000  # bandwidth: the rate in Hz the band is limited to

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        low, high = SNR_RANGE_DB
        if len(self.snr_db) != 2 or not low <= self.snr_db[0] <= self.snr_db[1] <= high:
            raise ValueError(f"snr_db must be (low, high) within {SNR_RANGE_DB}, got {self.snr_db}")
        if not self.noise_kinds or not set(self.noise_kinds) <= set(NOISE_KINDS):
            raise ValueError(f"noise_kinds must be some of {NOISE_KINDS}, got {self.noise_kinds}")
        _check_low_rate(self.low_rate)


def degrade(
    clean: np.ndarray, degradation: Degradation, rng: np.random.Generator, voices=None
) -> tuple[np.ndarray, dict]:
    """Damage one clip: noise of a random kind at a random SNR, or a lost high band.

    A damaged clip peaking above 0.99 is scaled down to 0.99 (never clipped) by info["scale"];
    scale the clean target by it too, so the pair stays level-matched.

    Args:
        clean: float32 speech at 16 kHz, (time,), not silent.
        degradation: the task and its ranges.
        rng: the only source of randomness: the same state gives the same bytes.
        voices: other utterances, needed when "babble" is among the noise kinds.

    Returns:
        (damaged, info): float32 (time,); and a dict with "task", "kind" (the noise kind,
        or "band_limit"), "snr_db" (None for bandwidth), "low_rate" (None for denoising)
        and "scale" (1.0 unless the peak was limited).

    Example:
        >>> clean = 0.5 * np.sin(np.arange(16000, dtype=np.float32) * 0.05)
        >>> task = Degradation("denoise", noise_kinds=("white", "pink"))
        >>> noisy, info = degrade(clean, task, np.random.default_rng(0))
        >>> noisy.shape, sorted(info)
        ((16000,), ['kind', 'low_rate', 'scale', 'snr_db', 'task'])

    Notebook: 11_gan_audio_restoration.
    """
    clean = _check_clean(clean)
    if not isinstance(degradation, Degradation):
        raise TypeError(f"degradation must be a Degradation, got {type(degradation).__name__}")
    check_rng(rng)
    info: dict = {"task": degradation.task, "kind": "band_limit", "snr_db": None, "low_rate": None}
    if degradation.task == "denoise":
        if "babble" in degradation.noise_kinds and (voices is None or len(voices) == 0):
            raise ValueError("noise_kinds include 'babble', which needs voices (other utterances)")
        kinds = degradation.noise_kinds
        info["kind"] = str(kinds[int(rng.integers(len(kinds)))])
        info["snr_db"] = float(rng.uniform(*degradation.snr_db))
        noise = make_noise(info["kind"], clean.size, rng, voices=voices)
        damaged = add_noise_at_snr(clean, noise, info["snr_db"])
    else:
        info["low_rate"] = degradation.low_rate
        damaged = band_limit(clean, SAMPLE_RATE, degradation.low_rate)
    peak = float(np.max(np.abs(damaged)))
    info["scale"] = PEAK_LIMIT / peak if peak > PEAK_LIMIT else 1.0
    if info["scale"] != 1.0:
        damaged = damaged * np.float32(info["scale"])
    return damaged, info
