"""What a GPU changes: PyTorch's SDPA backends timed against the device's peak throughput.

On a CUDA device `F.scaled_dot_product_attention` chooses among kernels for the same formula
(`attention.backends`: flash, memory-efficient, cuDNN, math). `backend_table` times each
over one long sequence and rates it two ways: against the device's reachable peak, measured
here as the throughput of a large half-precision matmul (`matmul_tflops`), and against the
datasheet's dense fp16/bf16 tensor-core figure when the device is a known one
(`nominal_tflops`). Attention reaches a good share of the matmul's rate only in the fused
kernels: the math backend writes the (T, T) scores to memory and reads them back.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import re
import time

import torch

from ..attention import backends

__all__ = ["NOMINAL_TFLOPS", "backend_table", "matmul_tflops", "nominal_tflops"]

# Datasheets' dense fp16/bf16 tensor-core TFLOP/s (RTX 4090: fp32 accumulation), by GPU name.
NOMINAL_TFLOPS = (
    (r"\bH200\b", 989.0),
    (r"\bH100\b.*\bPCIe\b", 756.0),
    (r"\bH100\b", 989.0),
    (r"\bA100\b", 312.0),
    (r"\bL4\b", 121.0),
    (r"\bT4\b", 65.0),
    (r"\bRTX 4090\b", 165.0),
    (r"\bV100\b", 125.0),
)
_MEASURED = ("seconds", "tflops", "peak_bytes", "share_of_matmul", "share_of_nominal")


def nominal_tflops(device_name: str) -> float | None:
    """The datasheet's dense fp16/bf16 tensor-core TFLOP/s of a known GPU, else None.

    Example:
        >>> nominal_tflops("NVIDIA H200"), nominal_tflops("NVIDIA L40S")
        (989.0, None)

    Notebook: 12_long_audio_efficient_attention.
    """
    return next((tf for pattern, tf in NOMINAL_TFLOPS if re.search(pattern, device_name)), None)


def matmul_tflops(
    device: str | torch.device = "cuda",
    dtype: torch.dtype = torch.float16,
    size: int = 8192,
    repeats: int = 5,
) -> float:
    """The device's reachable peak: TFLOP/s of a (size, size) @ (size, size) matmul, best run.

    Example:
        >>> matmul_tflops("cpu", torch.float32, size=64) > 0
        True

    Notebook: 12_long_audio_efficient_attention.
    """
    device = torch.device(device)
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    return 2 * size**3 / _best_time(lambda: a @ b, device, repeats) / 1e12


def backend_table(
    frames: int,
    heads: int = 4,
    head_dim: int = 64,
    dtype: torch.dtype = torch.float16,
    causal: bool = False,
    device: str = "cuda",
) -> list[dict]:
    """Forward time, TFLOP/s and share of the peak of each SDPA backend the GPU offers.

    Args:
        frames: T; q, k, v are (1, heads, frames, head_dim) in `dtype` (flash: fp16, bf16).
        heads, head_dim: attention heads and features per head (defaults 4 and 64).
        dtype: the inputs' dtype (default float16).
        causal: causal attention (halves the work; default False).
        device: a CUDA device (default "cuda"), measured in this process.

    Returns:
        a dict per backend (`attention.available_backends`): name, sizes, seconds per forward
        (best of 5), tflops (`attention_flops` / s), peak_bytes (over the inputs), the shares
        of matmul_tflops (8192^3) and nominal_tflops (datasheet, or None), and error (None,
        or why the backend could not run these inputs).

    Notebook: 12_long_audio_efficient_attention.
    """
    if torch.device(device).type != "cuda" or not torch.cuda.is_available():
        raise RuntimeError(f"backend_table needs a CUDA device, got {device!r}")
    device = torch.device(device)
    peak = matmul_tflops(device, dtype)
    nominal = nominal_tflops(torch.cuda.get_device_name(device))
    flops = backends.attention_flops(1, heads, frames, frames, head_dim, causal=causal)
    q, k, v = (torch.randn(1, heads, frames, head_dim, device=device, dtype=dtype) for _ in "qkv")
    rows = []
    for name in backends.available_backends(device, dtype=dtype, head_dim=head_dim):
        row = {
            "backend": name,
            "frames": frames,
            "heads": heads,
            "head_dim": head_dim,
            "causal": causal,
            "dtype": str(dtype).removeprefix("torch."),
            "matmul_tflops": round(peak, 1),
            "nominal_tflops": nominal,
            "error": None,
            **dict.fromkeys(_MEASURED),
        }
        try:
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.max_memory_allocated(device)

            def forward(backend=name):
                return backends.sdpa(q, k, v, backend, causal=causal)

            seconds = _best_time(forward, device, repeats=5)
            tflops = flops / seconds / 1e12
            row.update(
                seconds=seconds,
                tflops=round(tflops, 2),
                peak_bytes=torch.cuda.max_memory_allocated(device) - base,
                share_of_matmul=round(tflops / peak, 3),
                share_of_nominal=nominal and round(tflops / nominal, 3),
            )
        except (RuntimeError, ValueError) as error:  # out of memory, an unsupported shape
            row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        torch.cuda.empty_cache()
        rows.append(row)
    return rows


def _best_time(step, device: torch.device, repeats: int) -> float:
    """Best seconds per call of `step` after a warm-up, each timing at least ~10 ms long."""
    times = []
    for _ in range(repeats + 2):  # the first two: warm-up, then sizing the inner loop
        inner = 1 if len(times) < 2 else max(1, min(100, int(0.01 / max(times[1], 1e-9))))
        start = time.perf_counter()
        for _ in range(inner):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) / inner)
    return min(times[2:])
