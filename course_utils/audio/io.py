"""Audio in and out: load, save, resample, mix down, normalise and play clips.

Waveforms are float32 torch tensors shaped (time,) or (channels, time), the layout torchaudio
uses. File I/O goes through `soundfile` (libsndfile: WAV, FLAC, OGG and friends) rather than
`torchaudio.load`, which in torchaudio 2.9+ needs TorchCodec and an FFmpeg install that a
learner's laptop may not have. torchaudio is used only for its signal processing.

Notebook: 00_welcome_and_setup (and 05_audio_features_and_data for resampling).
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF
from scipy import signal

from ..core import atomic_write, check_sample_rate, check_waveform

__all__ = [
    "load_audio",
    "normalize",
    "play",
    "resample",
    "resampling_filter",
    "rms_db",
    "save_audio",
    "to_mono",
]

_EXPECTED_FORMATS = "WAV, FLAC or OGG (read with soundfile/libsndfile)"
_MAX_CHANNELS = 32  # more "channels" than this is almost surely a (time, channels) array
_AMIN = 1e-10  # power floor for rms_db, as librosa.power_to_db: silence reads -100 dB


def _as_float_tensor(waveform: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Torch view of `waveform`, cast to float32 unless it already is floating point."""
    tensor = torch.as_tensor(waveform)
    return tensor if tensor.is_floating_point() else tensor.to(torch.float32)


def load_audio(
    path: str | os.PathLike, sample_rate: int | None = None, mono: bool = True
) -> tuple[torch.Tensor, int]:
    """Read an audio file into a float32 tensor, optionally mixed to mono and resampled.

    Args:
        path: a WAV, FLAC or OGG file (anything libsndfile reads).
        sample_rate: rate in Hz to resample to; None (default) keeps the file's rate.
        mono: average the channels into one (default True).

    Returns:
        (waveform, sample_rate): waveform is float32 in [-1, 1], shaped (time,) if `mono`
        else (channels, time); sample_rate is the rate of the returned waveform.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not readable audio, or holds no samples.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.gettempdir(), "beep.wav")
        >>> save_audio(path, torch.zeros(1600), 16000, overwrite=True)
        >>> waveform, sr = load_audio(path, sample_rate=8000)
        >>> tuple(waveform.shape), sr
        ((800,), 8000)

    Notebook: 00_welcome_and_setup.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no audio file at {path}")
    if not path.is_file():
        raise ValueError(f"{path} is not a file; expected a {_EXPECTED_FORMATS} file")
    try:
        data, file_rate = sf.read(path, dtype="float32", always_2d=True)  # (time, channels)
    except sf.LibsndfileError as error:
        raise ValueError(
            f"could not read {path} as audio ({error.error_string}); "
            f"expected a {_EXPECTED_FORMATS} file"
        ) from error
    if data.shape[0] == 0:
        raise ValueError(f"{path} holds no audio samples (0 frames)")
    waveform = torch.from_numpy(np.ascontiguousarray(data.T))  # (channels, time)
    if mono:
        waveform = to_mono(waveform)  # (time,)
    if sample_rate is not None:
        waveform = resample(waveform, file_rate, sample_rate)
        file_rate = check_sample_rate(sample_rate)
    return waveform, int(file_rate)


def save_audio(
    path: str | os.PathLike,
    waveform: np.ndarray | torch.Tensor,
    sample_rate: int,
    overwrite: bool = False,
    subtype: str | None = "PCM_16",
) -> None:
    """Write a waveform to an audio file atomically, never replacing a file unasked.

    The container comes from the file suffix (``.wav``, ``.flac``, ``.ogg``). Integer
    subtypes clip samples outside [-1, 1]; a warning says so (call `normalize` first).

    Args:
        path: destination; its folder is created if missing.
        waveform: (time,) or (channels, time), torch tensor or numpy array, in [-1, 1].
        sample_rate: rate in Hz.
        overwrite: replace an existing file (default False raises `FileExistsError`).
        subtype: sample encoding, e.g. "PCM_16" (default), "PCM_24", "FLOAT", "VORBIS";
            None picks the container's default (VORBIS for OGG).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.gettempdir(), "silence.flac")
        >>> save_audio(path, torch.zeros(2, 160), 16000, overwrite=True)

    Notebook: 00_welcome_and_setup.
    """
    check_waveform(waveform, ndims=(1, 2))
    sample_rate = check_sample_rate(sample_rate)
    if waveform.ndim == 2 and waveform.shape[0] > _MAX_CHANNELS:
        raise ValueError(
            f"waveform must be (channels, time) with at most {_MAX_CHANNELS} channels, got "
            f"shape {tuple(waveform.shape)}; if it is (time, channels), transpose it first"
        )
    path = Path(path)
    # The temporary file from atomic_write ends in .tmp, so name the container explicitly.
    file_format = path.suffix.lstrip(".").upper()
    if file_format not in sf.available_formats():
        raise ValueError(
            f"cannot tell the audio format from {path.name!r}; use a suffix such as "
            f".wav, .flac or .ogg"
        )
    subtype = subtype or sf.default_subtype(file_format)
    if not sf.check_format(file_format, subtype):
        raise ValueError(
            f"subtype {subtype!r} cannot be stored in a {file_format} file; valid: "
            f"{sorted(sf.available_subtypes(file_format))} (or subtype=None for the default)"
        )
    data = _as_float_tensor(waveform).detach().cpu().to(torch.float32).numpy()
    data = np.atleast_2d(data).T  # soundfile wants (time, channels)
    if subtype.startswith(("PCM", "ULAW", "ALAW")) and np.abs(data).max() > 1.0:
        warnings.warn(
            f"waveform peaks at {np.abs(data).max():.3f}; samples outside [-1, 1] will be "
            f"clipped in {subtype}. Call normalize() first or use subtype='FLOAT'",
            stacklevel=2,
        )
    with atomic_write(path, overwrite=overwrite) as tmp:
        sf.write(tmp, data, sample_rate, subtype=subtype, format=file_format)


def resample(
    waveform: np.ndarray | torch.Tensor, orig_sample_rate: int, new_sample_rate: int
) -> torch.Tensor:
    """Change the sample rate with torchaudio's windowed-sinc (band-limited) resampler.

    Args:
        waveform: (..., time), e.g. (time,), (channels, time) or (batch, channels, time).
        orig_sample_rate: current rate in Hz.
        new_sample_rate: wanted rate in Hz.

    Returns:
        (..., new_time) tensor with new_time = ceil(time * new / orig); the input (as a
        tensor) unchanged when the rates are equal.

    Example:
        >>> resample(torch.zeros(22050), 22050, 16000).shape
        torch.Size([16000])

    Notebook: 05_audio_features_and_data.
    """
    check_waveform(waveform, ndims=(1, 2, 3))
    orig = check_sample_rate(orig_sample_rate, "orig_sample_rate")
    new = check_sample_rate(new_sample_rate, "new_sample_rate")
    tensor = _as_float_tensor(waveform)
    if orig == new:
        return tensor
    return AF.resample(tensor, orig, new)


@functools.lru_cache(maxsize=256)
def resampling_filter(up: int, down: int, dtype: str = "float64") -> np.ndarray:
    """The low-pass FIR `scipy.signal.resample_poly` designs for up / down, designed once.

    `resample_poly` designs this filter (a Kaiser-windowed sinc, beta 5, 20 taps per phase of
    the larger rate) on every call; the corpus resamples thousands of clips at a few ratios,
    so the filter is designed once per ratio and passed as its `window`. Numpy only (the
    corpus workers use it without torch): `resample` above is the torch path.

    Args:
        up, down: the resampling factors, e.g. 16000 / 22050 reduced to 320 / 441.
        dtype: numpy dtype of the taps (default "float64", what scipy designs).

    Returns:
        read-only taps, (20 * max(up, down) + 1,).

    Example:
        >>> taps = resampling_filter(2, 3)
        >>> taps.shape, bool(np.allclose(taps.sum(), 1.0, atol=1e-3))
        ((61,), True)

    Notebook: 05_audio_features_and_data.
    """
    max_rate = max(up, down)
    taps = signal.firwin(20 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    taps = taps.astype(dtype, copy=False)
    taps.flags.writeable = False
    return taps


def to_mono(waveform: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Average the channels of a (channels, time) waveform into (time,).

    Args:
        waveform: (channels, time) or (time,); a (time,) input is returned unchanged.

    Returns:
        (time,) tensor.

    Example:
        >>> to_mono(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        tensor([0.5000, 0.5000])

    Notebook: 00_welcome_and_setup.
    """
    check_waveform(waveform, ndims=(1, 2))
    tensor = _as_float_tensor(waveform)
    return tensor if tensor.ndim == 1 else tensor.mean(dim=0)


def normalize(waveform: np.ndarray | torch.Tensor, peak: float = 0.95) -> torch.Tensor:
    """Scale a waveform so that its largest absolute sample equals `peak`.

    Args:
        waveform: (time,) or (channels, time); all channels share one gain.
        peak: target peak in (0, 1] (default 0.95 leaves headroom against clipping).

    Returns:
        tensor of the input's shape.

    Raises:
        ValueError: the waveform is silent (all zeros): there is no gain that would work.

    Example:
        >>> normalize(torch.tensor([0.1, -0.2]), peak=0.5)
        tensor([ 0.2500, -0.5000])

    Notebook: 00_welcome_and_setup.
    """
    check_waveform(waveform, ndims=(1, 2))
    if not 0.0 < peak <= 1.0:
        raise ValueError(f"peak must be in (0, 1], got {peak}")
    tensor = _as_float_tensor(waveform)
    current = tensor.abs().max()
    if current == 0:
        raise ValueError("waveform is silent (all zeros), cannot normalise it")
    return tensor * (peak / current)


def rms_db(waveform: np.ndarray | torch.Tensor) -> float:
    """Root-mean-square level in dB relative to full scale (a full-scale sine is -3.01 dB).

    Args:
        waveform: (time,) or (channels, time); the mean runs over every sample.

    Returns:
        level in dB; silence reads -100 dB (power floored at 1e-10, as librosa does) so
        that gains computed from it stay finite.

    Example:
        >>> round(rms_db(torch.ones(100)), 2)
        0.0

    Notebook: 05_audio_features_and_data.
    """
    check_waveform(waveform, ndims=(1, 2))
    tensor = _as_float_tensor(waveform).to(torch.float64)
    power = tensor.square().mean().clamp(min=_AMIN)
    return float(10.0 * torch.log10(power))


def play(waveform: np.ndarray | torch.Tensor, sample_rate: int, max_seconds: float = 10.0):
    """Make a notebook audio player from samples in memory (never from a file name).

    Args:
        waveform: (time,) or (channels, time), torch tensor or numpy array.
        sample_rate: rate in Hz.
        max_seconds: longer clips are cut to this length, with a warning (default 10),
            so a notebook does not embed minutes of base64 audio.

    Returns:
        `IPython.display.Audio`; it plays when it is the last expression of a cell.

    Example:
        >>> player = play(torch.zeros(1600), 16000)

    Notebook: 00_welcome_and_setup.
    """
    from IPython.display import Audio  # only notebooks need it; keep `import` light

    check_waveform(waveform, ndims=(1, 2))
    sample_rate = check_sample_rate(sample_rate)
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")
    data = _as_float_tensor(waveform).detach().cpu().to(torch.float32).numpy()
    max_samples = int(max_seconds * sample_rate)
    if data.shape[-1] > max_samples:
        warnings.warn(
            f"clip is {data.shape[-1] / sample_rate:.1f} s long; playing the first "
            f"{max_seconds:g} s (raise max_seconds to hear more)",
            stacklevel=2,
        )
        data = data[..., :max_samples]
    # IPython divides by the peak when normalising: silence would become NaN noise.
    silent = not np.abs(data).max() > 0
    return Audio(data=data, rate=sample_rate, normalize=not silent)
