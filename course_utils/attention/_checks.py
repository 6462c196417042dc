"""Input checks shared by the attention modules of this folder (private to it).

Each raises ValueError saying what shape or value was expected, so a wrong call fails at the
public boundary with a sentence instead of deep inside a matrix product. None of them reads
a tensor's values (only shapes and dtypes), so they cost no GPU sync inside a `forward`.

Shapes: B batch, K keys.

Notebook: 01_attention_as_weighted_average.
"""

from __future__ import annotations

import torch


def check_tensor(tensor: torch.Tensor, name: str, ndims: tuple[int, ...], shape: str) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of shape {shape}, got {type(tensor)}")
    if tensor.ndim not in ndims:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(tensor.shape)}")


def check_mask(mask: torch.Tensor, target: tuple[int, ...], name: str = "mask") -> None:
    """Raise unless `mask` is a bool tensor that broadcasts to `target` without growing it."""
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        got = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise TypeError(f"{name} must be a bool tensor (True = may attend), got {got}")
    try:
        fits = torch.broadcast_shapes(mask.shape, target) == torch.Size(target)
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name} of shape {tuple(mask.shape)} does not broadcast to (..., queries, keys) = "
            f"{tuple(target)}"
        )


def check_padding_mask(padding_mask: torch.Tensor, batch: int, num_keys: int) -> torch.Tensor:
    """Validate a (batch, keys) padding mask (True = padding) and return the attend mask."""
    if not isinstance(padding_mask, torch.Tensor) or padding_mask.dtype != torch.bool:
        got = padding_mask.dtype if isinstance(padding_mask, torch.Tensor) else padding_mask
        raise TypeError(f"padding_mask must be a bool tensor (True = padding), got {got}")
    if tuple(padding_mask.shape) != (batch, num_keys):
        raise ValueError(
            f"padding_mask must have shape (batch, keys) = ({batch}, {num_keys}), "
            f"got {tuple(padding_mask.shape)}"
        )
    return ~padding_mask[:, None, :]  # (B, 1, K), True = may attend


def check_dropout(dropout: float) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
        raise TypeError(f"dropout must be a number in [0, 1), got {dropout!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    return float(dropout)


def check_qkv(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> None:
    shapes = "(batch, queries, dim) or (batch, heads, queries, head_dim)"
    check_tensor(queries, "queries", (2, 3, 4), shapes)
    check_tensor(keys, "keys", (queries.ndim,), f"{queries.ndim}-D like queries")
    check_tensor(values, "values", (queries.ndim,), f"{queries.ndim}-D like queries")
    if queries.shape[:-2] != keys.shape[:-2] or keys.shape[:-2] != values.shape[:-2]:
        raise ValueError(
            f"batch (and heads) sizes differ: queries {tuple(queries.shape)}, "
            f"keys {tuple(keys.shape)}, values {tuple(values.shape)}"
        )
    if keys.shape[-2] != values.shape[-2]:
        raise ValueError(
            f"keys and values must have the same length (number of keys): keys "
            f"{tuple(keys.shape)} has {keys.shape[-2]}, values {tuple(values.shape)} has "
            f"{values.shape[-2]}"
        )


def check_module_inputs(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    query_dim: int | None,
    key_dim: int | None,
) -> None:
    shape = "(batch, {}, {})"
    check_tensor(queries, "queries", (3,), shape.format("queries", query_dim or "dim"))
    check_tensor(keys, "keys", (3,), shape.format("keys", key_dim or "dim"))
    check_tensor(values, "values", (3,), shape.format("keys", "value_dim"))
    check_qkv(queries, keys, values)
    checks = ((queries, "queries", "query_dim", query_dim), (keys, "keys", "key_dim", key_dim))
    for tensor, name, dim_name, dim in checks:
        if dim is not None and tensor.shape[-1] != dim:
            raise ValueError(
                f"{name} must have {dim_name}={dim} features, got shape {tuple(tensor.shape)}"
            )


def check_sequence_qkv(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    same_length: bool = False,
) -> None:
    """Raise unless q, k, v are (batch, T, d) or (batch, heads, T, d), with >= 1 frame each.

    `same_length` requires as many queries as keys (self-attention: local and streaming).
    """
    shapes = "(batch, frames, dim) or (batch, heads, frames, head_dim)"
    check_tensor(queries, "queries", (3, 4), shapes)
    check_qkv(queries, keys, values)
    if queries.shape[-2] < 1 or keys.shape[-2] < 1:
        raise ValueError(
            f"need at least one query and one key, got queries {tuple(queries.shape)} and "
            f"keys {tuple(keys.shape)}"
        )
    if same_length and queries.shape[-2] != keys.shape[-2]:
        raise ValueError(
            f"queries and keys must have the same length (self-attention over one sequence): "
            f"queries {tuple(queries.shape)} has {queries.shape[-2]}, keys "
            f"{tuple(keys.shape)} has {keys.shape[-2]}"
        )


def check_key_padding(padding_mask: torch.Tensor | None, keys: torch.Tensor) -> torch.Tensor | None:
    """Validate a (batch, keys) padding mask (True = padding) for (batch[, heads], K, d) keys.

    Returns the attend mask (batch, K), or (batch, 1, K) for 4-D keys (True = may attend), so
    `keep[..., None, :]` broadcasts over (batch[, heads], queries, keys); None stays None.
    """
    if padding_mask is None:
        return None
    keep = check_padding_mask(padding_mask, keys.shape[0], keys.shape[-2])[:, 0, :]  # (B, K)
    return keep if keys.ndim == 3 else keep[:, None, :]  # (B, [1,] K)


def check_window(window: int, name: str = "window") -> int:
    """Raise unless `window` is an int >= 0 (a number of frames on each side)."""
    if isinstance(window, bool) or not isinstance(window, int):
        raise TypeError(f"{name} must be an int number of frames >= 0, got {window!r}")
    if window < 0:
        raise ValueError(f"{name} must be >= 0 frames, got {window}")
    return window


def check_positive_int(value: int, name: str) -> int:
    """Raise unless `value` is an int >= 1 (a chunk size)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value}")
    return value
