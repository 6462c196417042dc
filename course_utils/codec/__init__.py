"""Lesson 10: neural audio compression, from an autoencoder to residual vector quantisation.

`quantize`: vector quantisation and residual VQ (k-means start, EMA updates, dead-code
restarts, commitment loss, straight-through gradients) and codebook use. `model`: the codec
(`Codec`: encoder, optional latent transformers, residual VQ, decoder) and bitrate
arithmetic. `spectral`: the STFT encoder and the magnitude decoder with Griffin-Lim (the
shipped codec's ends); `conv`: SoundStream's strided waveform encoder and its mirrored
decoder. `losses`: log-magnitude, multi-resolution STFT and log-mel losses. `data`: clean
corpus speech and random training crops. `baselines`: mu-law, Opus and MP3 through soundfile.
`inference`: `compress` / `decompress` at a chosen bitrate. `evaluation`: quality measures
per system and bitrate (`rate_distortion`). `recipe`: `CodecRecipe`, `train_codec` and the
shipped checkpoints (`load_codec`; ``python -m course_utils.codec`` rebuilds them).

Notebook: 10_neural_audio_compression.
"""

from . import (
    baselines,
    conv,
    data,
    evaluation,
    inference,
    losses,
    model,
    quantize,
    recipe,
    spectral,
)
from .baselines import (
    CLASSIC_CODECS,
    ClassicCodec,
    check_codec_support,
    classic_roundtrip,
    estimate_delay,
    mu_law_roundtrip,
)
from .conv import Decoder, Encoder
from .data import CodecSpeech, RandomCrops, codec_corpus_configs, load_codec_speech
from .evaluation import codebook_use, codec_roundtrip, rate_distortion, score_clips
from .inference import compress, decompress, served_bitrates, stages_for
from .losses import LogMagnitudeLoss, MelLoss, MultiResolutionSTFTLoss, stft_magnitude
from .model import DECODERS, ENCODERS, Codec, CodecConfig, LatentTransformer, bitrate
from .quantize import ResidualVQ, VectorQuantizer, codebook_usage, kmeans, nearest_code
from .recipe import (
    CHECKPOINT_DIR,
    VARIANTS,
    CodecProfile,
    CodecRecipe,
    build_checkpoint,
    checkpoint_name,
    checkpoint_path,
    codec_loss,
    load_codec,
    save_codec,
    test_clips,
    train_codec,
)
from .spectral import ConvNeXtBlock, MagnitudeDecoder, STFTEncoder, griffin_lim, log_magnitude

__all__ = [
    "baselines",
    "conv",
    "data",
    "evaluation",
    "inference",
    "losses",
    "model",
    "quantize",
    "recipe",
    "spectral",
    "bitrate",
    "build_checkpoint",
    "check_codec_support",
    "CHECKPOINT_DIR",
    "checkpoint_name",
    "checkpoint_path",
    "CLASSIC_CODECS",
    "classic_roundtrip",
    "ClassicCodec",
    "codebook_usage",
    "codebook_use",
    "Codec",
    "codec_corpus_configs",
    "codec_loss",
    "codec_roundtrip",
    "CodecConfig",
    "CodecProfile",
    "CodecRecipe",
    "CodecSpeech",
    "compress",
    "ConvNeXtBlock",
    "decompress",
    "Decoder",
    "DECODERS",
    "Encoder",
    "ENCODERS",
    "estimate_delay",
    "griffin_lim",
    "kmeans",
    "LatentTransformer",
    "load_codec",
    "load_codec_speech",
    "log_magnitude",
    "LogMagnitudeLoss",
    "MagnitudeDecoder",
    "MelLoss",
    "mu_law_roundtrip",
    "MultiResolutionSTFTLoss",
    "nearest_code",
    "RandomCrops",
    "rate_distortion",
    "ResidualVQ",
    "save_codec",
    "score_clips",
    "served_bitrates",
    "stages_for",
    "STFTEncoder",
    "stft_magnitude",
    "test_clips",
    "train_codec",
    "VARIANTS",
    "VectorQuantizer",
]
