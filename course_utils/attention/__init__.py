"""Attention: the functional core, the classic layers and the transformer.

`functional`: masks, masked softmax, scores and scaled dot-product attention, returning
`(context, weights)`. `layers`: additive, dot-product, pooling and location-sensitive
attention. `transformer`: multi-head attention, positional encodings, the encoder block.
`local`: sliding-window attention in O(T * window) memory, and its `band_mask` (lesson 12).
`chunked`: exact attention tile by tile with the online softmax, FlashAttention's algorithm.
`streaming`: causal attention a chunk at a time, with a key-value cache of the past.
`backends`: forcing and listing PyTorch's SDPA kernels; counting attention's FLOPs.

Notebook: 01_attention_as_weighted_average.
"""

from . import backends, chunked, functional, layers, local, streaming, transformer
from .backends import SDPA_BACKENDS, attention_flops, available_backends, sdpa
from .chunked import (
    OnlineSoftmaxState,
    chunked_attention,
    online_softmax_context,
    online_softmax_step,
)
from .functional import (
    causal_mask,
    dot_score,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    scaled_dot_score,
)
from .layers import (
    SCORES,
    AdditiveAttention,
    AttentionPooling,
    DotProductAttention,
    LocationSensitiveAttention,
)
from .local import band_mask, local_attention
from .streaming import KVCache, StreamingAttention, streaming_attention
from .transformer import (
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoderBlock,
)

__all__ = [
    "backends",
    "chunked",
    "functional",
    "layers",
    "local",
    "streaming",
    "transformer",
    "AdditiveAttention",
    "attention_flops",
    "AttentionPooling",
    "available_backends",
    "band_mask",
    "causal_mask",
    "chunked_attention",
    "dot_score",
    "DotProductAttention",
    "KVCache",
    "LearnedPositionalEncoding",
    "local_attention",
    "LocationSensitiveAttention",
    "masked_softmax",
    "MultiHeadAttention",
    "online_softmax_context",
    "online_softmax_step",
    "OnlineSoftmaxState",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaled_dot_score",
    "SCORES",
    "sdpa",
    "SDPA_BACKENDS",
    "SinusoidalPositionalEncoding",
    "streaming_attention",
    "StreamingAttention",
    "TransformerEncoderBlock",
]
