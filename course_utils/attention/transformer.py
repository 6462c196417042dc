"""Multi-head self-attention, positional encodings and a Transformer encoder block.

Built on `course_utils.attention.scaled_dot_product_attention`: each head is the lesson 03
function applied to its own projections (Vaswani et al. 2017, section 3.2.2). The parameter
layout (separate q/k/v projections and `out_proj`) lets `MultiHeadAttention.from_torch` copy
the weights of an `nn.MultiheadAttention`, which the tests use as the trusted reference.

Masks follow `course_utils.attention`: modules take `padding_mask` (batch, keys) bool with
**True = padding**, and convert it once to the functional polarity, **True = may attend**.

Shapes: B batch, T frames, Q queries, K keys, H heads, Dh features per head (head_dim),
E embed_dim = H * Dh, D features of a positional encoding.

Notebook: 04_multi_head_self_attention.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_dropout, check_padding_mask
from .functional import causal_mask
from .functional import scaled_dot_product_attention as _attention

__all__ = [
    "LearnedPositionalEncoding",
    "MultiHeadAttention",
    "SinusoidalPositionalEncoding",
    "TransformerEncoderBlock",
]


def _check_sequence(x: torch.Tensor, name: str, dim: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of shape (batch, time, {dim})")
    if x.ndim != 3 or x.shape[-1] != dim:
        raise ValueError(f"{name} must have shape (batch, time, {dim}), got {tuple(x.shape)}")


def _check_positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class MultiHeadAttention(nn.Module):
    """Multi-head attention: h scaled dot-product attentions on learned projections.

    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O with head_i = Attention(Q W_i^Q,
    K W_i^K, V W_i^V) (Vaswani et al. 2017, section 3.2.2). The h projections of size
    head_dim = embed_dim / num_heads are computed as one (embed_dim, embed_dim) Linear each for
    queries, keys and values, then split into heads.

    Args:
        embed_dim: features per frame, in and out.
        num_heads: number of heads; must divide `embed_dim`.
        dropout: dropout on the attention weights while training (default 0.0).
        bias: add biases to the four projections (default True).

    Shapes:
        query (batch, queries, embed_dim), key and value (batch, keys, embed_dim),
        padding_mask (batch, keys) bool, True = padding ->
        context (batch, queries, embed_dim) and weights: None (need_weights=False, the fused
        kernel), (batch, queries, keys) averaged over heads, or (batch, heads, queries, keys).

    Example:
        >>> attention = MultiHeadAttention(embed_dim=16, num_heads=4)
        >>> x = torch.randn(2, 10, 16)
        >>> context, weights = attention(x, x, x, need_weights=True, average_weights=False)
        >>> context.shape, weights.shape
        (torch.Size([2, 10, 16]), torch.Size([2, 4, 10, 10]))

    Notebook: 04_multi_head_self_attention.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        _check_positive(embed_dim, "embed_dim")
        _check_positive(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(
                f"num_heads ({num_heads}) must divide embed_dim ({embed_dim}) evenly: each head "
                f"gets embed_dim / num_heads features, and {embed_dim} / {num_heads} is not whole"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = check_dropout(dropout)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W^Q of all heads
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W^K
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W^V
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)  # W^O

    @classmethod
    def from_torch(cls, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of `mha`'s weights (on its device and dtype), to test against PyTorch.

        `nn.MultiheadAttention` stacks W^Q, W^K, W^V into `in_proj_weight` (3 * embed_dim,
        embed_dim); this splits it into `q_proj`, `k_proj`, `v_proj`. Its masks have the
        opposite polarity of ours in one case: `key_padding_mask` True = ignore (same as our
        `padding_mask`), `attn_mask` True = NOT allowed (the negation of our causal mask).

        Example:
            >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
            >>> MultiHeadAttention.from_torch(mha).num_heads
            2
        """
        if not isinstance(mha, nn.MultiheadAttention):
            raise TypeError(f"expected an nn.MultiheadAttention, got {type(mha).__name__}")
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise ValueError(
                "only an nn.MultiheadAttention without kdim/vdim, add_bias_kv or add_zero_attn "
                "can be copied"
            )
        bias = mha.in_proj_bias is not None
        module = cls(mha.embed_dim, mha.num_heads, dropout=mha.dropout, bias=bias)
        module.to(device=mha.in_proj_weight.device, dtype=mha.in_proj_weight.dtype)
        with torch.no_grad():
            projections = (module.q_proj, module.k_proj, module.v_proj)
            for proj, weight in zip(projections, mha.in_proj_weight.chunk(3), strict=True):
                proj.weight.copy_(weight)
            if bias:
                for proj, b in zip(projections, mha.in_proj_bias.chunk(3), strict=True):
                    proj.bias.copy_(b)
                module.out_proj.bias.copy_(mha.out_proj.bias)
            module.out_proj.weight.copy_(mha.out_proj.weight)
        return module.train(mha.training)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, time, _ = x.shape
        x = x.view(batch, time, self.num_heads, self.head_dim)  # (B, T, H, Dh)
        return x.transpose(1, 2)  # (B, H, T, Dh)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        causal: bool = False,
        need_weights: bool = False,
        average_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        for tensor, name in ((query, "query"), (key, "key"), (value, "value")):
            _check_sequence(tensor, name, self.embed_dim)
        if not query.shape[0] == key.shape[0] == value.shape[0]:
            raise ValueError(
                f"query, key and value need the same batch size, got {query.shape[0]}, "
                f"{key.shape[0]} and {value.shape[0]}"
            )
        if key.shape[1] != value.shape[1]:
            raise ValueError(
                f"key and value must have the same length, got {key.shape[1]} and {value.shape[1]}"
            )
        batch, num_queries, num_keys = query.shape[0], query.shape[1], key.shape[1]
        mask = None  # True = may attend, from here on
        if padding_mask is not None:
            mask = check_padding_mask(padding_mask, batch, num_keys)[:, None]  # (B, 1, 1, K)
        if causal:
            allowed = causal_mask(num_queries, num_keys, device=query.device)  # (Q, K)
            mask = allowed if mask is None else mask & allowed  # (B, 1, Q, K)
        q = self._split_heads(self.q_proj(query))  # (B, H, Q, Dh)
        k = self._split_heads(self.k_proj(key))  # (B, H, K, Dh)
        v = self._split_heads(self.v_proj(value))  # (B, H, K, Dh)
        context, weights = _attention(
            q, k, v, mask, self.dropout, need_weights=need_weights, training=self.training
        )  # (B, H, Q, Dh), (B, H, Q, K) or None
        context = context.transpose(1, 2).reshape(batch, num_queries, self.embed_dim)  # (B, Q, E)
        if weights is not None and average_weights:
            weights = weights.mean(dim=1)  # (B, Q, K)
        return self.out_proj(context), weights


class SinusoidalPositionalEncoding(nn.Module):
    """Add fixed sinusoids: PE(pos, 2i) = sin(pos / 10000^(2i/dim)), PE(pos, 2i+1) = cos(...).

    Vaswani et al. 2017, section 3.5. Each pair of features is a rotation at its own
    frequency, so a fixed offset between two frames is a linear map of their encodings.

    Args:
        dim: features per frame; must be even.
        max_len: longest sequence the table covers (default 10000 frames).

    Shapes:
        x (batch, time, dim) -> (batch, time, dim), with time <= max_len.

    Example:
        >>> SinusoidalPositionalEncoding(dim=8)(torch.zeros(1, 3, 8))[0, 1, :2]
        tensor([0.8415, 0.5403])

    Notebook: 04_multi_head_self_attention.
    """

    def __init__(self, dim: int, max_len: int = 10000):
        super().__init__()
        _check_positive(max_len, "max_len")
        if _check_positive(dim, "dim") % 2:
            raise ValueError(f"dim must be even (sin/cos pairs), got {dim}")
        self.dim, self.max_len = dim, max_len
        positions = torch.arange(max_len, dtype=torch.float64)[:, None]  # (T, 1)
        frequencies = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # (D/2,)
        angles = positions * frequencies  # (T, D/2)
        table = torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)  # (T, D), interleaved
        # Not persistent: the table is a function of (dim, max_len), not learned state.
        self.register_buffer("table", table.float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_sequence(x, "x", self.dim)
        if x.shape[1] > self.max_len:
            raise ValueError(f"x has {x.shape[1]} frames, more than max_len={self.max_len}")
        positions = self.table[: x.shape[1]].to(device=x.device, dtype=x.dtype)  # (T, D)
        return x + positions


class LearnedPositionalEncoding(nn.Module):
    """Add a learned vector per position (as BERT and wav2vec 2.0's ablations; cf. section 3.5).

    Args:
        dim: features per frame.
        max_len: number of positions learned; longer inputs raise ValueError.

    Shapes:
        x (batch, time, dim) -> (batch, time, dim), with time <= max_len.

    Example:
        >>> LearnedPositionalEncoding(dim=8, max_len=100)(torch.zeros(2, 30, 8)).shape
        torch.Size([2, 30, 8])

    Notebook: 04_multi_head_self_attention.
    """

    def __init__(self, dim: int, max_len: int):
        super().__init__()
        self.dim, self.max_len = _check_positive(dim, "dim"), _check_positive(max_len, "max_len")
        self.positions = nn.Parameter(torch.empty(max_len, dim))  # (T, D)
        nn.init.trunc_normal_(self.positions, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_sequence(x, "x", self.dim)
        if x.shape[1] > self.max_len:
            raise ValueError(
                f"x has {x.shape[1]} frames but only max_len={self.max_len} positions were "
                "learned; crop the input or build the encoding with a larger max_len"
            )
        return x + self.positions[: x.shape[1]]  # (B, T, D) + (T, D)


class TransformerEncoderBlock(nn.Module):
    """Self-attention then a feed-forward network, each wrapped in a residual and LayerNorm.

    Vaswani et al. 2017, section 3.1 (post-norm, `norm_first=False`); the pre-norm variant
    (`norm_first=True`, default) trains more stably without warm-up (Xiong et al. 2020).
    The feed-forward network is Linear -> ReLU -> Linear (eq. 2).

    Args:
        embed_dim: features per frame.
        num_heads: attention heads; must divide `embed_dim`.
        ff_dim: hidden size of the feed-forward network.
        dropout: dropout on attention weights and on both residual branches (default 0.1).
        norm_first: LayerNorm before each sub-layer (default True) or after the residual.

    Shapes:
        x (batch, time, embed_dim), padding_mask (batch, time) bool, True = padding ->
        x (batch, time, embed_dim) and weights (batch, heads, time, time) or None. Outputs at
        padded frames are computed but meaningless: mask them downstream.

    Example:
        >>> block = TransformerEncoderBlock(embed_dim=16, num_heads=4, ff_dim=32)
        >>> y, weights = block(torch.randn(2, 10, 16), need_weights=True)
        >>> y.shape, weights.shape
        (torch.Size([2, 10, 16]), torch.Size([2, 4, 10, 10]))

    Notebook: 04_multi_head_self_attention.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        ff_dim: int,
        dropout: float = 0.1,
        norm_first: bool = True,
    ):
        super().__init__()
        self.norm_first = norm_first
        self.attention = MultiHeadAttention(embed_dim, num_heads, dropout=dropout)
        self.feed_forward = nn.Sequential(
            nn.Linear(embed_dim, _check_positive(ff_dim, "ff_dim")),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(ff_dim, embed_dim),
        )
        self.norm1, self.norm2 = nn.LayerNorm(embed_dim), nn.LayerNorm(embed_dim)
        self.dropout = nn.Dropout(dropout)

    def _self_attention(
        self, x: torch.Tensor, padding_mask: torch.Tensor | None, need_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.attention(
            x, x, x, padding_mask, need_weights=need_weights, average_weights=False
        )

    def forward(
        self, x: torch.Tensor, padding_mask: torch.Tensor | None = None, need_weights: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.norm_first:
            attended, weights = self._self_attention(self.norm1(x), padding_mask, need_weights)
            x = x + self.dropout(attended)
            x = x + self.dropout(self.feed_forward(self.norm2(x)))
        else:
            attended, weights = self._self_attention(x, padding_mask, need_weights)
            x = self.norm1(x + self.dropout(attended))
            x = self.norm2(x + self.dropout(self.feed_forward(x)))
        return x, weights  # (B, T, E), (B, H, T, T) or None
