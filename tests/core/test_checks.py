"""Tests for course_utils.core.checks: clear errors for bad audio, rates and shapes."""

import numpy as np
import pytest
import torch

from course_utils.core.checks import check_sample_rate, check_shape, check_waveform


@pytest.mark.parametrize(
    "bad,message",
    [
        (np.zeros(0, np.float32), "empty"),
        (np.array([0.0, np.nan], np.float32), "NaN"),
        (torch.tensor([0.0, float("inf")]), "infinite"),
        (np.zeros((2, 3, 4, 5), np.float32), "shape"),
        ([0.1, 0.2], "numpy array or torch tensor"),
    ],
)
def test_check_waveform_says_what_is_wrong(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        check_waveform(bad)


def test_check_waveform_accepts_good_audio():
    check_waveform(np.zeros(10, np.float32))
    check_waveform(torch.zeros(2, 10), ndims=(2,))
    check_waveform(np.zeros(10, np.int16))


@pytest.mark.parametrize("rate", [0, 3_999, 200_000, 16_000.5, True, "16000"])
def test_check_sample_rate_rejects(rate):
    with pytest.raises(ValueError, match="Hz"):
        check_sample_rate(rate)


def test_check_shape():
    check_shape(torch.zeros(2, 40, 7), (2, 40, None))
    with pytest.raises(ValueError, match=r"\(2, 40, \*\).*\(2, 7, 40\)"):
        check_shape(torch.zeros(2, 7, 40), (2, 40, None), "features")
