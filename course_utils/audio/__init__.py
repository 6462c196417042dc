"""Audio in and out, and the features models read.

`io`: load and save through soundfile, resample (and the one polyphase filter the corpus
resamples with), mono, normalise, play. `features`:
log-mel, MFCC and deltas on torchaudio's transforms, and the per-clip standardisation.

Notebook: 05_audio_features_and_data.
"""

from . import features, io
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

__all__ = [
    "features",
    "io",
    "deltas",
    "frame_lengths",
    "load_audio",
    "log_mel_spectrogram",
    "LogMel",
    "MFCC",
    "mfcc",
    "normalize",
    "num_frames",
    "play",
    "resample",
    "resampling_filter",
    "rms_db",
    "save_audio",
    "standardize",
    "to_mono",
]
