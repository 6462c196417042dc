"""Tests for course_utils.tts.inference: the stop rule, the length cap and bad input."""

import pytest
import torch

from course_utils.tts.config import TTSConfig
from course_utils.tts.inference import Synthesis, generate, synthesize
from course_utils.tts.model import Tacotron
from course_utils.tts.text import TextTokenizer


def _model(stop_bias: float | None = None, **overrides) -> Tacotron:
    torch.manual_seed(0)
    model = Tacotron(TTSConfig.preset("tiny", **overrides))
    if stop_bias is not None:  # force the stop logit, whatever the input
        with torch.no_grad():
            model.decoder.stop_proj.weight.zero_()
            model.decoder.stop_proj.bias.fill_(stop_bias)
    return model


def test_a_stop_logit_forced_high_stops_at_the_first_step():
    result = synthesize(_model(stop_bias=20.0, reduction_factor=3), "turn on the lights")
    assert isinstance(result, Synthesis)
    assert result.stopped and result.steps == 1
    assert result.mel.shape == (80, 3)  # one step of r = 3 frames
    assert result.alignment.shape == (1, len("turn on the lights"))


def test_a_stop_logit_forced_low_runs_to_the_length_cap(device):
    model = _model(stop_bias=-20.0).to(device)
    result = synthesize(model, "go up")
    cap = model.config.max_steps(5)  # 20 frames per character / r = 2: 50 steps
    assert cap == 50
    assert not result.stopped and result.steps == cap
    assert result.mel.shape == (80, cap * 2)


def test_the_hard_cap_bounds_long_texts():
    model = _model(stop_bias=-20.0, max_decoder_steps=12)
    result = synthesize(model, "set the volume to five")
    assert model.config.max_steps(22) == 12
    assert not result.stopped and result.steps == 12


def test_a_batch_stops_each_text_at_its_own_cap():
    model = _model(stop_bias=-20.0, max_frames_per_char=4.0)
    results = synthesize(model, ["go", "stop the fan"])
    assert [r.steps for r in results] == [4, 24]  # ceil(4 * chars / 2)
    assert [r.alignment.shape[1] for r in results] == [2, 12]
    assert not any(r.stopped for r in results)


def test_generate_restores_the_training_mode_and_needs_no_grad():
    model = _model(stop_bias=20.0).train()
    tokens, lengths = TextTokenizer().batch(["go"])
    (result,) = generate(model, tokens, lengths)
    assert model.training and not result.mel.requires_grad
    assert torch.isfinite(result.mel).all()
    assert torch.allclose(result.alignment.sum(-1), torch.ones(result.steps))


def test_bad_input_gives_clear_errors():
    model = _model(max_text_length=10)
    with pytest.raises(ValueError, match="empty"):
        synthesize(model, "  ")
    with pytest.raises(ValueError, match=r"\['#', '7'\]"):
        synthesize(model, "go #7")
    with pytest.raises(ValueError, match="max_text_length=10"):
        synthesize(model, "turn on the kitchen lights")
    with pytest.raises(ValueError, match="vocabulary"):
        synthesize(model, "go", TextTokenizer("abcdefghijklmnopqrstuvwxyz "))
