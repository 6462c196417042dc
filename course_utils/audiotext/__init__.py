"""Lesson 13: audio meets text: cross-attention that finds words, and audio-text retrieval.

`data`: sentences spoken word by word by unseen or training voices, with every word's span
(command sentences and word lists). `text`: characters to ids and a text encoder.
`audio_encoder`: waveforms to a batch, and a convolutional encoder of local 40 ms frames.
`fusion`: `CrossAttention` (text queries over audio frames), the `SpokenTermDetector`
(trained on presence alone; its attention says where) and the `OrderClassifier` ("is A said
before B?") with cross-attention or concatenation fusion. `contrastive`: the `DualEncoder`,
`info_nce` and `recall_at_k`. `train`: batches and training loops. `evaluation`: `search`,
detection, localisation, retrieval and order scores. `recipe`: the shipped models
(``python -m course_utils.audiotext`` rebuilds them) and the lesson's profile.

Notebook: 13_multimodal_audio_text.
"""

from . import audio_encoder, contrastive, data, evaluation, fusion, recipe, text, train
from .audio_encoder import HOP_SECONDS, AudioEncoder, output_lengths, prepare_audio
from .contrastive import DualConfig, DualEncoder, info_nce, recall_at_k
from .data import (
    KINDS,
    QUERIES,
    SINGLE_WORDS,
    SLOTS,
    AudioTextConfig,
    Utterance,
    UtteranceSet,
    find_span,
    make_utterance,
    make_utterances,
)
from .evaluation import (
    Found,
    compare_fusions,
    detection_scores,
    distinct,
    order_scores,
    retrieval_scores,
    search,
)
from .fusion import (
    FUSIONS,
    CrossAttention,
    DetectorConfig,
    OrderClassifier,
    SpokenTermDetector,
    time_features,
)
from .recipe import (
    RECIPES,
    AudioTextProfile,
    build_checkpoint,
    load_detector,
    load_dual,
    main,
    save_model,
    test_scores,
)
from .text import ALPHABET, PAD, TextEncoder, encode_texts
from .train import (
    Schedule,
    audio_batch,
    distinct_batches,
    encode_pairs,
    encode_queries,
    order_pairs,
    presence_loss,
    presence_queries,
    said_matrix,
    train_detector,
    train_dual,
    train_order,
)

__all__ = [
    "audio_encoder",
    "contrastive",
    "data",
    "evaluation",
    "fusion",
    "recipe",
    "text",
    "train",
    "ALPHABET",
    "AudioEncoder",
    "AudioTextConfig",
    "AudioTextProfile",
    "audio_batch",
    "build_checkpoint",
    "compare_fusions",
    "CrossAttention",
    "detection_scores",
    "DetectorConfig",
    "distinct",
    "distinct_batches",
    "DualConfig",
    "DualEncoder",
    "encode_pairs",
    "encode_queries",
    "encode_texts",
    "find_span",
    "Found",
    "FUSIONS",
    "HOP_SECONDS",
    "info_nce",
    "KINDS",
    "load_detector",
    "load_dual",
    "main",
    "make_utterance",
    "make_utterances",
    "order_pairs",
    "order_scores",
    "OrderClassifier",
    "output_lengths",
    "PAD",
    "prepare_audio",
    "presence_loss",
    "presence_queries",
    "QUERIES",
    "recall_at_k",
    "RECIPES",
    "retrieval_scores",
    "said_matrix",
    "save_model",
    "Schedule",
    "search",
    "SINGLE_WORDS",
    "SLOTS",
    "SpokenTermDetector",
    "test_scores",
    "TextEncoder",
    "time_features",
    "train_detector",
    "train_dual",
    "train_order",
    "Utterance",
    "UtteranceSet",
]
