"""Tests for course_utils.tts.alignment on hand-made alignments with known answers."""

import pytest
import torch

from course_utils.tts.alignment import (
    alignment_jumps,
    coverage,
    diagonal_mass,
    focus_rate,
    word_errors,
)


def _stuck(steps: int, chars: int, position: int = 0) -> torch.Tensor:
    alignment = torch.zeros(steps, chars)
    alignment[:, position] = 1.0
    return alignment


def test_focus_rate_of_a_perfect_diagonal_is_one():
    assert focus_rate(torch.eye(5)).item() == 1.0
    # More steps than characters, each character read twice: still one-hot rows.
    assert focus_rate(torch.eye(5).repeat_interleave(2, dim=0)).item() == 1.0


@pytest.mark.parametrize("chars", [2, 5, 16])
def test_focus_rate_of_uniform_attention_is_one_over_the_characters(chars):
    assert focus_rate(torch.full((7, chars), 1 / chars)).item() == pytest.approx(1 / chars)


def test_a_stuck_alignment_is_focused_but_fails_the_other_measures():
    stuck, diagonal = _stuck(8, 8), torch.eye(8)
    assert focus_rate(stuck).item() == 1.0  # why focus alone is not enough
    assert diagonal_mass(diagonal).item() == 1.0
    assert diagonal_mass(stuck).item() == pytest.approx(0.25)  # only steps 0 and 1 near n = 0
    assert coverage(diagonal).item() == 1.0 and coverage(stuck).item() == pytest.approx(1 / 8)
    assert [j.item() for j in alignment_jumps(stuck)] == [0, 0]  # stuck is not jumpy


def test_focus_rate_averages_only_valid_steps_of_each_item():
    batch = torch.stack([torch.eye(4), torch.full((4, 4), 0.25)])  # (2, 4, 4)
    batch[0, 2:] = 0.25  # steps 2 and 3 of item 0 are padding: ignored
    assert focus_rate(batch, torch.tensor([2, 4])).tolist() == [1.0, 0.25]
    half = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    assert focus_rate(half).item() == pytest.approx(0.75)


def test_jumps_count_backward_moves_and_long_forward_jumps():
    peaks = torch.tensor([0, 1, 2, 1, 2, 3, 9, 9, 10])  # one repeat (2 -> 1), one skip (3 -> 9)
    alignment = torch.eye(12)[peaks]
    backward, forward = alignment_jumps(alignment, max_jump=3)
    assert (backward.item(), forward.item()) == (1, 1)
    assert alignment_jumps(alignment, max_jump=6)[1].item() == 0  # 3 -> 9 moves 6: allowed
    # Steps past the length are not counted: a batch of two, the second one shorter.
    batch = torch.stack([alignment, alignment])
    backward, forward = alignment_jumps(batch, torch.tensor([9, 3]))
    assert backward.tolist() == [1, 0] and forward.tolist() == [1, 0]


def test_diagonal_mass_respects_lengths():
    # Item 0: a 3 x 3 diagonal padded to 5 x 5 with junk in the padding.
    batch = torch.full((1, 5, 5), 0.2)
    batch[0, :3, :3] = torch.eye(3)
    mass = diagonal_mass(batch, torch.tensor([3]), torch.tensor([3]))
    assert mass.item() == pytest.approx(1.0)
    reversed_ = torch.eye(8).flip(0)
    assert diagonal_mass(reversed_).item() < 0.3


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="steps, chars"):
        focus_rate(torch.ones(2, 3, 4, 5))


def test_word_errors_counts_skipped_and_repeated_words():
    text = "one two three"  # words at 0-2, 4-6, 8-12
    steady = torch.eye(len(text))
    assert word_errors(steady, text) == (0, 0)
    skipping = torch.eye(len(text))[[0, 1, 2, 8, 9, 12]]  # never reads "two"
    assert word_errors(skipping, text) == (1, 0)
    repeating = torch.eye(len(text))[[0, 4, 5, 0, 1, 4, 8, 12]]  # back to "one", then "two"
    assert word_errors(repeating, text) == (0, 2)
    on_spaces = torch.eye(len(text))[[0, 3, 3, 4, 7, 8]]  # spaces read no word
    assert word_errors(on_spaces, text) == (0, 0)


def test_word_errors_checks_the_shape():
    with pytest.raises(ValueError, match=r"\(steps, 5\)"):
        word_errors(torch.eye(4), "go up")
