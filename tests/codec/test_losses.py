"""course_utils.codec.losses: zero on identical signals, larger for worse ones, gradients."""

import math

import torch

from course_utils.codec.losses import MelLoss, MultiResolutionSTFTLoss, stft_magnitude


def _tone(freq: float, samples: int = 8000) -> torch.Tensor:
    return torch.sin(2 * math.pi * freq * torch.arange(samples) / 16000)[None, None]


def test_identical_signals_cost_nothing():
    x = _tone(440.0)
    assert float(MultiResolutionSTFTLoss()(x, x)) == 0.0
    assert float(MelLoss()(x, x)) == 0.0


def test_spectral_losses_ignore_a_phase_shift_that_l1_punishes():
    x = _tone(500.0)
    shifted = torch.roll(x, 16, dims=-1)  # half a period of 500 Hz: the sign flips
    assert float((x - shifted).abs().mean()) > 0.5
    assert float(MelLoss()(shifted, x)) < 0.05


def test_farther_pitch_costs_more():
    x, near, far = _tone(440.0), _tone(460.0), _tone(2000.0)
    for loss in (MultiResolutionSTFTLoss(), MelLoss()):
        assert float(loss(near, x)) < float(loss(far, x))


def test_spectral_convergence_by_hand():
    x = _tone(440.0)[0]
    half = 0.5 * x
    loss = MultiResolutionSTFTLoss(sizes=(512,))
    # |S/2 - S| / |S| = 0.5, and |log(S/2) - log S| = log 2 wherever S is above the floor
    mag = stft_magnitude(x, 512, 128, torch.hann_window(512))
    above = (0.5 * mag > 1e-7).float().mean()
    expected = 0.5 + math.log(2) * above
    assert torch.isclose(loss(half[None], x[None]), expected, atol=1e-3)


def test_gradients_flow_to_the_output():
    x = _tone(440.0)
    y = (0.3 * x).clone().requires_grad_(True)
    (MultiResolutionSTFTLoss()(y, x) + MelLoss()(y, x)).backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0
