"""Audio in and out, and the features models read.

`io`: load and save through soundfile, resample (and the one polyphase filter the corpus
resamples with), mono, normalise, play. `features`:
log-mel, MFCC and deltas on torchaudio's transforms, and the per-clip standardisation.
`quality`: STOI, wideband PESQ, SI-SDR, the log-mel and log-spectral distances of processed
speech against the clean original (lessons 10 and 11). `microphone`: the `Microphone` widget,
which records the learner's voice in the browser and hands it to a Python callback.

Notebook: 05_audio_features_and_data.
"""

from . import features, io, microphone, quality
from .features import (
    MFCC,
    LogMel,
    deltas,
    frame_lengths,
    log_mel_spectrogram,
    mfcc,
    num_frames,
    standardize,
)
from .io import (
    load_audio,
    normalize,
    play,
    resample,
    resampling_filter,
    rms_db,
    save_audio,
    to_mono,
)
from .microphone import Microphone
from .quality import log_spectral_distance, mel_distance, pesq_wb, quality_scores, si_sdr, stoi

__all__ = [
    "features",
    "io",
    "microphone",
    "quality",
    "deltas",
    "frame_lengths",
    "load_audio",
    "log_mel_spectrogram",
    "log_spectral_distance",
    "LogMel",
    "mel_distance",
    "Microphone",
    "MFCC",
    "mfcc",
    "normalize",
    "num_frames",
    "pesq_wb",
    "play",
    "quality_scores",
    "resample",
    "resampling_filter",
    "rms_db",
    "save_audio",
    "si_sdr",
    "standardize",
    "stoi",
    "to_mono",
]
