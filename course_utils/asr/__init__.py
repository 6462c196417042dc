"""Lesson 08: speech recognition with CTC, attention and both.

`tokenizer`: characters to ids. `model`: the recogniser (subsampling, BiGRU encoder, CTC
head, speller with location-sensitive attention). `decoding`: greedy, beam and joint
CTC-attention decoding. `alignment`: forced alignment and word segments. `dataset`: the
corpora and their features. `inference`: transcripts, CER / WER and `recognize` (any sample
rate). `recipe`: training and the shipped checkpoints (`python -m course_utils.asr`
rebuilds them). `real_speech`: scores on folders of real recordings of digits.

Notebook: 08_speech_recognition.
"""

from . import alignment, dataset, decoding, inference, model, real_speech, recipe, tokenizer
from .alignment import (
    WordSegment,
    forced_align,
    word_segments,
)
from .dataset import (
    HOP_LENGTH,
    N_MELS,
    SAMPLE_RATE,
    FeatureSet,
    asr_corpus_configs,
    demo_digits_config,
    isolated_words_config,
    log_mel_features,
    long_digits_config,
    training_configs,
)
from .decoding import (
    CTCPrefixScorer,
    Hypothesis,
    attention_beam_search,
    attention_greedy_decode,
    beam_search,
    ctc_greedy_decode,
    ctc_log_likelihood,
)
from .inference import (
    PAD_SECONDS,
    recognizer_cer,
)
from .model import (
    ASRConfig,
    ASROutput,
    AttentionDecoder,
    ConvSubsampling,
    Recognizer,
    SpeechEncoder,
    ctc_loss,
    decoder_targets,
)
from .recipe import (
    CHECKPOINT_DIR,
    ASRHistory,
    ASRProfile,
    ASRRecipe,
    build_checkpoints,
    checkpoint_path,
    load_recognizer,
    recognize,
    score,
    train_recognizer,
    transcribe,
)
from .tokenizer import (
    BLANK,
    EOS,
    CharTokenizer,
)

__all__ = [
    "alignment",
    "dataset",
    "decoding",
    "inference",
    "model",
    "recipe",
    "tokenizer",
    "asr_corpus_configs",
    "isolated_words_config",
    "training_configs",
    "real_speech",
    "ASRConfig",
    "ASRHistory",
    "ASROutput",
    "ASRRecipe",
    "attention_beam_search",
    "attention_greedy_decode",
    "AttentionDecoder",
    "beam_search",
    "BLANK",
    "build_checkpoints",
    "CharTokenizer",
    "CHECKPOINT_DIR",
    "checkpoint_path",
    "ConvSubsampling",
    "ctc_greedy_decode",
    "ctc_log_likelihood",
    "ctc_loss",
    "CTCPrefixScorer",
    "decoder_targets",
    "demo_digits_config",
    "EOS",
    "FeatureSet",
    "forced_align",
    "HOP_LENGTH",
    "Hypothesis",
    "PAD_SECONDS",
    "recognizer_cer",
    "load_recognizer",
    "log_mel_features",
    "long_digits_config",
    "N_MELS",
    "recognize",
    "Recognizer",
    "SAMPLE_RATE",
    "score",
    "SpeechEncoder",
    "train_recognizer",
    "transcribe",
    "word_segments",
    "WordSegment",
    "ASRProfile",
]
