"""Tests for `check_features` and `check_lengths` (course_utils.core.checks): shapes always,
values only when asked (the public entry points ask; a model's `forward` does not)."""

import pytest
import torch

from course_utils.core.checks import check_features, check_lengths, check_waveform


def test_good_features_and_lengths_pass():
    check_features(torch.zeros(2, 40, 101), 40, torch.tensor([101, 1]))
    check_lengths(torch.tensor([3, 1]), batch=2, frames=3)
    check_lengths(torch.zeros(0, dtype=torch.long), batch=0, frames=3)


@pytest.mark.parametrize(
    "features, lengths, match",
    [
        (torch.zeros(2, 30, 50), None, r"\(batch, n_mels=40, frames\), got \(2, 30, 50\)"),
        (torch.zeros(40, 50), None, "n_mels=40"),
        ([[0.0]], None, "n_mels=40"),
        (torch.zeros(2, 40, 50), torch.tensor([[50, 40]]), r"shape \(batch,\) = \(2,\)"),
    ],
)
def test_shapes_are_checked_even_without_values(features, lengths, match):
    with pytest.raises(ValueError, match=match):
        check_features(features, 40, lengths, values=False)


@pytest.mark.parametrize(
    "lengths, bad",
    [(torch.tensor([51, 40]), None), (torch.tensor([50, 0]), None), (None, float("nan"))],
)
def test_values_are_checked_only_when_asked(lengths, bad):
    features = torch.zeros(2, 40, 50)
    if bad is not None:
        features[1, 2, 3] = bad
    check_features(features, 40, lengths, values=False)  # what a forward does: no sync
    with pytest.raises(ValueError, match=r"in \[1, frames=50\]|NaN or inf"):
        check_features(features, 40, lengths)


def test_lengths_must_be_integers():
    with pytest.raises(TypeError, match="integer"):
        check_lengths(torch.tensor([1.0, 2.0]), batch=2, frames=3, values=False)


def test_check_waveform_can_skip_the_samples():
    check_waveform(torch.tensor([[0.0, float("nan")]]), ndims=(2,), values=False)
    with pytest.raises(ValueError, match="shape"):
        check_waveform(torch.zeros(3), ndims=(2,), values=False)
