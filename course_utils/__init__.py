"""course_utils: the tested helpers behind the *Attention in Audio* lessons.

One folder per role or lesson (``core``, ``audio``, ``augment``, ``data``, ``attention``,
``exercises``; ``kws``, ``sed``, ``asr``, ``tts``, ``codec``, ``restoration``, ``longform``
for lessons 06-12), plus ``training``, ``metrics``, ``plotting`` and ``interactive``. This
file re-exports the names lessons use, so a lesson writes ``import course_utils as cu`` and
``cu.build_corpus(...)``, and reaches its own folder with ``from course_utils import asr``.
"""

# `core` comes first: importing it checks that torch and torchaudio load together and, if
# they cannot, stops with one message naming the versions and the repair command.
from . import core  # isort: skip
from . import (
    asr,
    attention,
    audio,
    audiotext,
    augment,
    codec,
    data,
    exercises,
    interactive,
    kws,
    longform,
    metrics,
    plotting,
    restoration,
    sed,
    training,
    tts,
)
from .asr import ASRConfig, CharTokenizer, Recognizer
from .attention import (
    AdditiveAttention,
    AttentionPooling,
    DotProductAttention,
    LearnedPositionalEncoding,
    LocationSensitiveAttention,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoderBlock,
    causal_mask,
    dot_score,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    scaled_dot_score,
)
from .audio import (
    MFCC,
    LogMel,
    deltas,
    frame_lengths,
    load_audio,
    log_mel_spectrogram,
    mfcc,
    normalize,
    num_frames,
    play,
    resample,
    rms_db,
    save_audio,
    to_mono,
)
from .augment import (
    AugmentConfig,
    Echo,
    FrequencyWarp,
    NoiseMixer,
    SpecAugment,
    SpecAugmentConfig,
    spec_augment,
)
from .core import (
    Profile,
    atomic_write,
    check_sample_rate,
    check_shape,
    check_waveform,
    cpu_threads,
    data_dir,
    environment,
    environment_report,
    fetch,
    get_device,
    get_profile,
    is_static,
    require_version,
    set_seed,
)
from .data import (
    COMMANDS,
    DIGITS,
    SPLITS,
    UNKNOWN_LABEL,
    UNKNOWN_WORDS,
    Corpus,
    CorpusConfig,
    CorpusSplit,
    RecordingFolder,
    SpeechDataset,
    Voice,
    build_corpus,
    collate_padded,
    digits_config,
    list_accents,
    list_variants,
    load_recordings,
    sentences_config,
    synthesize,
    synthesize_batch,
    voice_splits,
    words_config,
)
from .interactive import interact
from .kws import (
    ClassifierConfig,
    ClassifierOutput,
    CNNClassifier,
    KeywordSpotter,
    KeywordTransformer,
    build_classifier,
)
from .metrics import (
    accuracy,
    attended_span,
    confusion_matrix,
    error_rate,
    sampling_margin,
    top_confusions,
)
from .plotting import plot_attention, plot_events, plot_spectrogram, plot_waveform, table
from .training import (
    History,
    TrainConfig,
    adamw_one_cycle,
    fit,
    load_checkpoint,
    save_checkpoint,
    to_device,
)

__version__ = "0.1.0"

__all__ = [
    # folders and modules
    "asr", "attention", "audio", "audiotext", "augment", "codec", "core", "data", "environment",
    "exercises", "interactive", "kws", "longform", "metrics", "plotting", "restoration", "sed",
    "training", "tts",
    # attention (lessons 01-04)
    "AdditiveAttention", "AttentionPooling", "DotProductAttention", "LearnedPositionalEncoding",
    "LocationSensitiveAttention", "MultiHeadAttention", "SinusoidalPositionalEncoding",
    "TransformerEncoderBlock", "causal_mask", "dot_score", "masked_softmax", "padding_mask",
    "scaled_dot_product_attention", "scaled_dot_score",
    # audio, augmentation, data (lessons 00, 05)
    "LogMel", "MFCC", "deltas", "frame_lengths", "load_audio", "log_mel_spectrogram", "mfcc",
    "normalize", "num_frames", "play", "resample", "rms_db", "save_audio", "to_mono",
    "AugmentConfig", "Echo", "FrequencyWarp", "NoiseMixer", "SpecAugment", "SpecAugmentConfig",
    "spec_augment", "COMMANDS", "DIGITS", "SPLITS", "UNKNOWN_LABEL", "UNKNOWN_WORDS", "Corpus",
    "CorpusConfig", "CorpusSplit", "RecordingFolder", "SpeechDataset", "Voice", "build_corpus",
    "collate_padded", "digits_config", "list_accents", "list_variants", "load_recordings",
    "sentences_config", "synthesize", "synthesize_batch", "voice_splits", "words_config",
    # core
    "Profile", "atomic_write", "check_sample_rate", "check_shape", "check_waveform",
    "cpu_threads", "data_dir", "environment_report", "fetch", "get_device", "get_profile",
    "is_static", "require_version", "set_seed",
    # models, training and scores (lessons 06-08)
    "ASRConfig", "CharTokenizer", "Recognizer", "CNNClassifier", "ClassifierConfig",
    "ClassifierOutput", "KeywordSpotter", "KeywordTransformer", "build_classifier", "History",
    "TrainConfig", "adamw_one_cycle", "fit", "load_checkpoint", "save_checkpoint", "to_device",
    "accuracy", "attended_span", "confusion_matrix", "error_rate", "sampling_margin",
    "top_confusions",
    "interact", "plot_attention", "plot_events", "plot_spectrogram", "plot_waveform", "table",
]  # fmt: skip
