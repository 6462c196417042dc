"""The classic attention layers: additive, dot-product, pooling and location-sensitive.

Thin modules over `functional`: each returns `(context, weights)` so a lesson can plot the
weights without hidden state, and takes `padding_mask` (batch, keys) with **True = padding**
(the polarity of `nn.MultiheadAttention`'s `key_padding_mask`), converted once with `~` to
the functional API's True = may attend.

Shapes: B batch, Q queries, K keys, T frames (pooling), D features per frame, Dv features
per value, A the additive attention's hidden size (its tanh layer; never heads, which are H in
`transformer`).

Notebook: 02_additive_attention (03_dot_product_attention, 08_speech_recognition).
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_dropout, check_module_inputs, check_padding_mask, check_tensor
from .functional import _attend, _key_mask, dot_score, masked_softmax, scaled_dot_score

__all__ = [
    "SCORES",
    "AdditiveAttention",
    "AttentionPooling",
    "DotProductAttention",
    "LocationSensitiveAttention",
]

SCORES = ("dot", "scaled_dot", "general", "concat")


def _additive_scores(
    projected_queries: torch.Tensor, projected_keys: torch.Tensor, v: nn.Linear
) -> torch.Tensor:
    """v^T tanh(q' + k') for every query-key pair, from already projected (..., n, hidden)."""
    hidden = torch.tanh(projected_queries[..., :, None, :] + projected_keys[..., None, :, :])
    return v(hidden).squeeze(-1)  # (B, Q, K, A) -> (B, Q, K)


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
        self.dropout = check_dropout(dropout)

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_module_inputs(queries, keys, values, self.query_dim, self.key_dim)
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
        self.dropout = check_dropout(dropout)
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
        check_module_inputs(queries, keys, values, self.query_dim, self.key_dim)
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
        check_tensor(inputs, "inputs", (3,), f"(batch, time, {self.input_dim})")
        if inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"inputs must have {self.input_dim} features (input_dim), got shape "
                f"{tuple(inputs.shape)}"
            )
        mask = None
        if padding_mask is not None:
            mask = check_padding_mask(padding_mask, inputs.shape[0], inputs.shape[1])[:, 0]
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

    Notebook: 08_speech_recognition (lesson 09, speech synthesis, will use it too).
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
        check_tensor(keys, "keys", (3,), f"(batch, keys, {self.key_dim})")
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
        check_tensor(query, "query", (2,), f"(batch, {self.query_dim})")
        check_module_inputs(query[:, None], keys, values, self.query_dim, self.key_dim)
        batch, num_keys, _ = keys.shape
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        energy = projected_keys + self.query_proj(query)[:, None]  # (B, K, A)
        if self.use_location:
            expected = (batch, self.in_channels, num_keys)
            if previous_weights is None or tuple(previous_weights.shape) != expected:
                got = None if previous_weights is None else tuple(previous_weights.shape)
                raise ValueError(
                    f"previous_weights must have shape (batch, in_channels, keys) = {expected}, "
                    f"got {got}"
                )
            location = self.location_conv(previous_weights).transpose(1, 2)  # (B, K, filters)
            energy = energy + self.location_proj(location)  # (B, K, A)
        scores = self.v(torch.tanh(energy)).squeeze(-1)  # (B, K)
        mask = _key_mask(padding_mask, keys)  # (B, 1, K) True = attend, or None
        weights = masked_softmax(scores, None if mask is None else mask[:, 0])  # (B, K)
        context = (weights[:, :, None] * values).sum(dim=1)  # (B, K, Dv) -> (B, Dv)
        return context, weights
