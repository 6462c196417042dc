"""Input checks shared by the package: clear errors that say what was expected.

Every public function that takes audio calls these first, so a learner who passes a
(channels, time) tensor where (time,) was expected, an empty clip, NaNs or an odd sample
rate gets one readable sentence instead of a stack trace from deep inside torch.

Notebook: 00_welcome_and_setup (section "When something goes wrong").
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "check_features",
    "check_float_waveform",
    "check_integer",
    "check_lengths",
    "check_number",
    "check_rng",
    "check_sample_rate",
    "check_shape",
    "check_waveform",
]

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4_000, 192_000


def check_sample_rate(sample_rate: int, name: str = "sample_rate") -> int:
    """Return `sample_rate` as an int, or raise ValueError if it is not a usable audio rate.

    Args:
        sample_rate: rate in Hz; an integer from 4000 to 192000.
        name: the argument's name, used in the message.

    Example:
        >>> check_sample_rate(16000)
        16000
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer, float)):
        raise ValueError(f"{name} must be an integer number of Hz, got {sample_rate!r}")
    if int(sample_rate) != sample_rate:
        raise ValueError(f"{name} must be an integer number of Hz, got {sample_rate!r}")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ValueError(
            f"unsupported {name} {sample_rate} Hz; expected {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        )
    return int(sample_rate)


def check_waveform(
    waveform: np.ndarray | torch.Tensor,
    name: str = "waveform",
    ndims: tuple[int, ...] = (1,),
    values: bool = True,
) -> None:
    """Raise ValueError unless `waveform` is a non-empty, finite, real array of an allowed rank.

    Args:
        waveform: numpy array or torch tensor of samples, e.g. (time,) or (channels, time).
        name: the argument's name, used in the message.
        ndims: allowed numbers of dimensions; the message spells them out as shapes.
        values: also check that every sample is finite (default True). That reads the tensor
            back, a GPU-to-CPU sync: code run at every training step passes False and leaves
            the check to its public entry point.

    Example:
        >>> check_waveform(np.zeros(160, dtype=np.float32))
    """
    shapes = {1: "(time,)", 2: "(channels, time) or (batch, time)", 3: "(batch, channels, time)"}
    if not isinstance(waveform, (np.ndarray, torch.Tensor)):
        raise TypeError(
            f"{name} must be a numpy array or torch tensor, got {type(waveform).__name__}"
        )
    if waveform.ndim not in ndims:
        expected = " or ".join(shapes.get(n, f"{n}-D") for n in ndims)
        raise ValueError(f"{name} must have shape {expected}, got {tuple(waveform.shape)}")
    if waveform.shape[-1] == 0:
        raise ValueError(f"{name} is empty: it has shape {tuple(waveform.shape)}, with no samples")
    is_tensor = isinstance(waveform, torch.Tensor)
    floating = (
        waveform.is_floating_point() if is_tensor else np.issubdtype(waveform.dtype, np.floating)
    )
    if not floating and not (is_tensor or np.issubdtype(waveform.dtype, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {waveform.dtype}")
    if floating and values:
        finite = torch.isfinite(waveform).all().item() if is_tensor else np.isfinite(waveform).all()
        if not finite:
            raise ValueError(f"{name} contains NaN or infinite samples; clean or re-load the audio")


def check_shape(tensor: np.ndarray | torch.Tensor, shape: tuple, name: str = "tensor") -> None:
    """Raise ValueError unless `tensor.shape` matches `shape`; None in `shape` matches any size.

    Example:
        >>> check_shape(torch.zeros(2, 40, 101), (2, 40, None), "features")
    """
    actual = tuple(tensor.shape)
    ok = len(actual) == len(shape) and all(
        e is None or e == a for e, a in zip(shape, actual, strict=True)
    )
    if not ok:
        expected = "(" + ", ".join("*" if e is None else str(e) for e in shape) + ")"
        raise ValueError(f"{name} must have shape {expected}, got {actual}")


def check_lengths(
    lengths: torch.Tensor, batch: int, frames: int, values: bool = True, name: str = "lengths"
) -> None:
    """Raise ValueError unless `lengths` is (batch,) and, with `values`, each is in [1, frames].

    Args:
        lengths: (batch,) valid frames of each example of a padded batch.
        batch, frames: the batch size and padded length of the features they describe.
        values: also check the numbers (default True); that reads the tensor back, a
            GPU-to-CPU sync, so a model's `forward` passes False (see `check_features`).
        name: the argument's name, used in the message.

    Example:
        >>> check_lengths(torch.tensor([101, 80]), batch=2, frames=101)
    """
    if not isinstance(lengths, torch.Tensor) or tuple(lengths.shape) != (batch,):
        shape = tuple(lengths.shape) if isinstance(lengths, torch.Tensor) else type(lengths)
        raise ValueError(f"{name} must have shape (batch,) = ({batch},), got {shape}")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor of frame counts, got {lengths.dtype}")
    if values and batch and (int(lengths.min()) < 1 or int(lengths.max()) > frames):
        raise ValueError(f"{name} must be in [1, frames={frames}], got {lengths.tolist()}")


def check_features(
    features: torch.Tensor,
    n_mels: int,
    lengths: torch.Tensor | None = None,
    values: bool = True,
    name: str = "features",
) -> None:
    """Raise ValueError unless `features` is (batch, n_mels, frames) and `lengths` fits it.

    Shapes are always checked; that reads no tensor. With `values` (default) the numbers are
    checked too: every feature finite, every length in [1, frames]. That reads the tensors
    back, a GPU-to-CPU sync per call, so models check shapes only inside `forward` (``values=
    False``) and their public entry points (the recipes, `predict`, `recognize`) check the
    values once.

    Args:
        features: (batch, n_mels, frames) float tensor, as `LogMel` returns a batch.
        n_mels: the number of mel bands expected.
        lengths: optional (batch,) valid frames of each example.
        values: also check the numbers (default True).
        name: the argument's name, used in the messages.

    Example:
        >>> check_features(torch.zeros(2, 40, 101), 40, torch.tensor([101, 80]))
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 3 or features.shape[1] != n_mels:
        shape = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features)
        raise ValueError(f"expected {name} of shape (batch, n_mels={n_mels}, frames), got {shape}")
    if lengths is not None:
        check_lengths(lengths, features.shape[0], features.shape[-1], values)
    if values and not torch.isfinite(features).all():
        raise ValueError(f"{name} contain NaN or inf")


def check_float_waveform(waveform: np.ndarray, name: str = "waveform") -> np.ndarray:
    """Validate a (time,) float array and return it as float32 (no copy when it already is)."""
    if not isinstance(waveform, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array of shape (time,), got {type(waveform).__name__}"
            " (augmentation is numpy-only; convert a tensor with .numpy())"
        )
    check_waveform(waveform, name)
    if not np.issubdtype(waveform.dtype, np.floating):
        raise TypeError(
            f"{name} must hold float samples in [-1, 1], got dtype {waveform.dtype}"
            " (convert int16 PCM with samples / 32768)"
        )
    return waveform.astype(np.float32, copy=False)


def check_number(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def check_integer(value: int, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_rng(rng: np.random.Generator) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, e.g. np.random.default_rng(seed), got {rng!r}"
        )
