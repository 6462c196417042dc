"""Tests for course_utils.metrics on hand-worked examples."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.exercises.bank import lesson_06
from course_utils.metrics import (
    accuracy,
    attended_span,
    confusion_matrix,
    error_rate,
    predict,
    sampling_margin,
    top_confusions,
)


def test_accuracy_from_classes_and_from_logits():
    labels = torch.tensor([0, 1, 2, 1])
    assert accuracy(torch.tensor([0, 1, 1, 1]), labels) == 0.75
    logits = torch.tensor([[2.0, 0, 0], [0, 3, 0], [0, 0, 1], [5, 0, 0]])
    assert accuracy(logits, labels) == 0.75


def test_confusion_matrix_hand_worked():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 0, 2])
    expected = torch.tensor([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    matrix = confusion_matrix(predictions, labels, 3)
    assert torch.equal(matrix, expected)
    assert torch.equal(matrix.sum(1), torch.tensor([2, 1, 3]))  # clips per true class
    assert matrix.trace() / matrix.sum() == accuracy(predictions, labels)


def test_top_confusions_ordered_and_without_the_diagonal():
    matrix = torch.tensor([[9, 1, 3], [0, 8, 0], [2, 0, 7]])
    assert top_confusions(matrix, ["a", "b", "c"], k=2) == [("a", "c", 3), ("c", "a", 2)]
    assert top_confusions(torch.eye(2, dtype=torch.long), ["a", "b"]) == []


def test_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        accuracy(torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="empty"):
        accuracy(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(torch.tensor([3]), torch.tensor([0]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        confusion_matrix(torch.tensor([-1]), torch.tensor([0]), 3)
    with pytest.raises(ValueError, match="classes"):
        top_confusions(torch.zeros(2, 2), ["a", "b", "c"])


def test_predict_runs_in_eval_mode_and_restores_training():
    model = nn.Sequential(nn.Dropout(0.9), nn.Linear(3, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1, 0]]))
        model[1].bias.zero_()
    batches = [(torch.tensor([[2.0, 1, 0], [0, 2, 0]]), torch.tensor([0, 1]))]
    predictions, labels = predict(model, batches, "cpu")
    assert torch.equal(predictions, torch.tensor([0, 1])) and torch.equal(
        labels, torch.tensor([0, 1])
    )
    assert model.training


# error_rate (CER / WER) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, hypothesis, expected",
    [
        ("abcd", "abcd", 0.0),
        ("abcd", "abxd", 1 / 4),  # one substitution
        ("abcd", "abd", 1 / 4),  # one deletion
        ("abcd", "abcde", 1 / 4),  # one insertion
        ("abcd", "", 1.0),  # everything deleted
        ("ab", "xxabyy", 4 / 2),  # four insertions: above 100 %
        ("go up", "goup", 1 / 5),  # the space is a character
        ("kitten", "sitting", 3 / 6),  # k->s, e->i, +g
    ],
)
def test_character_error_rate_hand_worked(reference, hypothesis, expected):
    assert error_rate([reference], [hypothesis]) == pytest.approx(expected)
    assert error_rate([reference], [hypothesis], unit="char") == pytest.approx(expected)


@pytest.mark.parametrize(
    "reference, hypothesis, expected",
    [
        ("one two three", "one too three", 1 / 3),  # substitution
        ("one two three", "one three", 1 / 3),  # deletion
        ("one two three", "one two two three", 1 / 3),  # insertion
        ("go", "go go go", 2.0),  # two insertions: 200 %
        ("go up", "goup", 1.0),  # one substitution and one deletion
        ("go  up ", " go up", 0.0),  # words are split on any whitespace
    ],
)
def test_word_error_rate_hand_worked(reference, hypothesis, expected):
    assert error_rate([reference], [hypothesis], unit="word") == pytest.approx(expected)


def test_error_rate_pools_errors_over_the_set():
    # Total errors / total reference length, not the mean of the per-utterance rates.
    references, hypotheses = ["go up", "stop"], ["go", "stop now"]
    assert error_rate(references, hypotheses, unit="word") == pytest.approx((1 + 1) / 3)
    assert error_rate(["abc", "de"], ["abd", ""]) == pytest.approx((1 + 2) / 5)
    assert error_rate(["", "ab"], ["x", "ab"]) == pytest.approx(1 / 2)  # an empty reference


@pytest.mark.parametrize(
    "references, hypotheses, unit, match",
    [
        ([], [], "char", "at least one"),
        (["a", "b"], ["a"], "char", "equally many"),
        (["a"], ["a", "b"], "word", "equally many"),
        ([""], ["a"], "char", "all empty"),
        (["", "  "], ["a", "b"], "word", "all empty"),
        (["a"], ["a"], "phone", "unit must be 'char' or 'word'"),
    ],
)
def test_error_rate_rejects_bad_input(references, hypotheses, unit, match):
    with pytest.raises(ValueError, match=match):
        error_rate(references, hypotheses, unit=unit)


def test_sampling_margin_hand_worked():
    # sqrt((0.864 * 0.136 + 0.886 * 0.114) / 44) = 0.07047, two of them 0.14094
    assert math.isclose(sampling_margin(0.864, 0.886, 44), 0.14094, abs_tol=1e-4)
    assert sampling_margin(1.0, 1.0, 50) == 1 / 50  # never less than one item
    assert math.isclose(sampling_margin(0.5, 0.5, 100, sigmas=1.0), math.sqrt(0.5 / 100))


def test_sampling_margin_holds_chance_differences_about_95_percent_of_the_time():
    """Against simulation: two models of equal skill, scored on n items each."""
    rng = np.random.default_rng(0)
    n, p, trials = 200, 0.9, 20_000
    a = rng.binomial(n, p, trials) / n
    b = rng.binomial(n, p, trials) / n
    margins = np.array([sampling_margin(x, y, n) for x, y in zip(a, b, strict=True)])
    exceeded = np.mean(np.abs(a - b) > margins)
    assert 0.02 < exceeded < 0.08, exceeded


@pytest.mark.parametrize(("a", "b", "n"), [(0.5, 0.5, 0), (1.2, 0.5, 10), (0.5, -0.1, 10)])
def test_sampling_margin_rejects_bad_input(a, b, n):
    with pytest.raises(ValueError, match="expected"):
        sampling_margin(a, b, n)


def test_attended_span_agrees_with_the_brute_force_reference():
    generator = torch.Generator().manual_seed(0)
    for frames in (1, 2, 5, 17, 40):
        for _ in range(20):
            weights = torch.rand(frames, generator=generator) ** 4 + 1e-3  # peaky, like attention
            weights = weights / weights.sum()
            for share in (0.5, 0.8, 0.95):
                assert attended_span(weights, share) == lesson_06.attended_span(weights, share)


def test_attended_span_hand_worked_and_ties_go_to_the_earliest():
    assert attended_span(torch.tensor([0.05, 0.1, 0.6, 0.2, 0.05]), 0.8) == (2, 4)
    assert attended_span(torch.tensor([0.4, 0.1, 0.1, 0.4]), 0.4) == (0, 1)
    assert attended_span(torch.full((4,), 0.25), 1.0) == (0, 4)


def test_attended_span_refuses_bad_weights():
    for bad in (torch.zeros(0), torch.ones(2, 3), torch.tensor([0.5, float("nan")]),
                torch.tensor([1.5, -0.5])):
        with pytest.raises(ValueError, match="weights"):
            attended_span(bad, 0.8)
    with pytest.raises(ValueError, match="share"):
        attended_span(torch.tensor([0.5, 0.5]), 0.0)
