"""course_utils.restoration.gan: one two-player step, who learns from what, windows, errors."""

import math

import pytest
import torch

from course_utils.restoration.discriminators import Discriminators
from course_utils.restoration.gan import LossWeights, train_step
from course_utils.restoration.losses import (
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
    reconstruction_loss,
)
from course_utils.restoration.model import Restorer, RestorerConfig

SAMPLES = 2048
GAN_KEYS = {"discriminator", "reconstruction", "adversarial", "feature_matching", "generator"}


def _generator(seed: int = 0) -> Restorer:
    """A tiny generator whose last layer is not zero (as after some training)."""
    torch.manual_seed(seed)
    model = Restorer(RestorerConfig.preset("tiny")).train()
    with torch.no_grad():
        model.decode.weight.normal_(0.0, 0.01)
    return model


def _batch(samples: int = SAMPLES, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    clean = 0.3 * torch.sin(2 * math.pi * 440 * torch.arange(samples) / 16000).repeat(2, 1)
    damaged = clean + 0.1 * torch.randn(2, samples, generator=generator)
    return damaged, clean


def _state(module: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before: dict, module: torch.nn.Module) -> set:
    return {k for k, v in module.state_dict().items() if not torch.equal(before[k], v)}


def test_reconstruction_only_step_changes_only_the_generator():
    model, critic = _generator(), Discriminators()
    damaged, clean = _batch()
    inputs, generator_before, critic_before = (
        (damaged.clone(), clean.clone()),
        _state(model),
        _state(critic),
    )
    with torch.no_grad():
        expected = reconstruction_loss(model(damaged), clean).item()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    log = train_step(model, damaged, clean, optimizer)
    assert set(log) == {"reconstruction", "generator"}
    assert all(isinstance(v, float) for v in log.values())
    assert log["reconstruction"] == pytest.approx(expected, rel=1e-5)
    assert log["generator"] == pytest.approx(100.0 * expected, rel=1e-5)  # default weight
    assert _changed(generator_before, model) == set(generator_before)  # every weight moved
    assert not _changed(critic_before, critic)
    assert torch.equal(damaged, inputs[0]) and torch.equal(clean, inputs[1])


def test_adversarial_step_returns_every_loss_and_trains_both():
    model, critic = _generator(), Discriminators().train()
    damaged, clean = _batch()
    generator_before, critic_before = _state(model), _state(critic)
    opt_g = torch.optim.Adam(model.parameters(), 1e-3)
    opt_d = torch.optim.Adam(critic.parameters(), 1e-3)
    weights = LossWeights(reconstruction=10.0, adversarial=0.5, feature_matching=3.0)
    log = train_step(model, damaged, clean, opt_g, critic, opt_d, weights)
    assert set(log) == GAN_KEYS
    assert all(isinstance(v, float) and math.isfinite(v) for v in log.values())
    total = 10.0 * log["reconstruction"] + 0.5 * log["adversarial"] + 3.0 * log["feature_matching"]
    assert log["generator"] == pytest.approx(total, rel=1e-5)
    assert _changed(critic_before, critic) == set(critic_before)
    assert _changed(generator_before, model) == set(generator_before)
    assert all(p.requires_grad for p in critic.parameters())  # unfrozen after the step
    assert all(p.requires_grad for p in model.parameters())


def test_hinge_step_runs():
    model, critic = _generator(), Discriminators()
    damaged, clean = _batch()
    opt_g = torch.optim.Adam(model.parameters(), 1e-3)
    opt_d = torch.optim.Adam(critic.parameters(), 1e-3)
    log = train_step(model, damaged, clean, opt_g, critic, opt_d, LossWeights(kind="hinge"))
    assert set(log) == GAN_KEYS and all(math.isfinite(v) for v in log.values())


def test_critic_gradient_comes_from_its_own_loss_only():
    """The generator's turn must leave no gradient on the critic: with a critic learning
    rate of 0, its .grad after the step is exactly that of `discriminator_loss`."""
    model, critic = _generator(), Discriminators()
    damaged, clean = _batch()
    with torch.no_grad():
        restored = model(damaged)
    real_logits, _ = critic(clean)
    fake_logits, _ = critic(restored)
    params = list(critic.parameters())
    expected = torch.autograd.grad(discriminator_loss(real_logits, fake_logits), params)
    critic_before = _state(critic)
    opt_g = torch.optim.SGD(model.parameters(), lr=0.0)
    opt_d = torch.optim.SGD(critic.parameters(), lr=0.0)
    train_step(model, damaged, clean, opt_g, critic, opt_d, critic_window=None, grad_clip=1e9)
    assert not _changed(critic_before, critic)
    for parameter, grad in zip(params, expected, strict=True):
        assert parameter.grad is not None
        torch.testing.assert_close(parameter.grad, grad, rtol=1e-5, atol=1e-7)


def test_generator_gradient_is_its_total_loss_only():
    """The critic's turn (on the detached output) adds nothing to the generator's gradient."""
    model, critic = _generator(), Discriminators()
    damaged, clean = _batch()
    weights = LossWeights()
    restored = model(damaged)
    fake_logits, fake_features = critic(restored)
    with torch.no_grad():
        _, real_features = critic(clean)
    loss = (
        weights.reconstruction * reconstruction_loss(restored, clean)
        + weights.adversarial * generator_loss(fake_logits)
        + weights.feature_matching * feature_matching_loss(real_features, fake_features)
    )
    params = list(model.parameters())
    expected = torch.autograd.grad(loss, params)
    opt_g = torch.optim.SGD(model.parameters(), lr=0.0)
    opt_d = torch.optim.SGD(critic.parameters(), lr=0.0)
    log = train_step(model, damaged, clean, opt_g, critic, opt_d, weights, grad_clip=1e9)
    assert log["generator"] == pytest.approx(loss.item(), rel=1e-5)
    for parameter, grad in zip(params, expected, strict=True):
        torch.testing.assert_close(parameter.grad, grad, rtol=1e-4, atol=1e-7)


def test_gradients_are_clipped():
    model, critic = _generator(), Discriminators()
    damaged, clean = _batch()
    opt_g = torch.optim.SGD(model.parameters(), lr=0.0)
    opt_d = torch.optim.SGD(critic.parameters(), lr=0.0)
    train_step(model, damaged, clean, opt_g, critic, opt_d, grad_clip=1e-3)
    for module in (model, critic):
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in module.parameters()]))
        assert norm <= 1e-3 * (1 + 1e-4)


@pytest.mark.parametrize("window", [1024, SAMPLES, 8192])
def test_critic_window_shorter_or_longer_than_the_batch(window):
    model, critic = _generator(), Discriminators()
    damaged, clean = _batch()
    critic_before = _state(critic)
    opt_g = torch.optim.Adam(model.parameters(), 1e-3)
    opt_d = torch.optim.Adam(critic.parameters(), 1e-3)
    log = train_step(model, damaged, clean, opt_g, critic, opt_d, critic_window=window)
    assert set(log) == GAN_KEYS and all(math.isfinite(v) for v in log.values())
    assert _changed(critic_before, critic)


def test_mismatched_or_unbatched_input_is_refused():
    model = _generator()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    with pytest.raises(
        ValueError, match=r"both be \(batch, samples\), got \(2, 2048\) and \(2, 2000\)"
    ):
        train_step(model, torch.zeros(2, 2048), torch.zeros(2, 2000), optimizer)
    with pytest.raises(ValueError, match=r"both be \(batch, samples\)"):
        train_step(model, torch.zeros(2048), torch.zeros(2048), optimizer)
    with pytest.raises(ValueError, match=r"both be \(batch, samples\)"):
        train_step(model, torch.zeros(2, 1, 2048), torch.zeros(2, 1, 2048), optimizer)


def test_reconstruction_steps_learn_to_denoise_a_sine():
    """A sine in white noise at 0 dB: 20 L1 steps already remove most of the noise.

    (At a learning rate of 3e-3 this toy diverges: the zero-initialised last layer moves
    every weight of a bin's gain together and exp(g) overshoots, the L1 loss spikes 100x.)
    """
    torch.manual_seed(0)
    model = Restorer(RestorerConfig.preset("tiny")).train()
    optimizer = torch.optim.Adam(model.parameters(), 3e-4)
    t = torch.arange(SAMPLES) / 16000
    clean = 0.3 * torch.sin(2 * math.pi * 440 * t).repeat(2, 1)
    noise_rms = clean.pow(2).mean().sqrt()  # white noise at 0 dB SNR

    def noisy(seed):
        noise = torch.randn(2, SAMPLES, generator=torch.Generator().manual_seed(seed))
        return clean + noise_rms * noise

    held_out = noisy(999)
    with torch.no_grad():
        before = reconstruction_loss(model(held_out), clean).item()
    for step in range(20):
        train_step(model, noisy(step), clean, optimizer)
    with torch.no_grad():
        after = reconstruction_loss(model.eval()(held_out), clean).item()
    assert after < 0.5 * before
