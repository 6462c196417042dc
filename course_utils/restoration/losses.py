"""Lesson 11's losses: reconstruction, adversarial (least-squares or hinge), feature matching.

- `reconstruction_loss`: mean absolute error between waveforms (L1). Where the phase cannot
  be predicted (noise-like parts, the lost high band) the sample values that minimise it are
  the average over the phases it might have been: close to zero. So a generator trained on
  L1 alone is safe and muffled.
- `discriminator_loss` / `generator_loss`: the two players' adversarial losses, averaged
  over the sub-discriminators. Least squares (LSGAN, Mao et al. 2017, HiFi-GAN's choice):
  the discriminator pushes real scores to 1 and restored ones to 0; the generator pushes
  its scores to 1. Hinge (MelGAN): the discriminator wants real > 1 and fake < -1; the
  generator raises its scores.
- `feature_matching_loss`: L1 between the discriminator's hidden activations on the clean
  and on the restored signal (Larsen et al. 2016; MelGAN, HiFi-GAN): a learned perceptual
  distance that rewards the right texture without asking for the exact waveform.

Logits: lists of score maps, one per sub-discriminator; features: lists of lists of
activations. Real features are treated as constants (detached).

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "ADVERSARIAL_KINDS",
    "discriminator_loss",
    "feature_matching_loss",
    "generator_loss",
    "reconstruction_loss",
]

ADVERSARIAL_KINDS = ("lsgan", "hinge")


def _check_kind(kind: str) -> None:
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(f"adversarial loss must be one of {ADVERSARIAL_KINDS}, got {kind!r}")


def _check_lists(a: list, b: list, what: str) -> None:
    if len(a) != len(b) or not a:
        raise ValueError(f"need as many {what} for real and restored, got {len(a)} and {len(b)}")


def reconstruction_loss(restored: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Mean absolute sample error.

    Example:
        >>> reconstruction_loss(torch.tensor([[0.5, -0.5]]), torch.tensor([[0.0, 0.0]]))
        tensor(0.5000)
    """
    if restored.shape != clean.shape:
        raise ValueError(f"restored {tuple(restored.shape)} and clean {tuple(clean.shape)} differ")
    return F.l1_loss(restored, clean)


def discriminator_loss(real_logits: list[torch.Tensor], fake_logits: list[torch.Tensor],
                       kind: str = "lsgan") -> torch.Tensor:  # fmt: skip
    """The discriminator's loss: real scores toward 1 (hinge: above 1), restored toward 0
    (hinge: below -1), averaged over the sub-discriminators.

    Example:
        >>> discriminator_loss([torch.tensor([1.0, 0.5])], [torch.tensor([0.0, 0.5])])
        tensor(0.2500)
    """
    _check_kind(kind)
    _check_lists(real_logits, fake_logits, "score maps")
    total = 0.0
    for real, fake in zip(real_logits, fake_logits, strict=True):
        if kind == "lsgan":
            total = total + torch.mean((real - 1) ** 2) + torch.mean(fake**2)
        else:
            total = total + torch.mean(F.relu(1 - real)) + torch.mean(F.relu(1 + fake))
    return total / len(real_logits)


def generator_loss(fake_logits: list[torch.Tensor], kind: str = "lsgan") -> torch.Tensor:
    """The generator's adversarial loss: its scores toward 1 (hinge: as high as possible).

    Example:
        >>> generator_loss([torch.tensor([0.0, 1.0]), torch.tensor([0.5])])  # (0.5 + 0.25) / 2
        tensor(0.3750)
    """
    _check_kind(kind)
    if not fake_logits:
        raise ValueError("need at least one score map")
    if kind == "lsgan":
        total = sum(torch.mean((fake - 1) ** 2) for fake in fake_logits)
    else:
        total = sum(-torch.mean(fake) for fake in fake_logits)
    return total / len(fake_logits)


def feature_matching_loss(real_features: list[list[torch.Tensor]],
                          fake_features: list[list[torch.Tensor]]) -> torch.Tensor:  # fmt: skip
    """Mean over sub-discriminators and layers of L1(real activation, restored activation).

    Example:
        >>> real = [[torch.zeros(2), torch.ones(2)]]
        >>> fake = [[torch.ones(2), torch.ones(2)]]
        >>> feature_matching_loss(real, fake)
        tensor(0.5000)
    """
    _check_lists(real_features, fake_features, "discriminators' features")
    total, count = 0.0, 0
    for real_layers, fake_layers in zip(real_features, fake_features, strict=True):
        _check_lists(real_layers, fake_layers, "layers")
        for real, fake in zip(real_layers, fake_layers, strict=True):
            total = total + F.l1_loss(fake, real.detach())
            count += 1
    return total / count
