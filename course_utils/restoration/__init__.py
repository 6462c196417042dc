"""Lesson 11: GAN audio restoration: denoising and bandwidth extension.

`degrade`: the damage (noise of five kinds at an SNR, a lost high band, a phone line).
`baselines`: the classic answers (Wiener filter, spectral subtraction, sinc interpolation).
`model`: the generator (`Restorer`, a U-Net over spectrogram frames with attention or
convolutions at its bottleneck). `discriminators`: the HiFi-GAN family (multi-resolution
STFT, multi-period). `losses`: reconstruction, adversarial (least squares, hinge) and
feature matching. `gan`: one two-player training step. `data`: training crops and test
pairs. `evaluation`: every system scored on the same pairs. `inference`: `restore` with
checked input. `recipe`: `RestorationRecipe`, `train_restorer` and the shipped generators
(`load_restorer`; ``python -m course_utils.restoration`` rebuilds them).

Notebook: 11_gan_audio_restoration.
"""

from . import (
    baselines,
    data,
    degrade,
    discriminators,
    evaluation,
    gan,
    inference,
    losses,
    model,
    recipe,
)
from .baselines import sinc_upsample, spectral_subtraction, wiener_filter
from .data import PairBatches, load_clean_speech, test_pairs, test_speech
from .degrade import NOISE_KINDS, Degradation, band_limit, make_noise
from .discriminators import (
    Discriminators,
    MultiPeriodDiscriminator,
    MultiResolutionSTFTDiscriminator,
    PeriodDiscriminator,
    STFTDiscriminator,
)
from .evaluation import HIGH_BAND_HZ, restore_all, score_pairs, validation_score
from .gan import LossWeights, train_step
from .inference import check_recording, restore
from .losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
    reconstruction_loss,
)
from .model import BOTTLENECKS, Restorer, RestorerConfig
from .recipe import (
    VARIANTS,
    RestorationProfile,
    RestorationRecipe,
    build_checkpoint,
    checkpoint_path,
    load_restorer,
    save_restorer,
    train_restorer,
)

__all__ = [
    "BOTTLENECKS", "HIGH_BAND_HZ", "NOISE_KINDS", "VARIANTS", "Degradation", "Discriminators",
    "LossWeights", "MultiPeriodDiscriminator", "MultiResolutionSTFTDiscriminator", "PairBatches",
    "PeriodDiscriminator", "RestorationProfile", "RestorationRecipe", "Restorer",
    "RestorerConfig", "STFTDiscriminator", "band_limit", "build_checkpoint", "check_recording",
    "checkpoint_path", "discriminator_loss", "feature_matching_loss",
    "generator_loss", "load_clean_speech", "load_restorer", "make_noise", "reconstruction_loss",
    "restore", "restore_all", "save_restorer", "score_pairs", "sinc_upsample",
    "spectral_subtraction", "test_pairs", "test_speech", "train_restorer", "train_step",
    "validation_score", "wiener_filter",
    # modules
    "baselines", "data", "degrade", "discriminators", "evaluation", "gan", "inference",
    "losses", "model", "recipe",
]  # fmt: skip
