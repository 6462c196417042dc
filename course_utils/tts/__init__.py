"""Lesson 09: speech synthesis, a Tacotron that learns to align text with sound.

`text`: characters to ids. `mel`: the mel frames the model predicts (`mel_target`) and
their normalisation. `config`: `TTSConfig` and its presets. `encoder`, `decoder`, `model`:
the network (`Tacotron`). `losses`: mel, stop-token and guided-attention losses.
`alignment`: focus rate, jumps, diagonality and coverage of an alignment. `inference`:
greedy synthesis with a stop rule and a length cap. `vocoder`: Griffin-Lim, to hear mels
(`mel_to_waveform`). `data`: one eSpeak voice saying many distinct sentences, split by
sentence and cached (`build_tts_data`). `evaluation`: free-running scores and lesson 08's
recogniser as the judge of intelligibility. `recipe`: `TTSRecipe`, `train_synthesizer` and
the shipped checkpoint (`load_synthesizer`; ``python -m course_utils.tts`` rebuilds it).

Notebook: 09_speech_synthesis.
"""

from . import (
    alignment,
    config,
    data,
    decoder,
    encoder,
    evaluation,
    inference,
    losses,
    mel,
    model,
    recipe,
    text,
    vocoder,
)
from .alignment import alignment_jumps, coverage, diagonal_mass, focus_rate, word_errors
from .config import ATTENTION_KINDS, TTSConfig
from .data import TTSDataConfig, TTSDataset, build_tts_data
from .decoder import DecoderState, MelDecoder, Prenet
from .encoder import TextEncoder
from .evaluation import PAD_SECONDS, judged, recognizer_cer, score_synthesizer
from .inference import STOP_THRESHOLD, Synthesis, generate, synthesize
from .losses import (
    TTSLosses,
    guided_attention_loss,
    guided_attention_weights,
    masked_mel_loss,
    stop_targets,
    tacotron_loss,
)
from .mel import MelSettings, db_to_mel, mel_frames, mel_target, mel_to_db
from .model import Postnet, Tacotron, TacotronOutput
from .recipe import (
    TTSHistory,
    TTSRecipe,
    build_checkpoint,
    checkpoint_path,
    load_synthesizer,
    train_synthesizer,
)
from .text import PAD, TextTokenizer
from .vocoder import GriffinLimVocoder, mel_to_waveform

__all__ = [
    "alignment",
    "config",
    "data",
    "decoder",
    "encoder",
    "evaluation",
    "inference",
    "losses",
    "mel",
    "model",
    "recipe",
    "text",
    "vocoder",
    "alignment_jumps",
    "build_checkpoint",
    "checkpoint_path",
    "judged",
    "load_synthesizer",
    "PAD_SECONDS",
    "recognizer_cer",
    "score_synthesizer",
    "build_tts_data",
    "ATTENTION_KINDS",
    "coverage",
    "db_to_mel",
    "DecoderState",
    "diagonal_mass",
    "focus_rate",
    "generate",
    "GriffinLimVocoder",
    "guided_attention_loss",
    "guided_attention_weights",
    "masked_mel_loss",
    "mel_frames",
    "mel_target",
    "mel_to_db",
    "mel_to_waveform",
    "MelDecoder",
    "MelSettings",
    "PAD",
    "Postnet",
    "Prenet",
    "STOP_THRESHOLD",
    "stop_targets",
    "Synthesis",
    "synthesize",
    "Tacotron",
    "tacotron_loss",
    "TacotronOutput",
    "TextEncoder",
    "TextTokenizer",
    "TTSConfig",
    "TTSDataConfig",
    "TTSDataset",
    "TTSHistory",
    "TTSLosses",
    "TTSRecipe",
    "train_synthesizer",
    "word_errors",
]
