"""Attention as a weighted average: masks, scores, softmax and the classic attention layers.

A functional core (`padding_mask`, `causal_mask`, `masked_softmax`, the score functions and
`scaled_dot_product_attention`) with thin modules on top (`AdditiveAttention`,
`DotProductAttention`, `AttentionPooling`, `LocationSensitiveAttention`), in the spirit of
torchaudio's `functional` and `transforms`: the lessons teach the function, then the module.
Every module returns `(context, weights)` so a lesson can plot the weights without hidden
state.

Mask polarity, said once and used everywhere:

- `mask` (functional API): bool, broadcastable to (..., queries, keys), **True = may attend**,
  the polarity of the boolean `attn_mask` of `torch.nn.functional.scaled_dot_product_attention`.
- `padding_mask` (modules): bool (batch, keys), **True = padding** (ignored), the polarity of
  `nn.MultiheadAttention`'s `key_padding_mask`. Modules convert it once with `~`.

A query whose keys are all masked gets all-zero weights and a zero context, never NaN, and
its gradients stay finite.

Multi-head attention, positional encodings and the encoder block live in
`course_utils.transformer`, which builds on this module.

Notebook: 01_attention_as_weighted_average.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "SCORES",
    "AdditiveAttention",
    "AttentionPooling",
    "DotProductAttention",
    "LocationSensitiveAttention",
    "causal_mask",
    "dot_score",
    "masked_softmax",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaled_dot_score",
]

SCORES = ("dot", "scaled_dot", "general", "concat")


def _check_tensor(tensor: torch.Tensor, name: str, ndims: tuple[int, ...], shape: str) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of shape {shape}, got {type(tensor)}")
    if tensor.ndim not in ndims:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(tensor.shape)}")


def _check_mask(mask: torch.Tensor, target: tuple[int, ...], name: str = "mask") -> None:
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


def _check_padding_mask(padding_mask: torch.Tensor, batch: int, num_keys: int) -> torch.Tensor:
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


def _check_dropout(dropout: float) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
        raise TypeError(f"dropout must be a number in [0, 1), got {dropout!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    return float(dropout)


def _check_qkv(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> None:
    shapes = "(batch, queries, dim) or (batch, heads, queries, head_dim)"
    _check_tensor(queries, "queries", (2, 3, 4), shapes)
    _check_tensor(keys, "keys", (queries.ndim,), f"{queries.ndim}-D like queries")
    _check_tensor(values, "values", (queries.ndim,), f"{queries.ndim}-D like queries")
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


def padding_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Mark the padded frames of a batch: True where a frame lies past its sequence's length.

    Args:
        lengths: (batch,) integer numbers of valid frames, e.g. from `frame_lengths`.
        max_len: padded length; None (default) uses `lengths.max()`.

    Returns:
        bool (batch, max_len), **True = padding**, on `lengths`' device; pass it as a module's
        `padding_mask`, or `~mask[:, None, :]` as the functional `mask` (True = may attend).

    Example:
        >>> padding_mask(torch.tensor([3, 1]))
        tensor([[False, False, False],
                [False,  True,  True]])

    Notebook: 02_additive_attention.
    """
    _check_tensor(lengths, "lengths", (1,), "(batch,)")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must be an integer tensor, got {lengths.dtype}")
    longest = int(lengths.max()) if lengths.numel() else 0
    if lengths.numel() and int(lengths.min()) < 0:
        raise ValueError(f"lengths must be >= 0, got {lengths.tolist()}")
    if max_len is None:
        max_len = longest
    elif max_len < longest:
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
    _check_mask(mask, tuple(scores.shape))
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
    _check_qkv(queries, keys, values)
    dropout = _check_dropout(dropout)
    if mask is not None:
        _check_mask(mask, (*queries.shape[:-1], keys.shape[-2]))
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
    return _check_padding_mask(padding_mask, keys.shape[0], keys.shape[1])


def _additive_scores(
    projected_queries: torch.Tensor, projected_keys: torch.Tensor, v: nn.Linear
) -> torch.Tensor:
    """v^T tanh(q' + k') for every query-key pair, from already projected (..., n, hidden)."""
    hidden = torch.tanh(projected_queries[..., :, None, :] + projected_keys[..., None, :, :])
    return v(hidden).squeeze(-1)  # (B, Q, K, H) -> (B, Q, K)


def _check_module_inputs(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    query_dim: int | None,
    key_dim: int | None,
) -> None:
    shape = "(batch, {}, {})"
    _check_tensor(queries, "queries", (3,), shape.format("queries", query_dim or "dim"))
    _check_tensor(keys, "keys", (3,), shape.format("keys", key_dim or "dim"))
    _check_tensor(values, "values", (3,), shape.format("keys", "value_dim"))
    _check_qkv(queries, keys, values)
    checks = ((queries, "queries", "query_dim", query_dim), (keys, "keys", "key_dim", key_dim))
    for tensor, name, dim_name, dim in checks:
        if dim is not None and tensor.shape[-1] != dim:
            raise ValueError(
                f"{name} must have {dim_name}={dim} features, got shape {tuple(tensor.shape)}"
            )


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention: score(q, k) = v^T tanh(W_q q + W_k k).

    Bahdanau et al. 2015, eq. 6 with the alignment model of appendix A.1.2. Queries and keys
    may have different sizes, since each gets its own projection to `hidden_dim`.

    Args:
        query_dim: features per query (e.g. the decoder state size).
        key_dim: features per key (e.g. the encoder output size).
        hidden_dim: size of the tanh layer.
        dropout: dropout on the weights while training (default 0.0).

    Shapes:
        queries (batch, queries, query_dim), keys (batch, keys, key_dim),
        values (batch, keys, value_dim), padding_mask (batch, keys) bool, True = padding ->
        context (batch, queries, value_dim), weights (batch, queries, keys).

    Example:
        >>> attention = AdditiveAttention(query_dim=6, key_dim=8, hidden_dim=16)
        >>> keys = torch.randn(2, 5, 8)
        >>> context, weights = attention(torch.randn(2, 1, 6), keys, keys)
        >>> context.shape, weights.shape
        (torch.Size([2, 1, 8]), torch.Size([2, 1, 5]))

    Notebook: 02_additive_attention.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int, dropout: float = 0.0):
        super().__init__()
        self.query_dim, self.key_dim = query_dim, key_dim
        self.query_proj = nn.Linear(query_dim, hidden_dim, bias=False)  # W_q (W_a in the paper)
        self.key_proj = nn.Linear(key_dim, hidden_dim, bias=False)  # W_k (U_a)
        self.v = nn.Linear(hidden_dim, 1, bias=False)  # v (v_a)
        self.dropout = _check_dropout(dropout)

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_module_inputs(queries, keys, values, self.query_dim, self.key_dim)
        scores = _additive_scores(self.query_proj(queries), self.key_proj(keys), self.v)
        return _attend(scores, values, _key_mask(padding_mask, keys), self.dropout, self.training)


class DotProductAttention(nn.Module):
    """Luong-style attention with a choice of score (Luong et al. 2015, eq. 8).

    - "dot": q . k; "scaled_dot": q . k / sqrt(dim) (Vaswani et al. 2017, eq. 1);
      both need queries and keys of the same size and have no parameters.
    - "general": q^T W k, with W of shape (query_dim, key_dim).
    - "concat": v^T tanh(W [q; k]), with W of shape (query_dim, query_dim + key_dim) and
      v of size query_dim: Luong's form of additive attention.

    Args:
        score: one of "dot", "scaled_dot" (default), "general", "concat".
        query_dim: features per query; required by "general" and "concat".
        key_dim: features per key; None (default) means `query_dim`.
        dropout: dropout on the weights while training (default 0.0).

    Shapes:
        queries (batch, queries, query_dim), keys (batch, keys, key_dim),
        values (batch, keys, value_dim), padding_mask (batch, keys) bool, True = padding ->
        context (batch, queries, value_dim), weights (batch, queries, keys).

    Example:
        >>> attention = DotProductAttention("general", query_dim=8, key_dim=4)
        >>> context, weights = attention(torch.randn(2, 3, 8), torch.randn(2, 5, 4),
        ...                              torch.randn(2, 5, 6))
        >>> context.shape, weights.shape
        (torch.Size([2, 3, 6]), torch.Size([2, 3, 5]))

    Notebook: 03_dot_product_attention.
    """

    def __init__(
        self,
        score: str = "scaled_dot",
        query_dim: int | None = None,
        key_dim: int | None = None,
        dropout: float = 0.0,
    ):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"unknown score {score!r}; valid scores are {', '.join(SCORES)}")
        if score in ("general", "concat") and query_dim is None:
            raise ValueError(f'score "{score}" has weights: pass query_dim (and key_dim)')
        key_dim = query_dim if key_dim is None else key_dim
        self.score, self.query_dim, self.key_dim = score, query_dim, key_dim
        self.dropout = _check_dropout(dropout)
        if score == "general":
            self.weight = nn.Linear(key_dim, query_dim, bias=False)  # W k, then q . (W k)
        elif score == "concat":
            self.weight = nn.Linear(query_dim + key_dim, query_dim, bias=False)  # W_a
            self.v = nn.Linear(query_dim, 1, bias=False)  # v_a

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_module_inputs(queries, keys, values, self.query_dim, self.key_dim)
        if self.score == "dot":
            scores = dot_score(queries, keys)
        elif self.score == "scaled_dot":
            scores = scaled_dot_score(queries, keys)
        elif self.score == "general":
            scores = dot_score(queries, self.weight(keys))  # q^T W k, (B, Q, K)
        else:
            # W [q; k] = W_left q + W_right k: split W instead of concatenating every pair.
            w_q, w_k = self.weight.weight.split([self.query_dim, self.key_dim], dim=1)
            scores = _additive_scores(queries @ w_q.T, keys @ w_k.T, self.v)  # (B, Q, K)
        return _attend(scores, values, _key_mask(padding_mask, keys), self.dropout, self.training)


class AttentionPooling(nn.Module):
    """Pool a sequence into one vector: a_i = w^T tanh(W h_i + b), p = softmax(a), c = sum p_i h_i.

    Attention with a single learned query (Yang et al. 2016, eqs. 5-7; Raffel and Ellis 2015):
    the model learns which frames matter, e.g. the word in a clip of silence and noise.
    The result does not depend on the order of the frames.

    Args:
        input_dim: features per frame.
        hidden_dim: size of the tanh layer.

    Shapes:
        inputs (batch, time, input_dim), padding_mask (batch, time) bool, True = padding ->
        context (batch, input_dim), weights (batch, time).

    Example:
        >>> pooling = AttentionPooling(input_dim=8, hidden_dim=16)
        >>> context, weights = pooling(torch.randn(2, 50, 8))
        >>> context.shape, weights.shape
        (torch.Size([2, 8]), torch.Size([2, 50]))

    Notebook: 02_additive_attention.
    """

    def __init__(self, input_dim: int, hidden_dim: int):
        super().__init__()
        self.input_dim = input_dim
        self.proj = nn.Linear(input_dim, hidden_dim)  # W, b
        self.w = nn.Linear(hidden_dim, 1, bias=False)  # w

    def forward(
        self, inputs: torch.Tensor, padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_tensor(inputs, "inputs", (3,), f"(batch, time, {self.input_dim})")
        if inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"inputs must have {self.input_dim} features (input_dim), got shape "
                f"{tuple(inputs.shape)}"
            )
        mask = None
        if padding_mask is not None:
            mask = _check_padding_mask(padding_mask, inputs.shape[0], inputs.shape[1])[:, 0]
        scores = self.w(torch.tanh(self.proj(inputs))).squeeze(-1)  # (B, T)
        weights = masked_softmax(scores, mask)  # (B, T)
        context = (weights[..., None] * inputs).sum(dim=1)  # (B, T, D) -> (B, D)
        return context, weights


class LocationSensitiveAttention(nn.Module):
    """Additive attention that also sees where it attended before (Chorowski et al. 2015).

    score_j = v^T tanh(W s + V h_j + U f_j + b), with location features f = F * a_prev: a
    1-D convolution over the previous attention weights (eqs. 8-9 of the paper). As in
    Tacotron 2 (Shen et al. 2018), the convolution reads two channels: the last weights and
    their running sum, so the decoder knows what it has already read and moves on. With
    ``use_location=False`` the U f term is dropped and it is Bahdanau's content-based
    attention, which cannot tell two identical words apart except by their content.

    One decoder step at a time: a single query per example.

    Args:
        query_dim: features of the query (the decoder state).
        key_dim: features of each key (an encoder frame).
        hidden_dim: size of the tanh layer.
        n_filters: channels of the location convolution (default 32, as Tacotron 2).
        kernel_size: its width in frames, odd (default 31, as Tacotron 2).
        in_channels: attention maps it reads (default 2: previous and cumulative weights).
        use_location: add the location term (default True).

    Shapes:
        query (batch, query_dim), keys (batch, keys, key_dim), values (batch, keys, value_dim),
        previous_weights (batch, in_channels, keys), padding_mask (batch, keys) bool,
        True = padding; projected_keys (batch, keys, hidden_dim) from `project_keys` ->
        context (batch, value_dim), weights (batch, keys).

    Example:
        >>> attention = LocationSensitiveAttention(query_dim=6, key_dim=8, hidden_dim=16)
        >>> keys = torch.randn(2, 5, 8)
        >>> previous = torch.zeros(2, 2, 5)
        >>> context, weights = attention(torch.randn(2, 6), keys, keys, previous)
        >>> context.shape, weights.shape
        (torch.Size([2, 8]), torch.Size([2, 5]))

    Notebook: 08_speech_recognition (and 09_speech_synthesis).
    """

    def __init__(
        self,
        query_dim: int,
        key_dim: int,
        hidden_dim: int,
        n_filters: int = 32,
        kernel_size: int = 31,
        in_channels: int = 2,
        use_location: bool = True,
    ):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        self.query_dim, self.key_dim, self.in_channels = query_dim, key_dim, in_channels
        self.use_location = use_location
        self.query_proj = nn.Linear(query_dim, hidden_dim, bias=False)  # W
        self.key_proj = nn.Linear(key_dim, hidden_dim)  # V, with the bias b
        self.v = nn.Linear(hidden_dim, 1, bias=False)  # v
        if use_location:
            self.location_conv = nn.Conv1d(
                in_channels, n_filters, kernel_size, padding=kernel_size // 2, bias=False
            )  # F
            self.location_proj = nn.Linear(n_filters, hidden_dim, bias=False)  # U

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """V h_j + b for every key: (batch, keys, key_dim) -> (batch, keys, hidden_dim).

        The keys do not change while a sentence is decoded: project them once.
        """
        _check_tensor(keys, "keys", (3,), f"(batch, keys, {self.key_dim})")
        return self.key_proj(keys)

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        previous_weights: torch.Tensor | None = None,
        padding_mask: torch.Tensor | None = None,
        projected_keys: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_tensor(query, "query", (2,), f"(batch, {self.query_dim})")
        _check_module_inputs(query[:, None], keys, values, self.query_dim, self.key_dim)
        batch, num_keys, _ = keys.shape
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        energy = projected_keys + self.query_proj(query)[:, None]  # (B, K, H)
        if self.use_location:
            expected = (batch, self.in_channels, num_keys)
            if previous_weights is None or tuple(previous_weights.shape) != expected:
                got = None if previous_weights is None else tuple(previous_weights.shape)
                raise ValueError(
                    f"previous_weights must have shape (batch, in_channels, keys) = {expected}, "
                    f"got {got}"
                )
            location = self.location_conv(previous_weights).transpose(1, 2)  # (B, K, filters)
            energy = energy + self.location_proj(location)  # (B, K, H)
        scores = self.v(torch.tanh(energy)).squeeze(-1)  # (B, K)
        mask = _key_mask(padding_mask, keys)  # (B, 1, K) True = attend, or None
        weights = masked_softmax(scores, None if mask is None else mask[:, 0])  # (B, K)
        context = (weights[:, :, None] * values).sum(dim=1)  # (B, K, Dv) -> (B, Dv)
        return context, weights
