"""Tests for course_utils.augment.specaugment: mask bounds, padding, determinism, gradients."""

from __future__ import annotations

import pytest
import torch
import torchaudio

from course_utils.augment.specaugment import (
    SpecAugment,
    SpecAugmentConfig,
    spec_augment,
    spec_augment_mask,
)

N_MELS, FRAMES = 40, 101


def features(batch: int = 3, device: str = "cpu", seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, N_MELS, FRAMES, generator=g) * 10 - 40).to(device)  # dB-like


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def runs(line: torch.Tensor) -> list[int]:
    """Lengths of the runs of True in a 1-D bool tensor."""
    lengths, current = [], 0
    for value in line.tolist() + [False]:
        if value:
            current += 1
        elif current:
            lengths.append(current)
            current = 0
    return lengths


def split_mask(mask: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(n_mels, frames) mask -> masked rows (n_mels,) and masked columns (frames,)."""
    valid = mask[:, :length]
    return valid.all(dim=1), valid.all(dim=0)


@pytest.mark.parametrize("batch", [1, 4])
def test_shapes_dtype_device(batch, device):
    x = features(batch, device)
    y = spec_augment(x, generator=gen())
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
    mask = spec_augment_mask(x, generator=gen())
    assert mask.shape == x.shape and mask.dtype == torch.bool and mask.device == x.device


def test_unbatched_input_matches_batch_of_one():
    x = features(1)
    torch.testing.assert_close(
        spec_augment(x[0], generator=gen(3)), spec_augment(x, generator=gen(3))[0]
    )
    assert spec_augment_mask(x[0]).shape == (N_MELS, FRAMES)


def test_masked_cells_hold_the_fill_and_the_rest_is_unchanged():
    x = features(4)
    mask = spec_augment_mask(x, generator=gen(1))
    y = spec_augment(x, generator=gen(1))
    assert mask.any()
    torch.testing.assert_close(y[~mask], x[~mask], rtol=0, atol=0)
    means = x.mean(dim=(1, 2))  # "mean" fill: each example's own mean
    for b in range(4):
        torch.testing.assert_close(y[b][mask[b]], means[b].expand(int(mask[b].sum())))
    zero = spec_augment(x, SpecAugmentConfig(fill="zero"), generator=gen(1))
    assert (zero[mask] == 0).all()


def test_input_is_untouched():
    x = features()
    before = x.clone()
    y = spec_augment(x, generator=gen())
    assert torch.equal(x, before) and y.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("seed", range(20))
def test_counts_and_widths_never_exceed_the_config(seed):
    config = SpecAugmentConfig(freq_masks=2, freq_width=6, time_masks=3, time_width=12,
                               max_time_fraction=0.1)  # fmt: skip
    lengths = torch.tensor([101, 60, 25])
    mask = spec_augment_mask(features(), config, lengths, generator=gen(seed))
    for b, length in enumerate(lengths.tolist()):
        rows, cols = split_mask(mask[b], length)
        # Each masked cell is on a masked row (frequency band) or column (time span).
        assert torch.equal(mask[b, :, :length], rows[:, None] | cols[None, :])
        assert int(rows.sum()) <= config.freq_masks * config.freq_width
        assert len(runs(rows)) <= config.freq_masks
        time_cap = min(config.time_width, int(config.max_time_fraction * length))
        assert int(cols.sum()) <= config.time_masks * time_cap
        assert len(runs(cols)) <= config.time_masks


def test_one_mask_of_each_kind_is_one_contiguous_band():
    config = SpecAugmentConfig(freq_masks=1, freq_width=8, time_masks=1, time_width=10)
    widths_f, widths_t = set(), set()
    for seed in range(200):
        mask = spec_augment_mask(features(1)[0], config, generator=gen(seed))
        rows, cols = split_mask(mask, FRAMES)
        assert len(runs(rows)) <= 1 and len(runs(cols)) <= 1
        widths_f.add(int(rows.sum()))
        widths_t.add(int(cols.sum()))
    # Widths are uniform on {0, ..., F} and {0, ..., T}, both ends included (Park et al.).
    assert widths_f == set(range(9)) and widths_t == set(range(11))


def test_time_masks_stay_inside_valid_frames_and_padding_is_untouched(device):
    x = features(3, device)
    lengths = torch.tensor([101, 40, 7], device=device)
    config = SpecAugmentConfig(freq_masks=3, time_masks=4, time_width=30, max_time_fraction=1.0)
    for seed in range(10):
        mask = spec_augment_mask(x, config, lengths, generator=gen(seed))
        y = spec_augment(x, config, lengths, generator=gen(seed))
        for b, length in enumerate(lengths.tolist()):
            assert not mask[b, :, length:].any()
            assert torch.equal(y[b, :, length:], x[b, :, length:])


def test_mean_fill_ignores_padding():
    x = features(1)
    x[..., 50:] = -1000.0  # padding far from the speech's level
    y = spec_augment(x, SpecAugmentConfig(freq_masks=1, freq_width=40, time_masks=0),
                     lengths=torch.tensor([50]), generator=gen(0))  # fmt: skip
    mask = spec_augment_mask(x, SpecAugmentConfig(freq_masks=1, freq_width=40, time_masks=0),
                             lengths=torch.tensor([50]), generator=gen(0))  # fmt: skip
    assert mask.any()
    torch.testing.assert_close(y[mask], x[..., :50].mean().expand(int(mask.sum())))


def test_max_time_fraction_caps_time_masks():
    config = SpecAugmentConfig(freq_masks=0, time_masks=1, time_width=100, max_time_fraction=0.05)
    for seed in range(50):
        mask = spec_augment_mask(features(1), config, generator=gen(seed))
        assert int(mask[0].all(dim=0).sum()) <= int(0.05 * FRAMES)


def test_generator_determinism_and_independent_examples():
    x = features(1).expand(8, N_MELS, FRAMES)  # eight identical examples
    a = spec_augment(x, generator=gen(7))
    b = spec_augment(x, generator=gen(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, spec_augment(x, generator=gen(8)))
    masks = spec_augment_mask(x, generator=gen(7))
    assert len({m.numpy().tobytes() for m in masks}) > 1, "each example draws its own masks"


def test_global_generator_follows_the_seed():
    torch.manual_seed(0)
    a = spec_augment(features())
    torch.manual_seed(0)
    assert torch.equal(a, spec_augment(features()))


def test_cpu_generator_gives_the_same_masks_on_any_device(device):
    x = features(2)
    expected = spec_augment_mask(x, generator=gen(5))
    assert torch.equal(spec_augment_mask(x.to(device), generator=gen(5)).cpu(), expected)


@pytest.mark.parametrize(
    "config", [SpecAugmentConfig.none(), SpecAugmentConfig(freq_width=0, time_width=0)]
)
def test_none_is_identity(config):
    x = features()
    assert config.is_identity
    assert not spec_augment_mask(x, config, generator=gen()).any()
    assert torch.equal(spec_augment(x, config, generator=gen()), x)


def test_presets():
    assert SpecAugmentConfig.default() == SpecAugmentConfig()
    light, default = SpecAugmentConfig.light(), SpecAugmentConfig.default()
    assert light.freq_masks * light.freq_width < default.freq_masks * default.freq_width
    assert light.time_masks * light.time_width < default.time_masks * default.time_width
    assert not light.is_identity


def test_module_masks_in_training_and_is_identity_in_eval(device):
    layer = SpecAugment(SpecAugmentConfig.default()).to(device)
    x = features(2, device)
    torch.manual_seed(0)
    assert not torch.equal(layer.train()(x), x)
    assert layer.eval()(x) is x
    assert torch.equal(layer(x, torch.tensor([50, 101], device=device)), x)
    assert "freq_masks=2" in repr(layer)


def test_module_matches_function_with_the_same_global_seed():
    x, lengths = features(), torch.tensor([101, 80, 30])
    torch.manual_seed(3)
    out = SpecAugment()(x, lengths)
    torch.manual_seed(3)
    assert torch.equal(out, spec_augment(x, SpecAugmentConfig(), lengths))


@pytest.mark.parametrize("fill", ["mean", "zero"])
def test_gradient_reaches_exactly_the_unmasked_cells(fill, device):
    x = features(2, device).requires_grad_(True)
    config = SpecAugmentConfig(fill=fill)
    y = spec_augment(x, config, generator=gen(2))
    y.sum().backward()
    mask = spec_augment_mask(x.detach(), config, generator=gen(2))
    torch.testing.assert_close(x.grad, (~mask).to(x.dtype))


def test_masked_bands_look_like_torchaudio_masks():
    """torchaudio's FrequencyMasking fills whole rows with one value, constant across time;
    TimeMasking whole columns. Ours does the same (with fill="zero", the same value)."""
    ones = torch.ones(1, N_MELS, FRAMES)
    torch.manual_seed(0)
    ta_freq = torchaudio.transforms.FrequencyMasking(freq_mask_param=8)(ones)[0]
    ta_time = torchaudio.transforms.TimeMasking(time_mask_param=10, p=0.2)(ones)[0]
    freq_only = SpecAugmentConfig(freq_masks=1, freq_width=8, time_masks=0, fill="zero")
    time_only = SpecAugmentConfig(freq_masks=0, time_masks=1, time_width=10, fill="zero")
    ours_freq = spec_augment(ones, freq_only, generator=gen(4))[0]
    ours_time = spec_augment(ones, time_only, generator=gen(4))[0]
    for freq, time in ((ta_freq, ta_time), (ours_freq, ours_time)):
        masked_rows = (freq == 0).all(dim=1)
        assert torch.equal(freq == 0, masked_rows[:, None].expand(N_MELS, FRAMES))
        assert len(runs(masked_rows)) <= 1 and int(masked_rows.sum()) <= 8
        masked_cols = (time == 0).all(dim=0)
        assert torch.equal(time == 0, masked_cols[None, :].expand(N_MELS, FRAMES))
        assert len(runs(masked_cols)) <= 1 and int(masked_cols.sum()) <= min(10, int(0.2 * FRAMES))


def test_mask_widths_have_torchaudios_range():
    """Over many draws both reach wide masks and never exceed F (torchaudio stops at F - 1)."""
    x = torch.ones(200, N_MELS, FRAMES)
    torch.manual_seed(0)
    ta = torchaudio.transforms.FrequencyMasking(freq_mask_param=8, iid_masks=True)(x.unsqueeze(1))
    ta_widths = (ta[:, 0] == 0).all(dim=2).sum(dim=1)
    config = SpecAugmentConfig(freq_masks=1, freq_width=8, time_masks=0, fill="zero")
    ours_widths = spec_augment_mask(x, config, generator=gen(0)).all(dim=2).sum(dim=1)
    assert int(ta_widths.max()) == 7 and int(ours_widths.max()) == 8
    assert abs(ta_widths.float().mean() - 3.5) < 0.6 and abs(ours_widths.float().mean() - 4) < 0.6


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"freq_masks": -1}, ValueError, "freq_masks"),
        ({"time_width": -2}, ValueError, "time_width"),
        ({"freq_width": 2.5}, TypeError, "freq_width"),
        ({"max_time_fraction": 0.0}, ValueError, "max_time_fraction"),
        ({"max_time_fraction": 1.5}, ValueError, "max_time_fraction"),
        ({"max_time_fraction": float("nan")}, ValueError, "max_time_fraction"),
        ({"fill": "median"}, ValueError, "fill"),
    ],
)
def test_config_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        SpecAugmentConfig(**kwargs)


@pytest.mark.parametrize(
    "x, lengths, error, match",
    [
        (torch.zeros(40), None, ValueError, r"\(batch, n_mels, frames\)"),
        (torch.zeros(2, 1, 40, 101), None, ValueError, r"\(batch, n_mels, frames\)"),
        (torch.zeros(2, 40, 0), None, ValueError, "empty"),
        (torch.zeros(2, 40, 101, dtype=torch.long), None, ValueError, "floating point"),
        (torch.full((2, 40, 101), float("-inf")), None, ValueError, "floor"),
        (torch.zeros(2, 40, 101), torch.tensor([101]), ValueError, r"shape \(batch,\)"),
        (torch.zeros(2, 40, 101), torch.tensor([101.0, 50.0]), ValueError, "integer"),
        (torch.zeros(2, 40, 101), torch.tensor([16000, 8000]), ValueError, "frame_lengths"),
        (torch.zeros(2, 40, 101), torch.tensor([0, 50]), ValueError, "between 1"),
        ([[0.0]], None, TypeError, "torch tensor"),
    ],
)
def test_input_errors(x, lengths, error, match):
    with pytest.raises(error, match=match):
        spec_augment(x, lengths=lengths)
    with pytest.raises(error, match=match):
        spec_augment_mask(x, lengths=lengths)


def test_config_type_errors():
    with pytest.raises(TypeError, match="SpecAugmentConfig"):
        spec_augment(features(), {"freq_masks": 1})
    with pytest.raises(TypeError, match="SpecAugmentConfig"):
        SpecAugment("default")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_precision_mean_fill_stays_finite(dtype):
    x = torch.full((2, 80, 1000), -60.0, dtype=dtype)  # a float16 sum of these would overflow
    y = spec_augment(x, generator=gen(0))
    assert y.dtype == dtype and torch.isfinite(y).all()
    mask = spec_augment_mask(x, generator=gen(0))
    assert (y[mask] == -60.0).all()
