"""Tests for course_utils.tts.losses: guided attention against a hand-worked matrix, stop
targets and masked mel losses."""

import pytest
import torch
from torch.testing import assert_close

from course_utils.tts.config import TTSConfig
from course_utils.tts.losses import (
    guided_attention_loss,
    guided_attention_weights,
    masked_mel_loss,
    stop_targets,
    tacotron_loss,
)
from course_utils.tts.model import Tacotron

# W[t, n] = 1 - exp(-(n/N - t/T)^2 / (2 g^2)) with g = 0.2, so 2 g^2 = 0.08, for N = 2
# characters and T = 4 decoder steps: n/N is 0 or 1/2, t/T is 0, 1/4, 1/2 or 3/4.
#   |n/N - t/T| = 0    -> 1 - exp(0)                = 0
#   |n/N - t/T| = 1/4  -> 1 - exp(-0.0625 / 0.08)   = 1 - exp(-0.78125) = 0.542167
#   |n/N - t/T| = 1/2  -> 1 - exp(-0.25 / 0.08)     = 1 - exp(-3.125)   = 0.956063
#   |n/N - t/T| = 3/4  -> 1 - exp(-0.5625 / 0.08)   = 1 - exp(-7.03125) = 0.999116
HAND_WORKED = torch.tensor([
    # n = 0     n = 1
    [0.000000, 0.956063],  # t = 0
    [0.542167, 0.542167],  # t = 1
    [0.956063, 0.000000],  # t = 2
    [0.999116, 0.542167],  # t = 3
])  # fmt: skip


def test_guided_weights_match_the_hand_worked_matrix():
    weights = guided_attention_weights(torch.tensor([2]), torch.tensor([4]), sigma=0.2)
    assert weights.shape == (1, 4, 2)
    assert_close(weights[0], HAND_WORKED, atol=1e-6, rtol=0)


def test_guided_weights_are_masked_by_each_items_lengths():
    # Item 1 has N = 1 character and T = 2 steps: W = [[0], [1 - exp(-3.125)]], rest zero.
    weights = guided_attention_weights(torch.tensor([2, 1]), torch.tensor([4, 2]))
    assert_close(weights[0], HAND_WORKED, atol=1e-6, rtol=0)
    expected = torch.tensor([[0.0, 0.0], [0.956063, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert_close(weights[1], expected, atol=1e-6, rtol=0)


def test_guided_loss_is_w_times_a_per_step_or_per_cell():
    uniform = torch.full((1, 4, 2), 0.5)  # every step splits its attention over both chars
    loss = guided_attention_loss(uniform, torch.tensor([2]), torch.tensor([4]))
    # "step": sum over the 2 characters, mean over the 4 steps; "cell": mean over 8 cells.
    assert loss.item() == pytest.approx(0.5 * HAND_WORKED.sum().item() / 4, abs=1e-6)
    cell = guided_attention_loss(uniform, torch.tensor([2]), torch.tensor([4]), reduction="cell")
    assert cell.item() == pytest.approx(0.5 * HAND_WORKED.sum().item() / 8, abs=1e-6)
    # Padded cells count for nothing, whatever weight they hold.
    padded = torch.cat([uniform, torch.full((1, 4, 3), 7.0)], dim=2)
    padded = torch.cat([padded, torch.full((1, 2, 5), 7.0)], dim=1)  # (1, 6, 5)
    assert_close(guided_attention_loss(padded, torch.tensor([2]), torch.tensor([4])), loss)
    with pytest.raises(ValueError, match="reduction"):
        guided_attention_loss(uniform, torch.tensor([2]), torch.tensor([4]), reduction="sum")


def test_guided_loss_prefers_the_diagonal():
    text_lengths, step_lengths = torch.tensor([6]), torch.tensor([6])
    diagonal = torch.eye(6)[None]
    stuck = torch.zeros(1, 6, 6)
    stuck[..., 0] = 1.0
    assert guided_attention_loss(diagonal, text_lengths, step_lengths).item() == 0.0
    # Per step: the stuck column's weights, sum_t W[t, 0] = 4.0, over 6 steps.
    assert guided_attention_loss(stuck, text_lengths, step_lengths).item() > 0.1


def test_stop_targets_mark_the_step_holding_the_last_frame_and_after():
    # r = 3: 7 frames end in step 2 (frames 6..8); 3 frames end in step 0.
    targets = stop_targets(torch.tensor([7, 3, 9]), steps=3, reduction_factor=3)
    assert targets.tolist() == [[0, 0, 1], [1, 1, 1], [0, 0, 1]]


def test_mel_losses_ignore_padded_frames():
    target = torch.zeros(2, 3, 4)
    predicted = torch.zeros(2, 3, 4)
    predicted[0, :, 3] = 100.0  # padding of item 0 (length 3)
    predicted[1] = 2.0  # every cell of item 1 (length 4) is 2 off
    lengths = torch.tensor([3, 4])
    # 12 cells of item 1 are off by 2, out of 9 + 12 = 21 valid cells.
    assert masked_mel_loss(predicted, target, lengths, "l1").item() == pytest.approx(24 / 21)
    assert masked_mel_loss(predicted, target, lengths, "l2").item() == pytest.approx(48 / 21)
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        masked_mel_loss(predicted, target, lengths, "l3")


def test_tacotron_loss_adds_its_parts_with_their_weights():
    torch.manual_seed(0)
    config = TTSConfig.preset("tiny", stop_weight=0.5, guided_weight=2.0)
    model = Tacotron(config)
    tokens, text_lengths = torch.tensor([[3, 4, 5], [6, 7, 0]]), torch.tensor([3, 2])
    mels, mel_lengths = torch.randn(2, 80, 7), torch.tensor([7, 4])
    losses = tacotron_loss(model(tokens, text_lengths, mels, mel_lengths), mels, mel_lengths,
                           text_lengths, config)  # fmt: skip
    expected = losses.mel + losses.postnet + 0.5 * losses.stop + 2.0 * losses.guided
    assert_close(losses.loss, expected)
    assert all(part.ndim == 0 and torch.isfinite(part) for part in vars(losses).values())
