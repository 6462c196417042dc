"""Lesson 12's exercises agree with the package they teach: the reference online-softmax step
is ``attention.online_softmax_step`` (its state, step by step, and the context it ends in is
full attention's), the reference band mask is ``attention.band_mask`` and the masks
``local_attention`` follows, and the receptive field is the detector's
``longform.receptive_field_seconds`` as well as a brute-force reach through stacked band
masks. test_bank.py checks that every listed mistake gets its hint."""

import math

import pytest
import torch

from course_utils import attention
from course_utils.attention import functional
from course_utils.exercises import get_exercise
from course_utils.longform import DetectorConfig, receptive_field_seconds
from course_utils.longform.model import SUBSAMPLING


def _reference(name):
    return get_exercise(f"12.{name}").reference


def _cases(name):
    return get_exercise(f"12.{name}").make_cases(torch.Generator().manual_seed(0))


# ----- 12.online_softmax_step -----


def test_online_step_is_the_package_step_on_the_cases():
    step = _reference("online_softmax_step")
    for row_max, row_sum, accumulator, scores, values in _cases("online_softmax_step"):
        mine = step(row_max, row_sum, accumulator, scores, values)
        state = None
        if torch.isfinite(row_max).all():  # a state carried over from a first block
            state = attention.OnlineSoftmaxState(row_max, row_sum, accumulator)
        package = attention.online_softmax_step(state, scores, values)
        for got, expected in zip(mine, package, strict=True):
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("block", [1, 3, 8, 50])
def test_online_steps_end_in_full_attention(block):
    g = torch.Generator().manual_seed(block)
    q, k, v = (torch.randn(n, 16, generator=g, dtype=torch.float64) for n in (7, 50, 50))
    step = _reference("online_softmax_step")
    fresh = torch.full((7, 1), -math.inf, dtype=torch.float64)
    state = (fresh, torch.zeros_like(fresh), torch.zeros(7, 16, dtype=torch.float64))
    for k_block, v_block in zip(k.split(block), v.split(block), strict=True):
        state = step(*state, q @ k_block.T / 4.0, v_block)
    reference, _ = functional.scaled_dot_product_attention(q[None], k[None], v[None])
    torch.testing.assert_close(state[2] / state[1], reference[0], rtol=0, atol=1e-12)


# ----- 12.band_mask -----


def test_band_mask_is_the_package_band_mask():
    mine = _reference("band_mask")
    for num_frames, window, causal in [*_cases("band_mask"), (40, 7, True), (40, 7, False)]:
        assert torch.equal(mine(num_frames, window, causal),
                           attention.band_mask(num_frames, window, causal))  # fmt: skip


@pytest.mark.parametrize("causal", [False, True])
def test_band_mask_is_what_local_attention_computes(causal):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 45, 8, generator=g, dtype=torch.float64) for _ in range(3))
    mask = _reference("band_mask")(45, 6, causal)
    expected, _ = functional.scaled_dot_product_attention(q, k, v, mask=mask)
    got = attention.local_attention(q, k, v, window=6, causal=causal)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)


# ----- 12.receptive_field_seconds -----


@pytest.mark.parametrize("layers, window", [(1, 4), (3, 16), (4, 8)])
def test_receptive_field_is_the_detectors(layers, window):
    """The detector's field is its attention's (the exercise) plus what its convolutions add:
    none from 1-frame depthwise kernels, and 3 input frames from the two stride-2 ones."""
    config = DetectorConfig(layers=layers, window=window, conv_kernel=1)
    hop_seconds = config.hop_length / config.sample_rate
    mine = _reference("receptive_field_seconds")(layers, window, SUBSAMPLING, hop_seconds)
    assert math.isclose(mine + 3 * hop_seconds, receptive_field_seconds(config))


@pytest.mark.parametrize("layers, window", [(1, 3), (2, 5), (4, 2)])
def test_receptive_field_is_the_reach_of_stacked_band_masks(layers, window):
    """Brute force: follow the reach of the middle frame through `layers` band masks."""
    frames = 4 * layers * window + 1
    step = attention.band_mask(frames, window).double()
    reach = torch.zeros(frames, dtype=torch.float64)
    reach[frames // 2] = 1.0
    for _ in range(layers):
        reach = (step @ reach).clamp(max=1.0)
    frames_each_side = (int(reach.sum()) - 1) // 2
    mine = _reference("receptive_field_seconds")(layers, window, 1, 1.0)
    assert mine == frames_each_side
