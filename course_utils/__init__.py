"""course_utils: the tested helpers behind the *Attention in Audio* lessons.

Each module holds one concept; this file re-exports the public API so that a lesson can
write ``import course_utils as cu`` and ``cu.build_corpus(...)``. The augmentation and fetch
functions live in their modules (``course_utils.augment``, ``course_utils.fetch``), lesson 06's
recipe in ``course_utils.kws``, lesson 08's decoding and recipe in ``course_utils.asr_decoding``
and ``course_utils.asr_recipe``, and the exercise checker is ``cu.exercises``.
"""

# First of all: torch and torchaudio must load together. If they cannot, stop here with one
# message naming the versions and the repair command, not a stack trace from inside torch.
from .environment import ensure_torch_stack

ensure_torch_stack()

from . import environment, exercises
from .asr import ASRConfig, CharTokenizer, Recognizer
from .attention import (
    AdditiveAttention,
    AttentionPooling,
    DotProductAttention,
    LocationSensitiveAttention,
    causal_mask,
    dot_score,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    scaled_dot_score,
)
from .audio import load_audio, normalize, play, resample, rms_db, save_audio, to_mono
from .augment import AugmentConfig
from .batch_augment import Echo, FrequencyWarp, NoiseMixer
from .checks import check_sample_rate, check_shape, check_waveform
from .classifiers import (
    ClassifierConfig,
    ClassifierOutput,
    CNNClassifier,
    KeywordSpotter,
    KeywordTransformer,
    build_classifier,
)
from .corpus import (
    COMMANDS,
    DIGITS,
    SPLITS,
    UNKNOWN_LABEL,
    UNKNOWN_WORDS,
    Corpus,
    CorpusConfig,
    CorpusSplit,
    build_corpus,
    digits_config,
    sentences_config,
    voice_splits,
    words_config,
)
from .datasets import SpeechDataset, collate_padded
from .features import MFCC, LogMel, deltas, frame_lengths, log_mel_spectrogram, mfcc, num_frames
from .fetch import fetch
from .files import atomic_write
from .metrics import accuracy, confusion_matrix, error_rate, sampling_margin, top_confusions
from .plotting import plot_attention, plot_events, plot_spectrogram, plot_waveform
from .profile import Profile, get_profile
from .recordings import RecordingFolder, load_recordings
from .runtime import data_dir, environment_report, get_device, require_version, set_seed
from .specaugment import SpecAugment, SpecAugmentConfig, spec_augment
from .training import History, TrainConfig, fit, load_checkpoint, save_checkpoint, to_device
from .transformer import (
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TransformerEncoderBlock,
)
from .tts import Voice, list_accents, list_variants, synthesize, synthesize_batch

__version__ = "0.1.0"

__all__ = [
    "AdditiveAttention", "AttentionPooling", "DotProductAttention", "LearnedPositionalEncoding",
    "LocationSensitiveAttention", "ASRConfig", "CharTokenizer", "Recognizer", "error_rate",
    "MultiHeadAttention", "SinusoidalPositionalEncoding", "TransformerEncoderBlock",
    "causal_mask", "dot_score", "exercises", "masked_softmax", "padding_mask",
    "scaled_dot_product_attention", "scaled_dot_score",
    "CNNClassifier", "ClassifierConfig", "ClassifierOutput", "Echo", "FrequencyWarp",
    "KeywordSpotter", "KeywordTransformer", "NoiseMixer", "SpecAugment", "SpecAugmentConfig",
    "accuracy", "build_classifier", "confusion_matrix", "spec_augment", "top_confusions",
    "sampling_margin", "environment",
    "AugmentConfig", "COMMANDS", "DIGITS", "SPLITS", "UNKNOWN_LABEL", "UNKNOWN_WORDS",
    "Corpus", "CorpusConfig", "CorpusSplit", "History", "LogMel", "MFCC", "Profile",
    "RecordingFolder", "SpeechDataset", "TrainConfig", "Voice",
    "atomic_write", "build_corpus", "check_sample_rate", "check_shape", "check_waveform",
    "collate_padded", "data_dir", "deltas", "digits_config", "environment_report", "fetch",
    "fit", "frame_lengths", "get_device", "get_profile", "list_accents", "list_variants",
    "load_audio", "load_checkpoint", "load_recordings", "log_mel_spectrogram", "mfcc",
    "normalize", "num_frames", "play", "plot_attention", "plot_events", "plot_spectrogram",
    "plot_waveform", "require_version", "resample", "rms_db", "save_audio", "save_checkpoint",
    "sentences_config", "set_seed", "synthesize", "synthesize_batch", "to_device", "to_mono",
    "voice_splits", "words_config",
]  # fmt: skip
