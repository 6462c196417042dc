"""Choosing PyTorch's fused attention kernel, and counting what attention costs.

`torch.nn.functional.scaled_dot_product_attention` (SDPA) dispatches to one of several
implementations ("backends") of the same formula, softmax(Q K^T / sqrt(d)) V:

- "math": the textbook version in PyTorch operations; it builds the (Q, K) weights and runs
  on every device and dtype. The reference.
- "flash": FlashAttention (Dao et al. 2022): tiles of queries and keys with the online
  softmax (Milakov & Gimelshein 2018), never the whole (Q, K) matrix; on CUDA for fp16/bf16,
  and PyTorch also has a CPU version.
- "efficient": the memory-efficient kernel of xFormers, after Rabe & Staats 2021
  ("Self-attention does not need O(n^2) memory"); CUDA.
- "cudnn": NVIDIA cuDNN's fused attention; recent CUDA GPUs.

Left alone, SDPA picks the fastest backend that accepts the inputs. `sdpa` forces one (under
`torch.nn.attention.sdpa_kernel`) so a lesson can compare them; `available_backends` finds
which run on a device; `attention_flops` counts the arithmetic, to turn a time into a rate.
`course_utils.attention.chunked` writes the flash algorithm out in plain PyTorch.

Shapes: B batch, H heads, Q queries, K keys, d features per head.

Notebook: 12_long_audio_efficient_attention.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from ._checks import check_qkv

__all__ = ["SDPA_BACKENDS", "attention_flops", "available_backends", "sdpa"]

# Our names for the backends, and the SDPBackend member each one selects.
_MEMBERS = {
    "math": "MATH",
    "flash": "FLASH_ATTENTION",
    "efficient": "EFFICIENT_ATTENTION",
    "cudnn": "CUDNN_ATTENTION",
}
SDPA_BACKENDS = tuple(_MEMBERS)


def sdpa(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    backend: str,
    causal: bool = False,
) -> torch.Tensor:
    """`F.scaled_dot_product_attention` forced onto one backend.

    Args:
        queries: (batch, queries, dim) or (batch, heads, queries, head_dim).
        keys: (batch[, heads], keys, head_dim).
        values: (batch[, heads], keys, value_dim).
        backend: one of `SDPA_BACKENDS`: "math", "flash", "efficient" or "cudnn".
        causal: query i attends to keys 0..i only, aligned at the top left (default False).

    Returns:
        context (batch[, heads], queries, value_dim); the fused backends never build the
        weights, so none are returned.

    Raises:
        ValueError: `backend` is not one of `SDPA_BACKENDS`.
        RuntimeError: the backend cannot run these inputs (device, dtype, shape) or this
            PyTorch lacks it; `available_backends` lists those that can.

    Example:
        >>> q = torch.randn(1, 2, 6, 8)
        >>> reference = torch.softmax(q @ q.transpose(-2, -1) / 8**0.5, dim=-1) @ q
        >>> torch.allclose(sdpa(q, q, q, "math"), reference, atol=1e-6)
        True

    Notebook: 12_long_audio_efficient_attention.
    """
    if backend not in _MEMBERS:
        raise ValueError(f"backend must be one of {SDPA_BACKENDS}, got {backend!r}")
    check_qkv(queries, keys, values)
    where = f"on {queries.device} in {queries.dtype}"
    member = getattr(SDPBackend, _MEMBERS[backend], None)
    if member is None:
        raise RuntimeError(
            f"SDPA backend {backend!r} is not in this PyTorch ({torch.__version__}); "
            f"see available_backends(device, dtype)"
        )
    # When a backend refuses inputs, PyTorch warns why, then raises: keep the reasons.
    with warnings.catch_warnings(record=True) as reasons:
        warnings.simplefilter("always")
        try:
            with sdpa_kernel(member):
                return F.scaled_dot_product_attention(queries, keys, values, is_causal=causal)
        except RuntimeError as error:
            why = "; ".join(str(reason.message) for reason in reasons) or str(error)
            why = why.rstrip(". ")
            raise RuntimeError(
                f"SDPA backend {backend!r} cannot run these inputs {where} (queries "
                f"{tuple(queries.shape)}): {why}. See available_backends(device, dtype) for "
                f"the backends that can"
            ) from error


def available_backends(
    device: torch.device | str,
    dtype: torch.dtype | None = None,
    head_dim: int = 64,
) -> tuple[str, ...]:
    """The SDPA backends that run on `device` for `dtype`, tried on a tiny input.

    Args:
        device: where to try, e.g. "cpu" or "cuda".
        dtype: the inputs' dtype; None (default) is float16 on CUDA, float32 elsewhere.
        head_dim: features per head of the trial input (default 64); kernels limit it.

    Returns:
        names from `SDPA_BACKENDS`, in that order; "math" is always among them.

    Example:
        >>> "math" in available_backends("cpu")
        True

    Notebook: 12_long_audio_efficient_attention.
    """
    device = torch.device(device)
    if dtype is None:
        dtype = torch.float16 if device.type == "cuda" else torch.float32
    trial = torch.randn(1, 2, 16, head_dim, device=device, dtype=dtype)  # (B, H, T, d)
    working = []
    for name in SDPA_BACKENDS:
        try:
            sdpa(trial, trial, trial, name)
        except RuntimeError:
            continue
        working.append(name)
    return tuple(working)


def attention_flops(
    batch: int,
    heads: int,
    queries: int,
    keys: int,
    head_dim: int,
    causal: bool = False,
) -> float:
    """Floating-point operations of attention's two matrix products: 4 * B * H * Q * K * d.

    Per batch and head, the scores Q K^T are a (Q, d) @ (d, K) product: Q * K dot products of
    length d, that is Q * K * d multiply-adds, 2 * Q * K * d FLOPs. The context, weights @ V,
    is a (Q, K) @ (K, d) product: another 2 * Q * K * d. Together 4 * Q * K * d per head; the
    softmax and scaling (O(Q * K), no factor d) are left out, as is usual (Dao et al. 2022).
    Causal attention needs about half the pairs, so the count is halved. Assumes value_dim
    equals head_dim.

    Args:
        batch: B, sequences.
        heads: H, attention heads.
        queries: Q, queries per sequence.
        keys: K, keys per sequence.
        head_dim: d, features per head.
        causal: count only the lower triangle, halving the total (default False).

    Returns:
        the number of FLOPs, a float (divide by seconds for FLOP/s).

    Example:
        >>> attention_flops(batch=1, heads=1, queries=2, keys=3, head_dim=4)
        96.0

    Notebook: 12_long_audio_efficient_attention.
    """
    sizes = {"batch": batch, "heads": heads, "queries": queries, "keys": keys, "head_dim": head_dim}
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"{name} must be an int >= 0, got {size!r}")
    flops = 4.0 * batch * heads * queries * keys * head_dim
    return flops / 2 if causal else flops
