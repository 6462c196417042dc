"""Tests for course_utils.metrics on hand-worked examples."""

import pytest
import torch
from torch import nn

from course_utils.metrics import accuracy, confusion_matrix, predict, top_confusions


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
