"""How a learner's result differs from the reference's: structure and shapes, then values.

Results may be torch tensors, NumPy arrays, numbers, booleans, strings, or lists and tuples
of them. A top-level tuple is several outputs (named by the exercise's `outputs`), which a
list or a 1-D tensor or array may stand for (`tensor([start, stop])`); a list, or a tuple
inside a result, is one output with several items. Numbers compare with a tolerance that
float32 meets; whole numbers given as ints compare exactly. Messages use types, shapes and
words, never the expected values.

Notebook: 00_welcome_and_setup (section "Exercises that check themselves").
"""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any

import numpy as np
import torch

__all__ = ["clone", "describe", "difference", "layout", "same_inputs", "to_device"]

_SEQUENCES = (list, tuple)


def to_device(args: tuple, device: Any) -> tuple:
    """Move the tensors of `args` to `device` (None leaves them where they are)."""
    if device is None:
        return tuple(args)
    return tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)


def clone(args: tuple) -> tuple:
    """A copy of `args` for one caller, so an in-place edit cannot leak into another's."""
    return tuple(
        a.clone() if isinstance(a, torch.Tensor) else a.copy() if isinstance(a, np.ndarray)
        else copy.deepcopy(a)
        for a in args
    )  # fmt: skip


def same_inputs(before: tuple, after: tuple) -> bool:
    """Whether the learner left its inputs as they were."""
    for a, b in zip(before, after, strict=True):
        if isinstance(a, torch.Tensor):
            if not torch.equal(a, b):
                return False
        elif isinstance(a, np.ndarray):
            if not np.array_equal(a, b):
                return False
        else:
            try:
                if not bool(a == b):
                    return False
            except Exception:  # an object that cannot be compared: trust it
                pass
    return True


def describe(args: tuple, names: list[str]) -> str:
    """Name the inputs by their shapes (tensors, large arrays) or short values, not contents."""
    parts = []
    for i, arg in enumerate(args):
        label = names[i] if i < len(names) else f"argument {i}"
        if isinstance(arg, torch.Tensor) or (isinstance(arg, np.ndarray) and arg.size > 12):
            parts.append(f"{label} of shape {tuple(arg.shape)}")
        else:
            text = repr(arg.tolist() if isinstance(arg, np.ndarray) else arg)
            parts.append(f"{label}={text if len(text) <= 100 else text[:96] + ' ...'}")
    return ", ".join(parts)


def _scalar(x: Any) -> Any:
    """A one-element tensor or array, or a NumPy scalar, as a Python number."""
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        return x.item()
    if isinstance(x, (np.ndarray, np.generic)) and x.size == 1:
        return x.item()
    return x


def _whole(value: float) -> bool:
    """Whether value is a whole number, up to float32 rounding (2.9999998 counts as 3)."""
    return math.isfinite(value) and abs(value - round(value)) <= 1e-6 * max(1.0, abs(value))


def _unpacked(got: Any, expected: Any) -> Any:
    """A 1-D tensor or array given for a tuple of numbers, e.g. tensor([start, stop])."""
    if isinstance(expected, tuple) and isinstance(got, (torch.Tensor, np.ndarray)):
        return list(got) if got.ndim == 1 else got
    return got


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _kind(expected: Any) -> str:
    if isinstance(expected, torch.Tensor):
        return "tensor"
    if isinstance(expected, np.ndarray):
        return "array"
    if isinstance(expected, (bool, np.bool_)):
        return "bool"
    if isinstance(expected, numbers.Integral):
        return "int"
    if isinstance(expected, numbers.Real):
        return "float"
    if isinstance(expected, str):
        return "str"
    if isinstance(expected, _SEQUENCES):
        return "sequence"
    return "other"


def _leaf_layout(got: Any, expected: Any, label: str) -> str | None:
    kind = _kind(expected)
    if kind == "tensor":
        if not isinstance(got, torch.Tensor):
            return f"{label} should be a torch.Tensor, got {type(got).__name__}"
        if got.shape != expected.shape:
            return f"{label} has shape {tuple(got.shape)}, expected shape {tuple(expected.shape)}"
        if expected.dtype == torch.bool and got.dtype != torch.bool:
            return f"{label} should be a bool tensor (True/False), got dtype {got.dtype}"
    elif kind == "array":
        try:
            shape = np.asarray(got, dtype=np.float64).shape
        except (TypeError, ValueError, RuntimeError):
            return f"{label} should be an array of numbers, got {type(got).__name__}"
        if shape != expected.shape:
            return f"{label} has shape {shape}, expected shape {expected.shape}"
    elif kind in ("bool", "int", "float"):
        value = _scalar(got)
        if kind == "bool" and not isinstance(value, (bool, np.bool_)):
            return f"{label} should be True or False, got {type(got).__name__}"
        if isinstance(value, (bool, np.bool_)) and kind != "bool":
            return f"{label} should be a number, got {type(got).__name__}"
        if not isinstance(value, numbers.Real):
            return f"{label} should be a number, got {type(got).__name__}"
        if kind == "int" and not _whole(value):
            return f"{label} should be a whole number, got {value!r}"
    elif kind == "str" and not isinstance(got, str):
        return f"{label} should be a string, got {type(got).__name__}"
    elif kind == "sequence":
        if isinstance(got, np.ndarray):
            got = got.tolist()
        if not isinstance(got, _SEQUENCES):
            return f"{label} should be a {type(expected).__name__}, got {type(got).__name__}"
        if len(got) != len(expected):
            return f"{label} has {_items(len(got))}, expected {_items(len(expected))}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            found = _leaf_layout(g, e, f"{label}[{i}]")
            if found is not None:
                return found
    return None


def _outputs(got: Any, expected: Any, outputs: tuple[str, ...]) -> list[tuple[str, Any, Any]]:
    if isinstance(expected, tuple):
        labels = [outputs[i] if i < len(outputs) else f"result {i}" for i in range(len(expected))]
        return list(zip(labels, got, expected, strict=True))
    return [(outputs[0] if outputs else "result", got, expected)]


def layout(got: Any, expected: Any, outputs: tuple[str, ...]) -> str | None:
    """Say how the structure, types or shapes of `got` differ from `expected`; None if alike."""
    got = _unpacked(got, expected)
    if isinstance(expected, tuple):
        names = ", ".join(outputs)
        if not isinstance(got, _SEQUENCES):
            return (
                f"expected a tuple of {len(expected)} results ({names}), "
                f"got a single {type(got).__name__}"
            )
        if len(got) != len(expected):
            return f"expected a tuple of {len(expected)} results ({names}), got {len(got)}"
    elif isinstance(got, tuple) and _kind(expected) != "sequence":
        return f"expected a single result ({outputs[0]}), got a tuple of {len(got)}"
    for label, g, e in _outputs(got, expected, outputs):
        found = _leaf_layout(g, e, label)
        if found is not None:
            return found
    return None


def _tensor_difference(
    g: torch.Tensor, e: torch.Tensor, label: str, weights: bool, rtol: float, atol: float
) -> str | None:
    g, e = g.detach().to(e.device).double(), e.double()
    if not torch.isfinite(g[torch.isfinite(e)]).all():
        return f"{label} contains NaN or inf where finite values were expected"
    if weights and not torch.allclose(g.sum(-1), e.sum(-1), rtol=rtol, atol=1e-4, equal_nan=True):
        return (
            f"the rows of {label} should sum to 1 over the last axis (0 for fully masked "
            f"rows); yours sum to values from {g.sum(-1).min():.3g} to {g.sum(-1).max():.3g}"
        )
    if not torch.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
        error = (g - e).abs().nan_to_num(float("inf")).max()
        return f"{label} has the right shape but wrong values (largest error {error:.3g})"
    return None


def _value_difference(
    g: Any, e: Any, label: str, weights: bool, rtol: float, atol: float
) -> str | None:
    kind = _kind(e)
    if kind == "tensor":
        return _tensor_difference(g, e, label, weights, rtol, atol)
    if kind == "array":
        g, e = (torch.from_numpy(np.asarray(x, dtype=np.float64)) for x in (g, e))
        return _tensor_difference(g, e, label, False, rtol, atol)
    if kind == "sequence":
        for i, (gi, ei) in enumerate(zip(g, e, strict=True)):
            found = _value_difference(gi, ei, f"{label}[{i}]", False, rtol, atol)
            if found is not None:
                return found
        return None
    if kind in ("bool", "int", "float"):
        g = _scalar(g)
        if kind == "bool":
            return None if bool(g) == bool(e) else f"{label} is {bool(g)}, which is not right here"
        if math.isfinite(e) and not math.isfinite(g):
            return f"{label} is {g}, where a finite number was expected"
        if kind == "int" and isinstance(g, numbers.Integral):
            close = g == e  # counts are exact; a float count may carry float32 rounding
        else:
            close = math.isclose(g, e, rel_tol=rtol, abs_tol=atol if kind == "float" else 0.0)
        if close:
            return None
        return f"{label} = {g:.6g} is not right (too {'large' if g > e else 'small'})"
    try:
        same = bool(g == e)
    except Exception:  # e.g. an array compared with a string
        same = False
    return None if same else f"{label} = {g!r} is not right"


def difference(
    got: Any,
    expected: Any,
    outputs: tuple[str, ...],
    weights_output: int | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> str | None:
    """Describe, in shapes and words only, how `got` differs from `expected`; None if close.

    Args:
        got: the learner's result.
        expected: the reference's result on the same inputs.
        outputs: names of the outputs, for the message.
        weights_output: index of a tensor output whose rows must sum like the reference's.
        rtol: relative tolerance for numbers, tensors and arrays.
        atol: absolute tolerance for floats, tensors and arrays (integers compare exactly).

    Returns:
        a one-line description of the first difference, or None when `got` is right.

    Example:
        >>> difference(0.5, 0.25, ("seconds",))
        'seconds = 0.5 is not right (too large)'
        >>> difference([(0.0, 0.2)], [(0.0, 0.2), (0.4, 0.5)], ("runs",))
        'runs has 1 item, expected 2 items'

    Notebook: 00_welcome_and_setup
    """
    found = layout(got, expected, outputs)
    if found is not None:
        return found
    got = _unpacked(got, expected)
    for i, (label, g, e) in enumerate(_outputs(got, expected, outputs)):
        found = _value_difference(g, e, label, i == weights_output, rtol, atol)
        if found is not None:
            return found
    return None
