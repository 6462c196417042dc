"""course_utils.restoration.losses: each loss on a case worked by hand, detaching, errors."""

import pytest
import torch

from course_utils.restoration.losses import (
    ADVERSARIAL_KINDS,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
    reconstruction_loss,
)

T = torch.tensor


def test_reconstruction_loss_is_the_mean_absolute_error():
    restored = T([[0.5, -0.5, 0.0], [1.0, 0.0, 0.0]])
    clean = T([[0.0, 0.0, 0.0], [0.0, 0.0, 0.5]])
    # |errors| = 0.5, 0.5, 0, 1, 0, 0.5: sum 2.5 over 6 samples
    assert reconstruction_loss(restored, clean).item() == pytest.approx(2.5 / 6)
    assert reconstruction_loss(clean, clean).item() == 0.0


def test_lsgan_discriminator_loss_by_hand():
    real = [T([1.0, 0.0]), T([[0.5]])]
    fake = [T([0.0, 1.0]), T([[-1.0]])]
    # map 1: mean((r - 1)^2) = (0 + 1) / 2 = 0.5;   mean(f^2) = (0 + 1) / 2 = 0.5 -> 1.0
    # map 2: (0.5 - 1)^2 = 0.25;                    (-1)^2 = 1                   -> 1.25
    # averaged over the two maps: (1.0 + 1.25) / 2 = 1.125
    assert discriminator_loss(real, fake).item() == pytest.approx(1.125)
    assert discriminator_loss(real, fake, kind="lsgan").item() == pytest.approx(1.125)
    # the ideal critic: real at 1, restored at 0
    assert discriminator_loss([torch.ones(3)], [torch.zeros(3)]).item() == 0.0


def test_lsgan_generator_loss_by_hand():
    fake = [T([0.0, 1.0]), T([0.5])]
    # map 1: mean((f - 1)^2) = (1 + 0) / 2 = 0.5; map 2: (0.5 - 1)^2 = 0.25
    # averaged over the two maps: (0.5 + 0.25) / 2 = 0.375
    assert generator_loss(fake).item() == pytest.approx(0.375)
    assert generator_loss([torch.ones(4)]).item() == 0.0


def test_hinge_discriminator_loss_by_hand():
    real = [T([2.0, 0.0]), T([0.5])]
    fake = [T([-2.0, 0.5]), T([0.0])]
    # map 1: mean(relu(1 - r)) = (0 + 1) / 2 = 0.5;  mean(relu(1 + f)) = (0 + 1.5) / 2 = 0.75
    #        -> 1.25
    # map 2: relu(1 - 0.5) = 0.5;                    relu(1 + 0) = 1              -> 1.5
    # averaged: (1.25 + 1.5) / 2 = 1.375
    assert discriminator_loss(real, fake, kind="hinge").item() == pytest.approx(1.375)
    # beyond the margins the hinge is zero: real > 1 and fake < -1
    assert discriminator_loss([T([3.0])], [T([-3.0])], kind="hinge").item() == 0.0


def test_hinge_generator_loss_by_hand():
    fake = [T([1.0, 3.0]), T([-1.0])]
    # map 1: -mean(f) = -2; map 2: -(-1) = 1; averaged: (-2 + 1) / 2 = -0.5
    assert generator_loss(fake, kind="hinge").item() == pytest.approx(-0.5)


def test_feature_matching_by_hand_is_a_mean_over_all_layers():
    # discriminator A: two layers; discriminator B: one layer
    real = [[T([0.0, 0.0]), T([1.0, 1.0, 1.0, 1.0])], [T([[2.0]])]]
    fake = [[T([1.0, 0.0]), T([1.0, 1.0, 1.0, 0.0])], [T([[0.0]])]]
    # A layer 1: mean |f - r| = (1 + 0) / 2 = 0.5
    # A layer 2: (0 + 0 + 0 + 1) / 4 = 0.25
    # B layer 1: |0 - 2| = 2
    # mean over the three layers (not over discriminators): (0.5 + 0.25 + 2) / 3 = 2.75 / 3
    assert feature_matching_loss(real, fake).item() == pytest.approx(2.75 / 3)
    assert feature_matching_loss(real, real).item() == 0.0


def test_real_features_are_detached():
    real_layer = T([0.0, 1.0]).requires_grad_(True)
    fake_layer = T([1.0, 1.0]).requires_grad_(True)
    loss = feature_matching_loss([[real_layer]], [[fake_layer]])
    loss.backward()
    assert real_layer.grad is None
    # d/df mean |f - r| = sign(f - r) / 2 = (0.5, 0) (0 where f == r)
    assert torch.allclose(fake_layer.grad, T([0.5, 0.0]))


def test_losses_pass_gradients_to_their_inputs():
    real = T([0.5, 2.0]).requires_grad_(True)
    fake = T([0.5, -0.5]).requires_grad_(True)
    discriminator_loss([real], [fake]).backward()
    # d/dr mean((r - 1)^2) = (r - 1) = (-0.5, 1); d/df mean(f^2) = f = (0.5, -0.5)
    assert torch.allclose(real.grad, T([-0.5, 1.0]))
    assert torch.allclose(fake.grad, T([0.5, -0.5]))
    fake.grad = None
    generator_loss([fake]).backward()
    # d/df mean((f - 1)^2) = f - 1 = (-0.5, -1.5)
    assert torch.allclose(fake.grad, T([-0.5, -1.5]))


def test_unknown_kind_is_refused():
    assert ADVERSARIAL_KINDS == ("lsgan", "hinge")
    with pytest.raises(ValueError, match="adversarial loss must be one of"):
        discriminator_loss([T([1.0])], [T([0.0])], kind="wasserstein")
    with pytest.raises(ValueError, match="adversarial loss must be one of"):
        generator_loss([T([1.0])], kind="LSGAN")


def test_mismatched_or_empty_lists_are_refused():
    with pytest.raises(ValueError, match="as many score maps for real and restored, got 2 and 1"):
        discriminator_loss([T([1.0]), T([1.0])], [T([0.0])])
    with pytest.raises(ValueError, match="got 0 and 0"):
        discriminator_loss([], [])
    with pytest.raises(ValueError, match="at least one score map"):
        generator_loss([])
    with pytest.raises(ValueError, match="discriminators' features"):
        feature_matching_loss([[T([1.0])]], [[T([1.0])], [T([1.0])]])
    with pytest.raises(ValueError, match="need as many layers for real and restored, got 2 and 1"):
        feature_matching_loss([[T([1.0]), T([1.0])]], [[T([1.0])]])
    with pytest.raises(ValueError, match=r"restored \(1, 3\) and clean \(1, 2\) differ"):
        reconstruction_loss(torch.zeros(1, 3), torch.zeros(1, 2))
