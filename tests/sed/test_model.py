"""Tests for course_utils.sed: shapes, backward, determinism, padding, attention weights."""

import pytest
import torch

from course_utils.sed.model import CRNN, CNNTransformer, SEDConfig, SEDOutput

MODELS = [CRNN, CNNTransformer]
TINY = SEDConfig.preset("tiny")


def _model(cls, device, **overrides):
    torch.manual_seed(0)
    return cls(SEDConfig.preset("tiny", **overrides)).to(device)


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("batch, frames", [(1, 50), (3, 41), (2, 8)])
def test_output_shapes(cls, batch, frames, device):
    model = _model(cls, device).eval()
    out = model(torch.randn(batch, TINY.n_mels, frames, device=device))
    assert isinstance(out, SEDOutput)
    assert out.logits.shape == (batch, frames, TINY.num_classes)
    assert out.logits.device.type == torch.device(device).type and out.weights is None


@pytest.mark.parametrize("cls", MODELS)
def test_backward_reaches_every_parameter(cls, device):
    model = _model(cls, device).train()
    out = model(torch.randn(2, TINY.n_mels, 30, device=device), torch.tensor([30, 20]))
    target = torch.rand(2, 30, TINY.num_classes, device=device).round()
    torch.nn.functional.binary_cross_entropy_with_logits(out.logits, target).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("cls", MODELS)
def test_eval_is_deterministic(cls, device):
    model = _model(cls, device).eval()
    x = torch.randn(2, TINY.n_mels, 40, device=device)
    torch.testing.assert_close(model(x).logits, model(x).logits)


@pytest.mark.parametrize("cls, positions", [(CRNN, "conv"), (CNNTransformer, "conv"),
                                            (CNNTransformer, "sinusoidal")])  # fmt: skip
def test_padding_does_not_change_the_valid_frames(cls, positions, device):
    # A clip of 30 frames alone, and padded to 50 inside a batch: same logits on its frames.
    model = _model(cls, device, dropout=0.0, positions=positions).eval()
    clip = torch.randn(1, TINY.n_mels, 30, device=device)
    alone = model(clip).logits
    padded = torch.cat([clip, torch.full((1, TINY.n_mels, 20), 7.0, device=device)], dim=-1)
    batch = torch.cat([padded, torch.randn(1, TINY.n_mels, 50, device=device)])
    together = model(batch, torch.tensor([30, 50], device=device)).logits
    torch.testing.assert_close(together[0, :30], alone[0], atol=1e-5, rtol=1e-5)


def test_attention_weights_rows_sum_to_one_and_skip_padding(device):
    model = _model(CNNTransformer, device).eval()
    x = torch.randn(2, TINY.n_mels, 40, device=device)
    out = model(x, torch.tensor([40, 24], device=device), need_weights=True)
    frames = 40 // TINY.time_pool
    assert out.weights.shape == (2, TINY.num_heads, frames, frames)
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(2, TINY.num_heads, frames,
                                                               device=device))  # fmt: skip
    assert out.weights[1, :, :, 24 // TINY.time_pool :].abs().max() == 0  # padded keys


def test_crnn_returns_no_weights_and_budgets_are_close():
    assert CRNN(TINY)(torch.randn(1, TINY.n_mels, 20), need_weights=True).weights is None
    small = SEDConfig.preset("small")
    counts = [sum(p.numel() for p in cls(small).parameters()) for cls in MODELS]
    assert max(counts) / min(counts) < 1.25, counts  # same budget, give or take


def test_frame_rate_is_restored_for_odd_lengths():
    model = CRNN(SEDConfig.preset("tiny", time_pool=4)).eval()
    assert model(torch.randn(1, TINY.n_mels, 23)).logits.shape[1] == 23


def test_bad_input_and_config_raise():
    model = CRNN(TINY)
    with pytest.raises(ValueError, match=r"\(batch, n_mels=16, frames\)"):
        model(torch.randn(2, 40, 30))
    with pytest.raises(ValueError, match=r"lengths must be in \[1, frames=30\]"):
        model(torch.randn(2, 16, 30), torch.tensor([31, 3]))
    with pytest.raises(ValueError, match=r"lengths must have shape \(batch,\) = \(2,\)"):
        model(torch.randn(2, 16, 30), torch.tensor([30]))
    with pytest.raises(ValueError, match="divisible by num_heads"):
        SEDConfig(dim=30, num_heads=4)
    with pytest.raises(ValueError, match="one entry per conv block"):
        SEDConfig(channels=(8, 16), freq_pools=(4,))
    with pytest.raises(ValueError, match="positions"):
        SEDConfig(positions="rotary")
    with pytest.raises(ValueError, match="position_kernel"):
        SEDConfig(position_kernel=4)
    with pytest.raises(ValueError, match="unknown preset"):
        SEDConfig.preset("huge")
