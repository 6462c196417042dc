"""Atomic writes and the shared input checks."""

import numpy as np
import pytest
import torch

from course_utils.core.checks import check_sample_rate, check_shape, check_waveform
from course_utils.core.files import FileExistsNotOverwrittenError, atomic_write


def test_atomic_write_moves_into_place(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_write(target) as tmp:
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done" and list(target.parent.iterdir()) == [target]


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target, overwrite=True) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_existing_file_is_not_overwritten_silently(tmp_path):
    target = tmp_path / "mine.txt"
    target.write_text("user data")
    with pytest.raises(FileExistsNotOverwrittenError, match="overwrite=True"):
        with atomic_write(target):
            pass
    assert target.read_text() == "user data"


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
