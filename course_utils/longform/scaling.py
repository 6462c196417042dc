"""Time and peak memory of attention against sequence length, each measured in a fresh process.

The forms (`FORMS`): "naive" writes the (T, T) weights out (`functional.scaled_dot_product_
attention` with its weights), "fused" is PyTorch's `F.scaled_dot_product_attention`,
"chunked" and "local" are `attention.chunked_attention` and `attention.local_attention`.

Why a fresh process per point: a process's peak memory is a high-water mark, and memory a
previous measurement freed stays with the process (the allocator keeps it for reuse), so
points measured one after another in one process hide each other. Each `measure` therefore
runs in a new process, forked from a small server that has imported the course once
(multiprocessing's "forkserver": a new point costs a fork, not seconds of imports; where
there is no fork, Windows, a process is spawned). In the new process:

- on the CPU, the peak is the resident set's high-water mark (Linux `VmHWM`, reset just
  before the op through ``/proc/self/clear_refs``; elsewhere `ru_maxrss`), with glibc's
  malloc told to give every block of 128 kB or more its own pages, returned when freed
  (`mallopt(M_MMAP_THRESHOLD)`): by default it keeps freed tensors for reuse, and a
  checkpointed backward, which frees each chunk's tiles, looked three times its size;
- on CUDA, `torch.cuda.max_memory_allocated`;
- minus a baseline read once the inputs exist and the op has run once at a tiny length (its
  kernels loaded), so the figure is what the op itself adds.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import attention
from ..attention.functional import scaled_dot_product_attention

__all__ = [
    "FORMS",
    "Measurement",
    "log_log_slope",
    "measure",
    "memory_budget",
    "naive_bytes",
    "peak_memory",
    "run_in_fresh_process",
    "scaling_curve",
]

FORMS = ("naive", "fused", "chunked", "local")
MEMORY_FRACTION = 0.5  # the naive guard's default budget: this share of RAM (or GPU memory)
WARMUP_FRAMES = 512  # the tiny length the op runs at first, so its kernels are loaded
REPEAT_WITHIN_S, MAX_REPEATS = 0.5, 5  # repeat the op (best of <= 5) while runs take < 0.5 s
MMAP_THRESHOLD = 128 * 1024  # bytes: glibc gives larger blocks pages of their own
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (glibc malloc.h)


@dataclass
class Measurement:
    """One form at one length: the op's wall time and the memory it added at its peak."""

    form: str  # one of FORMS
    frames: int  # sequence length T (queries = keys)
    backward: bool  # timed forward + backward of context.sum() (True) or forward alone
    checkpoint: bool  # chunked only: the backward recomputes each query chunk
    seconds: float | None  # wall time of one op, best of the repeats; None when not ok
    peak_bytes: int | None  # peak memory over the baseline (inputs, warmed kernels)
    ok: bool  # False: refused by the budget guard, failed, killed or timed out
    error: str | None = None  # why, when not ok


def naive_bytes(
    frames: int, heads: int = 4, batch: int = 1, dtype: torch.dtype = torch.float32
) -> int:
    """Bytes of the (batch, heads, frames, frames) scores and weights naive attention writes.

    That is 2 * batch * heads * frames**2 elements; the backward needs as much again.

    Example:
        >>> round(naive_bytes(360_000) / 1e12, 2)  # an hour of 10 ms frames, in TB
        4.15

    Notebook: 12_long_audio_efficient_attention.
    """
    for name, value in (("frames", frames), ("heads", heads), ("batch", batch)):
        _check_positive(name, value)
    return 2 * batch * heads * frames**2 * dtype.itemsize


def memory_budget(device: str = "cpu", fraction: float = MEMORY_FRACTION) -> int | None:
    """The naive guard's default budget, bytes: `fraction` of the RAM (None if unknown) or GPU.

    Notebook: 12_long_audio_efficient_attention.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if device.startswith("cuda"):
        return int(fraction * torch.cuda.get_device_properties(device).total_memory)
    try:  # Linux and macOS; elsewhere no guard
        return int(fraction * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def measure(
    form: str,
    frames: int,
    *,
    backward: bool = False,
    checkpoint: bool = False,
    heads: int = 4,
    head_dim: int = 64,
    window: int = 256,
    chunk: int = 1024,
    device: str = "cpu",
    budget: int | None = None,
    timeout: float = 600.0,
) -> Measurement:
    """Time and extra peak memory of one attention form at one length, in a fresh process.

    Args:
        form: one of FORMS; frames: sequence length T. q, k, v: (1, heads, frames, head_dim).
        backward: time forward + backward of `context.sum()` (default False: forward only).
        checkpoint: "chunked" only: recompute each query chunk in the backward (default False).
        heads, head_dim: attention heads and features per head (defaults 4 and 64).
        window, chunk: "local"'s window, "chunked"'s chunk (256, 1024); device: "cpu" or "cuda".
        budget: bytes "naive" may take (`naive_bytes`, doubled with backward); None (default)
            is `memory_budget(device)`. Over it, naive is refused without running.
        timeout: seconds before the process is stopped (default 600).

    Returns:
        a Measurement; a form refused, failing, out of memory, killed or timed out comes back
        with ok=False and the reason in `error` (bad arguments raise ValueError).

    Example:
        >>> measure("local", 2_000).ok  # doctest: +SKIP
        True

    Notebook: 12_long_audio_efficient_attention.
    """
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; choose from {', '.join(FORMS)}")
    if checkpoint and form != "chunked":
        raise ValueError(f"checkpoint applies to 'chunked' only, not {form!r}")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    sizes = dict(frames=frames, heads=heads, head_dim=head_dim, window=window, chunk=chunk)
    for name, value in sizes.items():
        _check_positive(name, value)
    request = dict(form=form, backward=backward, checkpoint=checkpoint, device=device, **sizes)
    failed = Measurement(form, frames, backward, checkpoint, None, None, ok=False)
    budget = memory_budget(device) if budget is None and form == "naive" else budget
    needed = naive_bytes(frames, heads) * (2 if backward else 1)
    if form == "naive" and budget is not None and needed > budget:
        failed.error = (
            f"refused: naive attention at T={frames:,} needs about "
            f"{needed / 1e9:.1f} GB for its weights, over the budget of "
            f"{budget / 1e9:.1f} GB (pass budget= to change it)"
        )
        return failed
    return run_in_fresh_process(_measure_here, request, failed, timeout)


def scaling_curve(form: str, lengths, **kwargs) -> list[Measurement]:
    """`measure` a form at increasing lengths, stopping after the first failure.

    Args:
        form: one of FORMS; lengths: increasing, e.g. (1_000, 2_000); kwargs: `measure`'s.

    Returns:
        a Measurement per length tried: all ok but perhaps the last, whose `error` says why
        the form stopped; the largest T it fits is the last ok one's `frames`.

    Notebook: 12_long_audio_efficient_attention.
    """
    if not len(lengths) or any(b <= a for a, b in zip(lengths, lengths[1:], strict=False)):
        raise ValueError(f"lengths must be a non-empty increasing sequence, got {lengths}")
    curve = []
    for frames in lengths:
        curve.append(measure(form, frames, **kwargs))
        if not curve[-1].ok:
            break
    return curve


def log_log_slope(frames, values, last: int | None = None) -> float:
    """Least-squares slope of log(value) against log(frames): value grows as frames^slope.

    Constant costs (page tables, kernel launches, fixed-size buffers) dominate small lengths
    and bend the curve down: fit the largest few (`last`, >= 2; None fits all) to read the
    exponent of long sequences, 1 for linear memory, 2 for quadratic.

    Args:
        frames: (n,) positive lengths; values: (n,) positive measurements at those lengths.

    Example:
        >>> round(log_log_slope([1_000, 2_000, 4_000], [3.0, 12.0, 48.0]), 6)
        2.0

    Notebook: 12_long_audio_efficient_attention.
    """
    x, y = np.asarray(frames, dtype=float), np.asarray(values, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"frames and values must be 1-D of one length, got {x.shape}, {y.shape}")
    if last is not None:  # last < 2 leaves too few points, caught below
        x, y = x[max(len(x) - last, 0) :], y[max(len(x) - last, 0) :]
    if len(set(x.tolist())) < 2 or (x <= 0).any() or (y <= 0).any():
        raise ValueError(f"need two distinct positive lengths, positive values: {x}, {y}")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# --------------------------------------------------------------------------- the processes


def _context() -> multiprocessing.context.BaseContext:
    """A fork server that has imported this module (Linux, macOS), else spawned processes."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def run_in_fresh_process(work, request: dict, failed: Measurement, timeout: float) -> Measurement:
    """Run `work(**request)` in a new process; its Measurement, or `failed` with the reason.

    `work` is a module-level function returning a Measurement (the new process imports it);
    `measure` runs an attention form this way, `recipe.detector_footprint` a whole detector.

    Notebook: 12_long_audio_efficient_attention.
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(work, request, failed, sender), daemon=True)
    process.start()
    sender.close()  # the child holds the only sending end: EOF when it dies
    try:
        if receiver.poll(timeout):
            return Measurement(**receiver.recv())
        failed.error = f"timed out after {timeout:g} s"
    except EOFError:  # the child died without a word: killed, most often for memory
        process.join(5)
        code = process.exitcode
        failed.error = f"the process died (exit code {code}" + (
            ", killed: out of memory?)" if code is not None and code < 0 else ")"
        )
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    return failed


def _child(work, request: dict, failed: Measurement, sender) -> None:
    """The fresh process's work: measure, send the Measurement back as a dict."""
    _return_freed_memory()
    try:
        result = work(**request)
    except Exception as error:  # every failure is reported as data, for the parent to keep
        failed.error = f"{type(error).__name__}: {error}"
        result = failed
    sender.send(asdict(result))
    sender.close()


def _measure_here(
    form: str,
    frames: int,
    backward: bool,
    checkpoint: bool,
    heads: int,
    head_dim: int,
    window: int,
    chunk: int,
    device: str,
) -> Measurement:
    """Inputs, the op at a tiny length (warm-up), then the timed op and its peak memory."""
    device = torch.device(device)
    op = _operation(form, window, chunk, checkpoint)

    def inputs(length: int) -> list[torch.Tensor]:
        shape = (1, heads, length, head_dim)  # (B, H, T, hd)
        return [torch.randn(shape, device=device, requires_grad=backward) for _ in "qkv"]

    def step(q, k, v) -> float:
        start = time.perf_counter()
        context = op(q, k, v)  # (B, H, T, hd)
        if backward:
            context.sum().backward()
        _sync(device)
        return time.perf_counter() - start

    q, k, v = inputs(frames)
    step(*inputs(min(frames, WARMUP_FRAMES)))  # loads the kernels; its tensors are freed
    gc.collect()
    baseline = peak_memory(device, reset=True)
    seconds = [step(q, k, v)]
    peak = peak_memory(device) - baseline  # the first run's: later ones only refine the time
    while sum(seconds) < REPEAT_WITHIN_S and len(seconds) < MAX_REPEATS:
        q.grad = k.grad = v.grad = None
        seconds.append(step(q, k, v))
    return Measurement(form, frames, backward, checkpoint, min(seconds), max(peak, 0), ok=True)


def _operation(form: str, window: int, chunk: int, checkpoint: bool):
    """The form as a function (q, k, v) -> context, each (B, H, T, hd)."""
    blocks = dict(query_chunk=chunk, key_chunk=chunk, checkpoint=checkpoint)
    operations = {
        "naive": lambda q, k, v: scaled_dot_product_attention(q, k, v, need_weights=True)[0],
        "fused": F.scaled_dot_product_attention,
        "local": lambda q, k, v: attention.local_attention(q, k, v, window),
        "chunked": lambda q, k, v: attention.chunked_attention(q, k, v, **blocks),
    }
    return operations[form]


def _return_freed_memory() -> None:
    """glibc only: blocks of MMAP_THRESHOLD bytes or more get their own pages, freed at once."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def peak_memory(device: torch.device, reset: bool = False) -> int:
    """This process's peak memory so far, bytes; reset=True first restarts the count from now.

    Notebook: 12_long_audio_efficient_attention.
    """
    _sync(device)
    if device.type == "cuda":
        if reset:
            torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.max_memory_allocated(device)
    if reset:  # "5" sets VmHWM to the resident size (Linux >= 4.0); else the peak so far
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s*(\d+) kB", status).group(1)) * 1024
    except OSError:  # no /proc (macOS): ru_maxrss, in bytes there, in kB on Linux
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak * (1 if sys.platform == "darwin" else 1024)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
