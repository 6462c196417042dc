"""Attention: the functional core, the classic layers and the transformer.

`functional`: masks, masked softmax, scores and scaled dot-product attention, returning
`(context, weights)`. `layers`: additive, dot-product, pooling and location-sensitive
attention. `transformer`: multi-head attention, positional encodings, the encoder block.

Notebook: 01_attention_as_weighted_average.
"""

from . import functional, layers, transformer
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
from .transformer import (
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoderBlock,
)

__all__ = [
    "functional",
    "layers",
    "transformer",
    "AdditiveAttention",
    "AttentionPooling",
    "causal_mask",
    "dot_score",
    "DotProductAttention",
    "LearnedPositionalEncoding",
    "LocationSensitiveAttention",
    "masked_softmax",
    "MultiHeadAttention",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaled_dot_score",
    "SCORES",
    "SinusoidalPositionalEncoding",
    "TransformerEncoderBlock",
]
