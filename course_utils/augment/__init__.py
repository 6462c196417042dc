"""Augmentation: what runs offline on waveforms, and what runs per training batch.

Offline, in numpy, when the corpus is generated: `waveform` (gain, shift, noise at an SNR,
`snr_gain`, the one SNR formula the whole package uses, and `augment`, which applies
everything), `rooms` (reverberation, telephone and band limits), `perturb` (speed and pitch).
Per batch, in torch, on the training device: `batch` (noise, echo, VTLP frequency warping)
and `specaugment` (masks on features).

Notebook: 05_audio_features_and_data.
"""

from . import batch, perturb, rooms, specaugment, waveform
from .batch import (
    Echo,
    FrequencyWarp,
    NoiseMixer,
    frequency_warp,
    mel_band_centers,
)
from .perturb import (
    change_speed,
    shift_pitch,
)
from .rooms import (
    TELEPHONE_BAND_HZ,
    band_limit,
    reverberate,
    room_impulse_response,
    telephone,
)
from .specaugment import (
    SpecAugment,
    SpecAugmentConfig,
    spec_augment,
    spec_augment_mask,
)
from .waveform import (
    NOISE_COLORS,
    AugmentConfig,
    add_noise,
    apply_gain,
    augment,
    colored_noise,
    pad_or_crop,
    snr_gain,
    time_shift,
)

__all__ = [
    "batch",
    "perturb",
    "rooms",
    "specaugment",
    "waveform",
    "add_noise",
    "apply_gain",
    "augment",
    "AugmentConfig",
    "band_limit",
    "change_speed",
    "colored_noise",
    "Echo",
    "frequency_warp",
    "FrequencyWarp",
    "mel_band_centers",
    "NOISE_COLORS",
    "NoiseMixer",
    "pad_or_crop",
    "reverberate",
    "room_impulse_response",
    "shift_pitch",
    "snr_gain",
    "spec_augment",
    "spec_augment_mask",
    "SpecAugment",
    "SpecAugmentConfig",
    "telephone",
    "TELEPHONE_BAND_HZ",
    "time_shift",
]
