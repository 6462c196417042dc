"""Microphones and recording chains: what a real device does to speech on its way to a file.

Synthetic speech reaches the corpus through a perfect microphone. Real recordings do not:
a small microphone and its housing colour the spectrum with broad resonances, a cheap sound
card records at 8 kHz or runs a low-bit-rate codec, mains hum and a DC offset leak in, and
a loud talker clips the converter. Each function here does one of those things, so the
corpus can train models on speech that sounds recorded (`AugmentConfig.recorded()`).

Numpy, scipy and soundfile only (they run inside the corpus workers). Every function takes
a float32 waveform of shape (time,) and returns a new float32 array of the same length.

Notebook: 06_audio_classification (sections 2 and "Real people") and 08_speech_recognition
(isolated digits, section "Real people").
"""

from __future__ import annotations

import io
import math

import numpy as np
import soundfile as sf
from scipy import signal

from ..core import check_float_waveform, check_number, check_rng, check_sample_rate

__all__ = [
    "CODECS",
    "check_settings",
    "clip_peaks",
    "codec_roundtrip",
    "microphone_response",
    "mains_hum",
    "record",
    "resample_through",
]

# (format, subtype) pairs of libsndfile's lossy codecs, and the sample rates each accepts.
CODECS = {"opus": ("OGG", "OPUS"), "vorbis": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def microphone_response(
    waveform: np.ndarray,
    sample_rate: int,
    rng: np.random.Generator,
    peaks: int = 3,
    max_gain_db: float = 8.0,
) -> np.ndarray:
    """A random microphone: a bass roll-off, a treble tilt and a few broad resonances.

    The roll-off is a 2nd-order high-pass at 50-300 Hz (small capsules lose the bass); the
    tilt is a first-order shelf of +-6 dB above 2 kHz; each resonance is a peaking filter
    (RBJ cookbook) at 200-6000 Hz (log-uniform, below Nyquist), +-`max_gain_db`, Q 0.7-4.

    Args:
        waveform: float32 samples, shape (time,).
        sample_rate: rate in Hz.
        rng: the only source of randomness.
        peaks: number of resonances (default 3).
        max_gain_db: largest boost or cut of a resonance (default 8 dB).

    Returns:
        float32 array of shape (time,), its RMS level equal to the input's.

    Example:
        >>> from course_utils.augment import colored_noise
        >>> x = colored_noise(16000, "white", np.random.default_rng(0)) * 0.1
        >>> microphone_response(x, 16000, np.random.default_rng(1)).shape
        (16000,)
    """
    x = check_float_waveform(waveform).astype(np.float64)
    sample_rate = check_sample_rate(sample_rate)
    check_rng(rng)
    nyquist = sample_rate / 2
    sos = [signal.butter(2, rng.uniform(50, 300), "highpass", fs=sample_rate, output="sos")]
    sos.append(_shelf(min(2000.0, 0.4 * nyquist), rng.uniform(-6, 6), sample_rate))
    for _ in range(peaks):
        centre = math.exp(rng.uniform(math.log(200), math.log(min(6000.0, 0.8 * nyquist))))
        gain = rng.uniform(-max_gain_db, max_gain_db)
        sos.append(_peaking(centre, gain, rng.uniform(0.7, 4.0), sample_rate))
    y = signal.sosfilt(np.concatenate(sos), x)
    return _same_level(y, x)


def _peaking(centre: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    """One peaking-EQ biquad (Bristow-Johnson's cookbook) as a (1, 6) second-order section."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * centre / sample_rate
    alpha = math.sin(w0) / (2 * q)
    b = [1 + alpha * a, -2 * math.cos(w0), 1 - alpha * a]
    den = [1 + alpha / a, -2 * math.cos(w0), 1 - alpha / a]
    return np.array([[*(v / den[0] for v in b), 1.0, den[1] / den[0], den[2] / den[0]]])


def _shelf(corner: float, gain_db: float, sample_rate: int) -> np.ndarray:
    """A first-order high shelf: gain_db above `corner`, unity below, as a (1, 6) section."""
    g = 10 ** (gain_db / 20)
    k = math.tan(math.pi * corner / sample_rate)
    # Bilinear transform of H(s) = (g s + w) / (s + w), w the corner: 1 at DC, g at Nyquist.
    b0, b1, a1 = (g + k) / (1 + k), (k - g) / (1 + k), (k - 1) / (1 + k)
    return np.array([[b0, b1, 0.0, 1.0, a1, 0.0]])


def _same_level(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    rms_x, rms_y = np.sqrt(np.mean(x**2)), np.sqrt(np.mean(y**2))
    scale = rms_x / rms_y if rms_y > 0 else 1.0
    return (y * scale).astype(np.float32)


def resample_through(waveform: np.ndarray, sample_rate: int, device_rate: int) -> np.ndarray:
    """Record at `device_rate` and play back at `sample_rate`: nothing above its Nyquist.

    An 8 kHz recording resampled to 16 kHz (what a model at 16 kHz hears of a phone or an
    old sound card) has no energy above 4 kHz; this produces exactly that.

    Args:
        waveform: float32 samples, shape (time,).
        sample_rate: rate in Hz of `waveform`.
        device_rate: the device's rate in Hz, below `sample_rate` (e.g. 8000 or 11025).

    Returns:
        float32 array of shape (time,).
    """
    x = check_float_waveform(waveform)
    sample_rate, device_rate = check_sample_rate(sample_rate), check_sample_rate(device_rate)
    if device_rate >= sample_rate:
        raise ValueError(f"device_rate must be below sample_rate={sample_rate}, got {device_rate}")
    g = math.gcd(sample_rate, device_rate)
    down = signal.resample_poly(x, device_rate // g, sample_rate // g)
    up = signal.resample_poly(down, sample_rate // g, device_rate // g)
    return _fit_length(up, len(x)).astype(np.float32)


def codec_roundtrip(
    waveform: np.ndarray, sample_rate: int, codec: str = "opus", quality: float = 0.9
) -> np.ndarray:
    """Encode and decode with a lossy codec of libsndfile (through soundfile), in memory.

    Args:
        waveform: float32 samples in [-1, 1], shape (time,).
        sample_rate: rate in Hz (Opus accepts 8, 12, 16, 24 and 48 kHz).
        codec: one of `CODECS`: "opus", "vorbis" or "mp3".
        quality: libsndfile's compression level, 0 (best, highest bit rate) to 1 (lowest).

    Returns:
        float32 array of shape (time,): the decoded audio, its codec delay removed for MP3
        only by length (the start may lag by a few milliseconds, as with a real file).
    """
    x = check_float_waveform(waveform)
    sample_rate = check_sample_rate(sample_rate)
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {sorted(CODECS)}, got {codec!r}")
    quality = check_number(quality, "quality")
    if not 0.0 <= quality <= 1.0:
        raise ValueError(f"quality must be in [0, 1], got {quality}")
    if codec == "opus" and sample_rate not in _OPUS_RATES:
        raise ValueError(f"Opus needs one of {_OPUS_RATES} Hz, got {sample_rate}")
    container, subtype = CODECS[codec]
    if codec == "mp3":
        quality = min(quality, 0.99)  # libsndfile's MP3 encoder refuses exactly 1
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(x, -1, 1), sample_rate, format=container, subtype=subtype,
             compression_level=quality)  # fmt: skip
    buffer.seek(0)
    decoded, _ = sf.read(buffer, dtype="float32")
    return _fit_length(decoded, len(x))


def mains_hum(
    waveform: np.ndarray, sample_rate: int, rng: np.random.Generator,
    level_db_range: tuple[float, float] = (-45.0, -25.0),
) -> np.ndarray:  # fmt: skip
    """Add mains hum (50 or 60 Hz and three harmonics) and a small DC offset.

    Args:
        waveform: float32 samples, shape (time,).
        sample_rate: rate in Hz.
        rng: the only source of randomness.
        level_db_range: the hum's level relative to the speech's RMS, dB (drawn uniformly).

    Returns:
        float32 array of shape (time,).
    """
    x = check_float_waveform(waveform)
    sample_rate = check_sample_rate(sample_rate)
    check_rng(rng)
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    if rms == 0.0:
        return x.copy()
    t = np.arange(len(x)) / sample_rate
    mains = rng.choice([50.0, 60.0])
    phases = rng.uniform(0, 2 * np.pi, size=4)
    hum = sum(np.sin(2 * np.pi * mains * k * t + phases[k - 1]) / k for k in range(1, 5))
    hum *= rms * 10 ** (rng.uniform(*level_db_range) / 20) / np.sqrt(np.mean(hum**2))
    dc = rms * rng.uniform(-0.1, 0.1)
    return (x + hum + dc).astype(np.float32)


def clip_peaks(waveform: np.ndarray, overdrive_db: float) -> np.ndarray:
    """Drive the converter `overdrive_db` past full scale, then clip hard at +-1.

    Args:
        waveform: float32 samples, shape (time,).
        overdrive_db: the peak is first raised to this many dB above 1 (0 keeps it at 1).

    Returns:
        float32 array of shape (time,), values in [-1, 1].

    Example:
        >>> clip_peaks(np.array([0.0, 0.5, -0.125], dtype=np.float32), 6.0).round(3)
        array([ 0.   ,  1.   , -0.499], dtype=float32)
    """
    x = check_float_waveform(waveform)
    overdrive_db = check_number(overdrive_db, "overdrive_db")
    if overdrive_db < 0:
        raise ValueError(f"overdrive_db must be >= 0, got {overdrive_db}")
    peak = float(np.max(np.abs(x)))
    if peak == 0.0:
        return x.copy()
    return np.clip(x * (10 ** (overdrive_db / 20) / peak), -1.0, 1.0).astype(np.float32)


def _fit_length(x: np.ndarray, length: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    return x[:length] if len(x) >= length else np.pad(x, (0, length - len(x)))


def check_settings(config) -> None:
    """Raise ValueError for device settings of an `AugmentConfig` that cannot be applied."""
    if config.device_rate_prob > 0 and not config.device_rates:
        raise ValueError("device_rates is empty but device_rate_prob > 0")
    bad_rates = [r for r in config.device_rates if not (isinstance(r, int) and r >= 4000)]
    if bad_rates:
        raise ValueError(f"device_rates must be integers >= 4000 Hz, got {bad_rates}")
    unknown = [c for c in config.codecs if c not in CODECS]
    if unknown or (config.codec_prob > 0 and not config.codecs):
        raise ValueError(f"codecs must be from {sorted(CODECS)}, got {list(config.codecs)}")
    low, high = config.codec_quality_range
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"codec_quality_range must lie in [0, 1], got {(low, high)}")
    if config.overdrive_db_range[0] < 0:
        raise ValueError(f"overdrive_db_range must be >= 0 dB, got {config.overdrive_db_range}")


def record(
    waveform: np.ndarray, sample_rate: int, config, rng: np.random.Generator, applied: dict
) -> np.ndarray:
    """The device steps after the gain, each with its chance in `config` (an `AugmentConfig`).

    Hum and DC, clipping, a lower device rate, a codec: in that order. A step whose chance
    is 0 draws no random number. What fired is added to `applied` (JSON-ready).
    """
    out = waveform
    if config.hum_prob > 0 and rng.random() < config.hum_prob:
        applied["hum"] = True
        out = mains_hum(out, sample_rate, rng)
    if config.clip_prob > 0 and rng.random() < config.clip_prob:
        applied["overdrive_db"] = float(rng.uniform(*config.overdrive_db_range))
        out = clip_peaks(out, applied["overdrive_db"])
    if config.device_rate_prob > 0 and rng.random() < config.device_rate_prob:
        rates = [r for r in config.device_rates if r < sample_rate]
        if rates:
            applied["device_rate"] = int(rates[int(rng.integers(len(rates)))])
            out = resample_through(out, sample_rate, applied["device_rate"])
    if config.codec_prob > 0 and rng.random() < config.codec_prob:
        codecs = [c for c in config.codecs if c != "opus" or sample_rate in _OPUS_RATES]
        if codecs:
            applied["codec"] = str(codecs[int(rng.integers(len(codecs)))])
            applied["codec_quality"] = round(float(rng.uniform(*config.codec_quality_range)), 2)
            peak = max(float(np.max(np.abs(out))), 1.0)  # codecs take [-1, 1]
            out = codec_roundtrip(out / peak, sample_rate, applied["codec"],
                                  applied["codec_quality"]) * np.float32(peak)  # fmt: skip
    return out
