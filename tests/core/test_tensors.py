"""Tests for course_utils.core.tensors: `to_numpy` and `pad_batch`, the package's one copy each."""

import numpy as np
import pytest
import torch

from course_utils.core.tensors import pad_batch, to_numpy


@pytest.mark.parametrize(
    "tensor, floating, dtype",
    [
        (torch.ones(3, dtype=torch.float64), None, np.float64),  # kept as it is
        (torch.ones(3, dtype=torch.float16), None, np.float16),
        (torch.ones(3, dtype=torch.bfloat16), None, np.float32),  # numpy has no bfloat16
        (torch.ones(3, dtype=torch.float64), torch.float32, np.float32),  # asked for
        (torch.ones(3, dtype=torch.int64), torch.float32, np.int64),  # only floats are cast
        (torch.ones(3, requires_grad=True), None, np.float32),  # detached
    ],
)
def test_to_numpy_casts_only_what_it_must_or_is_asked_to(tensor, floating, dtype):
    array = to_numpy(tensor, floating)
    assert isinstance(array, np.ndarray) and array.dtype == dtype
    np.testing.assert_array_equal(array, np.ones(3))


def test_to_numpy_leaves_arrays_alone(device):
    array = np.arange(4, dtype=np.float64)
    assert to_numpy(array, torch.float32) is array  # never cast: only tensors are
    assert to_numpy([1, 2]).tolist() == [1, 2]
    np.testing.assert_array_equal(to_numpy(torch.arange(4.0, device=device)), np.arange(4.0))


def test_pad_batch_pads_the_last_axis_and_keeps_lengths(device):
    a, b = torch.ones(2, 3, device=device), 2 * torch.ones(2, 5, device=device)
    padded, lengths = pad_batch([a, b])
    assert padded.shape == (2, 2, 5) and padded.device.type == torch.device(device).type
    assert lengths.tolist() == [3, 5] and lengths.dtype == torch.long
    assert torch.equal(padded[0, :, :3], a) and padded[0, :, 3:].abs().sum() == 0
    assert torch.equal(padded[1], b)


def test_pad_batch_min_length_and_errors():
    padded, lengths = pad_batch([torch.zeros(0, dtype=torch.long)] * 2, min_length=1)
    assert padded.shape == (2, 1) and lengths.tolist() == [0, 0]
    with pytest.raises(ValueError, match="empty batch"):
        pad_batch([])
    with pytest.raises(ValueError, match="before the last axis"):
        pad_batch([torch.zeros(2, 3), torch.zeros(3, 3)])
