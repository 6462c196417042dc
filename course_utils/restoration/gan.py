"""Lesson 11's two-player training step, written out once.

One step of adversarial training (HiFi-GAN's order):

1. the generator restores the damaged batch;
2. the discriminator's turn: score clean speech and the restored speech *detached* from the
   generator's graph (its loss must not reach the generator), step its own optimizer;
3. the generator's turn: score the restored speech again (now through the graph), and
   step the generator's optimizer on reconstruction + adversarial + feature matching. The
   discriminator's weights are frozen meanwhile: gradients flow through it, not into it.

With no discriminators only the reconstruction term is used: the same loop, no critic.
The critic may judge a random window of each batch (`critic_window` samples; HiFi-GAN
judges 8,192-sample segments), which saves most of its cost. Gradients are clipped to a
norm of `grad_clip` for both players.

Shapes: B batch, S samples.

Notebook: 11_gan_audio_restoration.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ..codec.losses import MultiResolutionSTFTLoss
from .discriminators import Discriminators
from .losses import discriminator_loss, feature_matching_loss, generator_loss, reconstruction_loss
from .model import Restorer

__all__ = ["LossWeights", "train_step"]


@dataclass(frozen=True)
class LossWeights:
    """How the generator's loss terms add up (HiFi-GAN: 45 mel, 1 adversarial, 2 features;
    here the reconstruction term is the waveform L1, whose values are ~100 times smaller)."""

    reconstruction: float = 100.0
    adversarial: float = 1.0
    feature_matching: float = 2.0
    kind: str = "lsgan"  # or "hinge"
    spectral: float = 0.0  # multi-resolution STFT loss (log magnitudes), added to L1


@functools.cache
def _spectral_loss(device: torch.device) -> MultiResolutionSTFTLoss:
    return MultiResolutionSTFTLoss().to(device)


def _frozen(module: torch.nn.Module, frozen: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad_(not frozen)


def _window(clean: torch.Tensor, restored: torch.Tensor, samples: int | None):
    """The same random window of both batches, or both whole when `samples` is None."""
    if samples is None or samples >= clean.shape[-1]:
        return clean, restored
    start = int(torch.randint(clean.shape[-1] - samples + 1, ()))
    return clean[:, start : start + samples], restored[:, start : start + samples]


def train_step(generator: Restorer, damaged: torch.Tensor, clean: torch.Tensor,
               generator_optimizer: torch.optim.Optimizer,
               discriminators: Discriminators | None = None,
               discriminator_optimizer: torch.optim.Optimizer | None = None,
               weights: LossWeights = LossWeights(), critic_window: int | None = None,
               grad_clip: float = 1.0) -> dict[str, float]:  # fmt: skip
    """One training step; returns the losses as floats.

    With `discriminators` None, a reconstruction-only step. Both models must be in train
    mode; damaged and clean are (B, S) on the models' device.
    """
    if damaged.shape != clean.shape or damaged.dim() != 2:
        raise ValueError(
            f"damaged and clean must both be (batch, samples), got {tuple(damaged.shape)} "
            f"and {tuple(clean.shape)}"
        )
    if discriminators is not None and discriminator_optimizer is None:
        raise ValueError("discriminators need their own optimizer: pass discriminator_optimizer")
    restored = generator(damaged)
    real, fake = _window(clean, restored, critic_window)
    log = {}
    if discriminators is not None:
        _frozen(discriminators, False)
        real_logits, _ = discriminators(real)
        fake_logits, _ = discriminators(fake.detach())  # the generator is not trained here
        loss_d = discriminator_loss(real_logits, fake_logits, weights.kind)
        discriminator_optimizer.zero_grad(set_to_none=True)
        loss_d.backward()
        torch.nn.utils.clip_grad_norm_(discriminators.parameters(), grad_clip)
        discriminator_optimizer.step()
        log["discriminator"] = loss_d.item()

    loss_g = weights.reconstruction * reconstruction_loss(restored, clean)
    log["reconstruction"] = loss_g.item() / weights.reconstruction
    if weights.spectral:
        spectral = _spectral_loss(restored.device)(restored, clean)
        loss_g = loss_g + weights.spectral * spectral
        log["spectral"] = spectral.item()
    if discriminators is not None:
        _frozen(discriminators, True)  # gradients pass through the critic, not into it
        fake_logits, fake_features = discriminators(fake)
        with torch.no_grad():
            _, real_features = discriminators(real)
        adversarial = generator_loss(fake_logits, weights.kind)
        matching = feature_matching_loss(real_features, fake_features)
        loss_g = loss_g + weights.adversarial * adversarial + weights.feature_matching * matching
        log["adversarial"], log["feature_matching"] = adversarial.item(), matching.item()
        _frozen(discriminators, False)
    generator_optimizer.zero_grad(set_to_none=True)
    loss_g.backward()
    torch.nn.utils.clip_grad_norm_(generator.parameters(), grad_clip)
    generator_optimizer.step()
    log["generator"] = loss_g.item()
    return log
