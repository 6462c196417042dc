"""Attention as a weighted average, the functional core: masks, scores, softmax, SDPA.

Plain functions (`padding_mask`, `causal_mask`, `masked_softmax`, the score functions and
`scaled_dot_product_attention`) under thin modules (`layers`, `transformer`), in the spirit of
torchaudio's `functional` and `transforms`: the lessons teach the function, then the module.

Mask polarity, said once and used everywhere:

- `mask` (functional API): bool, broadcastable to (..., queries, keys), **True = may attend**,
  the polarity of the boolean `attn_mask` of `torch.nn.functional.scaled_dot_product_attention`.
- `padding_mask` (modules): bool (batch, keys), **True = padding** (ignored), the polarity of
  `nn.MultiheadAttention`'s `key_padding_mask`. Modules convert it once with `~`.

A query whose keys are all masked gets all-zero weights and a zero context, never NaN, and
its gradients stay finite.

The modules built on these functions are in `layers` (additive, dot-product, pooling,
location-sensitive) and `transformer` (multi-head attention and the encoder block).

Shapes: B batch, T frames, Q queries, K keys, Dv features per value; "..." any leading axes
(batch, and heads when there are several).

Notebook: 01_attention_as_weighted_average.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._checks import check_dropout, check_mask, check_padding_mask, check_qkv, check_tensor

__all__ = [
    "causal_mask",
    "dot_score",
    "masked_softmax",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaled_dot_score",
]


def padding_mask(
    lengths: torch.Tensor, max_len: int | None = None, validate: bool = True
) -> torch.Tensor:
    """Mark the padded frames of a batch: True where a frame lies past its sequence's length.

    Args:
        lengths: (batch,) integer numbers of valid frames, e.g. from `frame_lengths`.
        max_len: padded length; None (default) uses `lengths.max()`.
        validate: check that no length is negative or above `max_len` (default True). The
            check reads `lengths` back, a GPU-to-CPU sync: a model's `forward` passes False
            (with `max_len`) once its public entry point has checked the lengths.

    Returns:
        bool (batch, max_len), **True = padding**, on `lengths`' device; pass it as a module's
        `padding_mask`, or `~mask[:, None, :]` as the functional `mask` (True = may attend).

    Example:
        >>> padding_mask(torch.tensor([3, 1]))
        tensor([[False, False, False],
                [False,  True,  True]])

    Notebook: 02_additive_attention.
    """
    check_tensor(lengths, "lengths", (1,), "(batch,)")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must be an integer tensor, got {lengths.dtype}")
    if validate or max_len is None:
        longest = int(lengths.max()) if lengths.numel() else 0
        if validate and lengths.numel() and int(lengths.min()) < 0:
            raise ValueError(f"lengths must be >= 0, got {lengths.tolist()}")
        if max_len is None:
            max_len = longest
        elif validate and max_len < longest:
            raise ValueError(f"max_len={max_len} is shorter than the longest sequence ({longest})")
    frames = torch.arange(max_len, device=lengths.device)
    return frames[None, :] >= lengths[:, None]  # (B, T)


def causal_mask(
    num_queries: int, num_keys: int | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Let query i attend to keys 0..i only (the lower triangle), as a decoder must.

    Aligned at the top left, like `is_causal=True` in `F.scaled_dot_product_attention`.

    Args:
        num_queries: number of queries (rows).
        num_keys: number of keys (columns); None (default) means `num_queries`.
        device: where to create the mask; None (default) is the CPU. Pass `x.device`.

    Returns:
        bool (queries, keys), **True = may attend**; broadcasts over batch and heads.

    Example:
        >>> causal_mask(3)
        tensor([[ True, False, False],
                [ True,  True, False],
                [ True,  True,  True]])

    Notebook: 04_multi_head_self_attention.
    """
    num_keys = num_queries if num_keys is None else num_keys
    if num_queries < 1 or num_keys < 1:
        raise ValueError(f"need at least one query and key, got {num_queries} and {num_keys}")
    ones = torch.ones(num_queries, num_keys, dtype=torch.bool, device=device)
    return ones.tril()  # (Q, K)


def masked_softmax(
    scores: torch.Tensor, mask: torch.Tensor | None = None, dim: int = -1
) -> torch.Tensor:
    """Softmax over `dim` where masked-out scores get weight exactly 0.

    Masked scores are replaced by the most negative finite number rather than -inf, so a row
    with every key masked gives a finite (uniform) softmax that the mask then zeroes: zeros,
    never NaN, and finite gradients.

    Args:
        scores: (..., queries, keys) real scores.
        mask: bool, broadcastable to `scores`, **True = may attend**; None (default) keeps all.
        dim: the axis to normalise over (default -1, the keys).

    Returns:
        weights shaped like `scores`; each row with at least one allowed key sums to 1, and
        fully masked rows are all zeros.

    Example:
        >>> masked_softmax(torch.zeros(1, 3), torch.tensor([[True, True, False]]))
        tensor([[0.5000, 0.5000, 0.0000]])

    Notebook: 01_attention_as_weighted_average.
    """
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        raise TypeError(f"scores must be a floating-point tensor, got {type(scores)}")
    if mask is None:
        return torch.softmax(scores, dim=dim)
    check_mask(mask, tuple(scores.shape))
    filled = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(filled, dim=dim) * mask  # exact zeros on masked keys


def dot_score(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Dot-product scores q . k (Luong et al. 2015, eq. 8, "dot").

    Args:
        queries: (..., queries, dim).
        keys: (..., keys, dim), same `dim`.

    Returns:
        scores (..., queries, keys).

    Example:
        >>> dot_score(torch.ones(1, 2, 4), torch.ones(1, 3, 4)).shape
        torch.Size([1, 2, 3])

    Notebook: 03_dot_product_attention.
    """
    if queries.shape[-1] != keys.shape[-1]:
        raise ValueError(
            f"queries and keys need the same feature size: queries {tuple(queries.shape)} "
            f"ends in {queries.shape[-1]}, keys {tuple(keys.shape)} in {keys.shape[-1]}"
        )
    return queries @ keys.transpose(-2, -1)  # (..., Q, K)


def scaled_dot_score(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Scaled dot-product scores q . k / sqrt(dim) (Vaswani et al. 2017, eq. 1).

    Dividing by sqrt(dim) keeps the scores' variance near 1 for unit-variance inputs, so the
    softmax does not saturate as `dim` grows (section 3.2.1).

    Example:
        >>> scaled_dot_score(torch.ones(1, 2, 4), torch.ones(1, 3, 4))[0, 0, 0]
        tensor(2.)

    Notebook: 03_dot_product_attention.
    """
    return dot_score(queries, keys) / math.sqrt(queries.shape[-1])


def scaled_dot_product_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout: float = 0.0,
    need_weights: bool = True,
    training: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V (Vaswani et al. 2017, eq. 1).

    With `need_weights=True` it is written out (matmul, scale, masked softmax, dropout, matmul)
    so the weights can be returned; with `need_weights=False` it calls PyTorch's fused
    `F.scaled_dot_product_attention`, which never materialises the weights. Both agree to
    1e-10 in float64.

    Args:
        queries: (batch, queries, dim) or (batch, heads, queries, head_dim).
        keys: (batch, keys, dim) or (batch, heads, keys, head_dim).
        values: (batch, keys, value_dim) or (batch, heads, keys, value_dim).
        mask: bool, broadcastable to (..., queries, keys), **True = may attend** (as SDPA's
            boolean `attn_mask`); None (default) attends everywhere.
        dropout: probability of dropping a weight while `training` (default 0.0).
        need_weights: return the weights (default True); False uses the fused kernel.
        training: apply dropout (default True); modules pass `self.training`.

    Returns:
        context (..., queries, value_dim) and weights (..., queries, keys) before dropout
        (rows sum to 1; fully masked rows and their context are zeros), or None.

    Example:
        >>> q, k, v = torch.randn(2, 3, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 4)
        >>> context, weights = scaled_dot_product_attention(q, k, v)
        >>> context.shape, weights.shape
        (torch.Size([2, 3, 4]), torch.Size([2, 3, 5]))

    Notebook: 03_dot_product_attention.
    """
    check_qkv(queries, keys, values)
    dropout = check_dropout(dropout)
    if mask is not None:
        check_mask(mask, (*queries.shape[:-1], keys.shape[-2]))
    if not need_weights:
        if mask is None:
            context = F.scaled_dot_product_attention(
                queries, keys, values, dropout_p=dropout if training else 0.0
            )
            return context, None
        # Kernels differ on fully masked rows (zeros on some, NaN on others): let such rows
        # attend everywhere, then zero their context, which also keeps their gradients finite.
        allowed = mask.any(dim=-1, keepdim=True)  # (..., Q, 1)
        context = F.scaled_dot_product_attention(
            queries, keys, values, attn_mask=mask | ~allowed, dropout_p=dropout if training else 0.0
        )
        return context * allowed, None
    scores = scaled_dot_score(queries, keys)  # (..., Q, K)
    return _attend(scores, values, mask, dropout, training)


def _attend(
    scores: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None,
    dropout: float,
    training: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The step every attention shares: masked softmax over the keys, dropout, weighted sum.

    Returns (context (..., Q, Dv), weights (..., Q, K)); the weights are taken before dropout,
    so their rows sum to 1.
    """
    weights = masked_softmax(scores, mask)  # (..., Q, K)
    dropped = F.dropout(weights, dropout, training) if dropout > 0 else weights
    return dropped @ values, weights  # (..., Q, Dv)


def _key_mask(padding_mask: torch.Tensor | None, keys: torch.Tensor) -> torch.Tensor | None:
    """Module `padding_mask` (batch, keys), True = padding -> (batch, 1, keys), True = attend."""
    if padding_mask is None:
        return None
    return check_padding_mask(padding_mask, keys.shape[0], keys.shape[1])
