"""Log-mel spectrograms, MFCCs and deltas: the frames every model in the course attends over.

Built on torchaudio's transforms with settings chosen to match librosa's defaults (Slaney mel
scale and filter normalisation, power spectrogram, reflect padding, centred frames), so the
lessons can put the two side by side and get the same numbers. Features keep torchaudio's
layout (..., n_mels, frames); sequence models transpose once, at their input.

Shapes: B batch, M mel bands, T frames.

Notebook: 05_audio_features_and_data.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio.functional as AF
import torchaudio.transforms as T
from torch import nn

from ..attention import padding_mask
from ..core import check_sample_rate, check_waveform

__all__ = [
    "LogMel",
    "MFCC",
    "log_mel_spectrogram",
    "mfcc",
    "deltas",
    "num_frames",
    "frame_lengths",
    "standardize",
]


def _check_positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class LogMel(nn.Module):
    """Log-mel spectrogram in dB: `MelSpectrogram` (power 2, Slaney) then `AmplitudeToDB`.

    Args:
        sample_rate: rate of the input in Hz (default 16000).
        n_fft: FFT size and window length in samples (default 400, 25 ms at 16 kHz).
        hop_length: samples between frames (default 160, 10 ms at 16 kHz).
        n_mels: number of mel bands (default 40).
        f_min: lowest band edge in Hz (default 0).
        f_max: highest band edge in Hz; None (default) means sample_rate / 2.
        top_db: floor each (n_mels, frames) matrix at its maximum minus `top_db` dB
            (default 80, as librosa); None keeps the full range down to -100 dB.

    Shapes:
        waveform (time,), (batch, time) or (batch, channels, time) ->
        (n_mels, frames), (batch, n_mels, frames) or (batch, channels, n_mels, frames),
        with frames = 1 + time // hop_length.

    Example:
        >>> LogMel()(torch.randn(2, 16000)).shape
        torch.Size([2, 40, 101])

    Notebook: 05_audio_features_and_data.
    """

    def __init__(
        self,
        sample_rate: int = 16_000,
        n_fft: int = 400,
        hop_length: int = 160,
        n_mels: int = 40,
        f_min: float = 0.0,
        f_max: float | None = None,
        top_db: float | None = 80.0,
    ) -> None:
        super().__init__()
        sample_rate = check_sample_rate(sample_rate)
        self.n_fft = _check_positive_int(n_fft, "n_fft")
        self.hop_length = _check_positive_int(hop_length, "hop_length")
        self.n_mels = _check_positive_int(n_mels, "n_mels")
        f_max = sample_rate / 2 if f_max is None else f_max
        if not 0.0 <= f_min < f_max <= sample_rate / 2:
            raise ValueError(
                f"need 0 <= f_min < f_max <= sample_rate / 2 = {sample_rate / 2:g} Hz, "
                f"got f_min={f_min}, f_max={f_max}"
            )
        if top_db is not None and top_db <= 0:
            raise ValueError(f"top_db must be positive or None, got {top_db}")
        self.sample_rate = sample_rate
        self.mel = T.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
            f_min=f_min, f_max=f_max, power=2.0, center=True, pad_mode="reflect",
            norm="slaney", mel_scale="slaney",
        )  # fmt: skip
        self.to_db = T.AmplitudeToDB(stype="power", top_db=top_db)  # ref 1.0, amin 1e-10

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """(time,) / (batch, time) / (batch, channels, time) -> (..., n_mels, frames) in dB."""
        check_waveform(waveform, ndims=(1, 2, 3))
        if waveform.shape[-1] < self.n_fft:
            raise ValueError(
                f"waveform has {waveform.shape[-1]} samples, fewer than n_fft={self.n_fft}; "
                f"pad it or choose a smaller n_fft"
            )
        waveform = torch.as_tensor(waveform)
        if not waveform.is_floating_point():
            waveform = waveform.to(torch.float32)
        power = self.mel(waveform)  # (..., n_mels, frames)
        # AmplitudeToDB applies top_db over the last three dims, so a (batch, n_mels, frames)
        # batch would share one floor set by its loudest clip. A singleton axis gives every
        # (n_mels, frames) matrix its own floor, as librosa.power_to_db does per clip.
        return self.to_db(power.unsqueeze(-3)).squeeze(-3)  # (..., n_mels, frames)


class MFCC(nn.Module):
    """MFCCs: an orthonormal type-II DCT over the mel bands of `LogMel`'s dB output.

    This is what `torchaudio.transforms.MFCC(dct_type=2, norm="ortho", log_mels=False)`
    computes, with `top_db` configurable (torchaudio fixes it at 80) and the floor taken
    per clip. It equals `librosa.feature.mfcc(y=..., sr, n_mfcc, n_fft, hop_length, n_mels,
    center=True, pad_mode="reflect", dct_type=2, norm="ortho")` (whose log is
    `power_to_db(top_db=80)`, Slaney mel) within 1e-3 in float32 (about 1e-4 measured).

    Args:
        n_mfcc: number of coefficients kept (default 13); at most n_mels.
        sample_rate, n_fft, hop_length, n_mels, f_min, f_max, top_db: as `LogMel`.

    Shapes:
        (..., time) -> (..., n_mfcc, frames).

    Example:
        >>> MFCC()(torch.randn(16000)).shape
        torch.Size([13, 101])

    Notebook: 05_audio_features_and_data.
    """

    def __init__(
        self,
        sample_rate: int = 16_000,
        n_mfcc: int = 13,
        n_fft: int = 400,
        hop_length: int = 160,
        n_mels: int = 40,
        f_min: float = 0.0,
        f_max: float | None = None,
        top_db: float | None = 80.0,
    ) -> None:
        super().__init__()
        self.log_mel = LogMel(sample_rate, n_fft, hop_length, n_mels, f_min, f_max, top_db)
        n_mfcc = _check_positive_int(n_mfcc, "n_mfcc")
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc ({n_mfcc}) cannot exceed n_mels ({n_mels})")
        self.n_mfcc = n_mfcc
        self.register_buffer("dct_mat", AF.create_dct(n_mfcc, n_mels, norm="ortho"))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """(..., time) -> (..., n_mfcc, frames)."""
        log_mel = self.log_mel(waveform)  # (..., n_mels, frames)
        coefficients = log_mel.transpose(-1, -2) @ self.dct_mat  # (..., frames, n_mfcc)
        return coefficients.transpose(-1, -2)  # (..., n_mfcc, frames)


def _prepared(module: nn.Module, waveform: np.ndarray | torch.Tensor):
    """Tensor of `waveform` and `module` moved to its device and floating dtype."""
    check_waveform(waveform, ndims=(1, 2, 3))
    waveform = torch.as_tensor(waveform)
    if not waveform.is_floating_point():
        waveform = waveform.to(torch.float32)
    return module.to(device=waveform.device, dtype=waveform.dtype), waveform


def log_mel_spectrogram(
    waveform: np.ndarray | torch.Tensor,
    sample_rate: int = 16_000,
    n_fft: int = 400,
    hop_length: int = 160,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """Log-mel spectrogram in dB, on the input's device and dtype (see `LogMel`).

    Returns:
        (..., n_mels, frames), e.g. (batch, n_mels, frames), frames = 1 + time // hop_length.
        Equal to ``librosa.power_to_db(librosa.feature.melspectrogram(y=..., sr, n_fft,
        hop_length, n_mels, center=True, pad_mode="reflect"), top_db=top_db)``.

    Example:
        >>> log_mel_spectrogram(torch.randn(4, 16000), n_mels=64).shape
        torch.Size([4, 64, 101])

    Notebook: 05_audio_features_and_data.
    """
    module = LogMel(sample_rate, n_fft, hop_length, n_mels, f_min, f_max, top_db)
    module, waveform = _prepared(module, waveform)
    return module(waveform)


def mfcc(
    waveform: np.ndarray | torch.Tensor,
    sample_rate: int = 16_000,
    n_mfcc: int = 13,
    n_fft: int = 400,
    hop_length: int = 160,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """MFCCs on the input's device and dtype (see `MFCC` for the librosa-equal settings).

    Returns:
        (..., n_mfcc, frames), e.g. (batch, n_mfcc, frames).

    Example:
        >>> mfcc(torch.randn(16000)).shape
        torch.Size([13, 101])

    Notebook: 05_audio_features_and_data.
    """
    module = MFCC(sample_rate, n_mfcc, n_fft, hop_length, n_mels, f_min, f_max, top_db)
    module, waveform = _prepared(module, waveform)
    return module(waveform)


def deltas(features: torch.Tensor, win_length: int = 5) -> torch.Tensor:
    """Time derivative of features by linear regression over `win_length` frames.

    Args:
        features: (..., n_features, frames), e.g. (batch, n_mfcc, frames).
        win_length: odd window length in frames, at least 3 (default 5, torchaudio's
            default; `librosa.feature.delta` uses width=9 and interpolates at the edges).

    Returns:
        tensor of the input's shape; the edges repeat the first and last frames.

    Example:
        >>> deltas(torch.arange(10.0).repeat(13, 1))[0, 3]
        tensor(1.)

    Notebook: 05_audio_features_and_data.
    """
    features = torch.as_tensor(features)
    if features.ndim < 2 or features.shape[-1] == 0:
        raise ValueError(
            f"features must have shape (..., n_features, frames) with frames > 0, "
            f"got {tuple(features.shape)}"
        )
    if not isinstance(win_length, (int, np.integer)) or win_length < 3 or win_length % 2 == 0:
        raise ValueError(f"win_length must be an odd integer >= 3, got {win_length!r}")
    if not features.is_floating_point():
        features = features.to(torch.float32)
    return AF.compute_deltas(features, win_length=int(win_length))


def num_frames(
    num_samples: int, hop_length: int, center: bool = True, n_fft: int | None = None
) -> int:
    """Number of STFT frames for a clip of `num_samples` samples.

    Args:
        num_samples: clip length in samples.
        hop_length: samples between frames.
        center: frames centred on t * hop_length with padding (default True, as here and
            in librosa): 1 + num_samples // hop_length. If False, frames must fit inside
            the clip: 1 + (num_samples - n_fft) // hop_length, which needs `n_fft`.
        n_fft: window length; required only when center is False.

    Example:
        >>> num_frames(16000, 160)
        101

    Notebook: 05_audio_features_and_data.
    """
    hop_length = _check_positive_int(hop_length, "hop_length")
    if num_samples < 0:
        raise ValueError(f"num_samples must be >= 0, got {num_samples}")
    if center:
        return 1 + int(num_samples) // hop_length
    if n_fft is None:
        raise ValueError("num_frames(center=False) needs n_fft")
    n_fft = _check_positive_int(n_fft, "n_fft")
    return max(0, 1 + (int(num_samples) - n_fft) // hop_length)


def frame_lengths(lengths: torch.Tensor, hop_length: int) -> torch.Tensor:
    """Valid frames per clip of a padded batch, from its valid sample counts (center=True).

    Args:
        lengths: (batch,) integer sample counts before padding.
        hop_length: samples between frames.

    Returns:
        (batch,) int64 tensor on `lengths`' device: 1 + lengths // hop_length.

    Example:
        >>> frame_lengths(torch.tensor([16000, 8000]), 160)
        tensor([101,  51])

    Notebook: 05_audio_features_and_data.
    """
    hop_length = _check_positive_int(hop_length, "hop_length")
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or lengths.is_floating_point() or (lengths < 0).any():
        raise ValueError(
            f"lengths must be a (batch,) tensor of non-negative integers, got "
            f"{lengths.dtype} {tuple(lengths.shape)}"
        )
    return 1 + lengths.to(torch.int64) // hop_length


def standardize(
    features: torch.Tensor,
    lengths: torch.Tensor | None = None,
    per_band: bool = False,
    validate: bool = True,
) -> torch.Tensor:
    """Give each clip zero mean and unit variance over its valid frames (padding becomes 0).

    Per-clip statistics make a model blind to the recording level and microphone gain, which
    matters when it meets real recordings after training on synthetic speech. With
    `per_band`, each mel band of each clip gets its own mean and variance over the clip's
    frames (lesson 07's detectors: a scene's background sets each band's reference).

    Args:
        features: (batch, n_mels, frames).
        lengths: (batch,) valid frames of each clip; None means all.
        per_band: statistics per (clip, band) over frames, instead of per clip over all
            bands and frames (default False).
        validate: check `lengths` against the frames (default True; see `padding_mask`).

    Example:
        >>> x = standardize(torch.randn(2, 40, 101) * 5 + 3)
        >>> abs(x.mean().item()) < 1e-4, round(x.std().item(), 2)
        (True, 1.0)

    Notebook: 06_audio_classification (and 07_sound_event_detection, per band).
    """
    batch, n_mels, frames = features.shape
    if lengths is None:
        valid = torch.ones(batch, 1, frames, dtype=torch.bool, device=features.device)
    else:
        valid = ~padding_mask(lengths, frames, validate)[:, None]  # (B, 1, T), True = valid
    over = (2,) if per_band else (1, 2)  # frames, or bands and frames
    count = valid.sum(dim=(1, 2), keepdim=True) * (1 if per_band else n_mels)  # (B, 1, 1)
    mean = (features * valid).sum(dim=over, keepdim=True) / count  # (B, M or 1, 1)
    var = (((features - mean) * valid) ** 2).sum(dim=over, keepdim=True) / count
    return torch.where(valid, (features - mean) / (var + 1e-5).sqrt(), 0.0)
