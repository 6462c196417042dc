"""Lesson 09's exercises agree with the package they teach: the reference guided-attention
weights, focus rate and stop step are those of ``course_utils.tts`` (same index convention,
same axes, same stop rule), on random inputs as well as on the exercises' own cases."""

import math

import pytest
import torch
from torch.testing import assert_close

from course_utils.exercises import check, get_exercise
from course_utils.tts import STOP_THRESHOLD, TTSConfig, focus_rate, guided_attention_weights
from course_utils.tts.inference import generate
from course_utils.tts.model import Tacotron
from course_utils.tts.text import TextTokenizer


def _reference(name):
    return get_exercise(f"09.{name}").reference


def _cases(name):
    return get_exercise(f"09.{name}").make_cases(torch.Generator().manual_seed(0))


def _random_sizes(count, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(count):
        chars, steps = torch.randint(1, 40, (2,), generator=g).tolist()
        sigma = float(torch.empty(()).uniform_(0.05, 1.0, generator=g))
        yield chars, steps, sigma


def test_guided_weights_are_the_package_weights():
    guided_weights = _reference("guided_weights")
    sizes = [*_cases("guided_weights"), *_random_sizes(20), (1, 1, 0.2), (7, 7, 0.2)]
    for chars, steps, sigma in sizes:
        package = guided_attention_weights(
            torch.tensor([chars]), torch.tensor([steps]), sigma=sigma
        )[0]  # (steps, chars): one row per decoder step
        mine = guided_weights(chars, steps, sigma)
        assert mine.shape == package.shape == (steps, chars)
        assert_close(mine, package)


def test_guided_weights_match_the_package_docstring_example():
    weights = _reference("guided_weights")(2, 2, 0.2)
    assert_close(weights, torch.tensor([[0.0, 0.9561], [0.9561, 0.0]]), atol=1e-4, rtol=0)


def test_focus_rate_is_the_package_focus_rate():
    reference = _reference("focus_rate")
    g = torch.Generator().manual_seed(1)
    alignments = [alignment for (alignment,) in _cases("focus_rate")]
    for _ in range(20):
        steps, chars = torch.randint(1, 30, (2,), generator=g).tolist()
        sharpness = float(torch.empty(()).uniform_(0.1, 5.0, generator=g))
        alignments.append(torch.softmax(sharpness * torch.randn(steps, chars, generator=g), -1))
    for alignment in alignments:
        mine = reference(alignment)
        assert isinstance(mine, float)
        assert math.isclose(mine, float(focus_rate(alignment)), rel_tol=1e-6, abs_tol=1e-7)


def _package_stop_step(stop_logits, text):
    """The step count of `course_utils.tts.generate`, its decoder's stop logits replaced by
    stop_logits, one a step; the cap is the config's `max_steps` for the text."""
    torch.manual_seed(0)
    model = Tacotron(TTSConfig.preset("tiny", max_frames_per_char=4.0))
    decoder_step, calls = model.decoder.step, []

    def scripted(*args, **kwargs):
        frames, stop_logit, state = decoder_step(*args, **kwargs)
        logit = stop_logits[len(calls)]
        calls.append(logit)
        return frames, torch.full_like(stop_logit, logit), state

    model.decoder.step = scripted
    tokens, lengths = TextTokenizer().batch([text])
    (result,) = generate(model, tokens, lengths)
    return result.steps, model.config.max_steps(len(text))


@pytest.mark.parametrize(
    "stop_logits",
    [
        [3.0] + [-5.0] * 30,  # the first step
        [-4.0] * 5 + [2.0] + [-4.0] * 30,  # the sixth step
        [-4.0] * 40,  # never: the cap (ceil(4 * 5 / 2) = 10 steps for "go up")
        [-4.0] * 10 + [4.0] * 30,  # the step after the cap
        [-4.0] * 9 + [4.0] * 30,  # the cap's own step
        [-1.0, 0.0, 0.0, 1e-3] + [-4.0] * 30,  # logit 0 does not stop; a tiny positive does
    ],
)
def test_stop_step_is_the_length_generate_decodes(stop_logits):
    steps, cap = _package_stop_step(stop_logits, "go up")
    assert cap == 10
    assert _reference("stop_step")(stop_logits, cap) == steps


def test_stop_step_uses_the_package_threshold():
    assert STOP_THRESHOLD == 0.5
    stop_step = _reference("stop_step")
    assert stop_step([0.0, 0.0], 2) == 2 and stop_step([-1.0, 1e-3, 0.0], 3) == 2


@pytest.mark.parametrize(
    "name, function",
    [
        ("09.guided_weights", lambda chars, steps, g: guided_attention_weights(
            torch.tensor([chars]), torch.tensor([steps]), sigma=g)[0]),
        ("09.focus_rate", focus_rate),  # a 0-d tensor
        ("09.stop_step", lambda logits, cap: next(
            (i + 1 for i, x in enumerate(logits[:cap]) if torch.sigmoid(torch.tensor(x)) > 0.5),
            cap)),
    ],
)  # fmt: skip
def test_the_package_functions_pass_the_checks(name, function):
    result = check(name, function)
    assert result.passed, result.message


def test_stop_step_cases_hold_each_edge_case():
    cases = _cases("stop_step")
    stop_step = _reference("stop_step")
    counts = [stop_step(logits, cap) for logits, cap in cases]
    assert 1 in counts  # a stop at the first step
    assert any(all(x <= 0 for x in logits[:cap]) for logits, cap in cases)  # never: the cap
    assert any(any(x > 0 for x in logits[cap:]) and count == cap
               for (logits, cap), count in zip(cases, counts, strict=True))  # fmt: skip
    assert any(0.0 in logits[:count] for (logits, _), count in zip(cases, counts, strict=True))
    assert all(len(logits) >= cap for logits, cap in cases)
