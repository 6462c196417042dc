"""Lesson 09's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain Python and torch (it does not import
``course_utils.tts``: its source is what ``solution()`` shows, so it must stand alone), a
function making the test inputs with the edge cases that expose common bugs, and the known
mistakes with the hint each earns. The references follow ``course_utils.tts``'s conventions
(alignments and guided-attention weights are (steps, chars), one row per decoder step;
positions n/N and t/T count from 0; decoding stops once sigmoid(stop logit) > 0.5, or at the
length cap), and tests/exercises/test_lesson_09_bank.py checks that they agree with it.
Importing this module registers them.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import math

import torch

from ..checker import Diagnostic, register
from ._cases import _randn

__all__ = ["focus_rate", "guided_weights", "stop_step"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def guided_weights(chars: int, steps: int, g: float) -> torch.Tensor:
    """Tachibana et al.'s guided-attention penalty, (steps, chars), one row per decoder step:
    W[t, n] = 1 - exp(-(n/N - t/T)^2 / (2 g^2)) for character n of N and step t of T."""
    n = torch.arange(chars) / chars  # (chars,): n/N, from 0 up to (N-1)/N
    t = torch.arange(steps) / steps  # (steps,): t/T
    distance = n[None, :] - t[:, None]  # (steps, chars): how far cell (t, n) is off the diagonal
    return 1 - torch.exp(-(distance**2) / (2 * g**2))  # 0 on the diagonal, near 1 far from it


def focus_rate(alignment: torch.Tensor) -> float:
    """Focus rate of an alignment (steps, chars) whose rows sum to 1: the mean over decoder
    steps of each step's largest attention weight (1: every step reads one character)."""
    peaks = alignment.max(dim=-1).values  # (steps,): the largest weight of each step's row
    return peaks.mean().item()


def stop_step(stop_logits: list[float], cap: int) -> int:
    """How many decoder steps greedy synthesis runs: up to and including the first step whose
    stop probability sigmoid(logit) exceeds 0.5, or cap steps if no step before then stops."""
    for step, logit in enumerate(stop_logits[:cap], 1):  # steps counted from 1
        if 1 / (1 + math.exp(-logit)) > 0.5:  # the stop token fired: this step is the last
            return step
    return cap  # the length cap ends decoding


# ----- 09.guided_weights -----


def _guided_cases(g: torch.Generator) -> list[tuple]:
    return [
        (5, 8, 0.2),  # fewer characters than steps
        (12, 7, 0.2),  # more characters than steps
        (6, 6, 0.3),  # square
        (1, 4, 0.2),  # a single character
        (9, 1, 0.2),  # a single decoder step
        (20, 30, 0.05),  # a narrow band: most weights are 1
        (10, 15, 2.0),  # a wide band: the penalty is small everywhere
        (3, 11, 0.4),
    ]


def _guided(chars, steps, g, n=None, t=None, denominator=None, penalty=True):
    n = torch.arange(chars) / chars if n is None else n
    t = torch.arange(steps) / steps if t is None else t
    denominator = 2 * g**2 if denominator is None else denominator
    reward = torch.exp(-((n[None, :] - t[:, None]) ** 2) / denominator)
    return 1 - reward if penalty else reward


def _guided_to_one(chars, steps, g):
    """Positions from 0 to 1 included: n/(N-1) and t/(T-1), as torch.linspace gives them."""
    return _guided(chars, steps, g, n=torch.linspace(0, 1, chars), t=torch.linspace(0, 1, steps))


def _close(got, expected) -> bool:
    got, expected = torch.as_tensor(got).double(), torch.as_tensor(expected).double()
    return got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-4, atol=1e-5)


register(
    "09.guided_weights",
    guided_weights,
    _guided_cases,
    [
        (
            lambda chars, steps, g: guided_weights(chars, steps, g).T,
            "Your weights are (chars, steps); make them (steps, chars), one row per decoder "
            "step, the way the alignments are stored.",
        ),
        (
            lambda chars, steps, g: 1 - guided_weights(chars, steps, g),
            "Your weights are largest on the diagonal: that is the reward exp(...), the share "
            "the loss leaves alone. The penalty is 1 minus it, 0 on the diagonal.",
        ),
        (
            lambda chars, steps, g: _guided(chars, steps, g, denominator=g**2),
            "Your band has the wrong width: the squared distance is divided by 2 g^2, not by g^2.",
        ),
        (
            lambda chars, steps, g: _guided(chars, steps, g, denominator=2 * g),
            "Your band has the wrong width: g is a standard deviation, so the squared distance "
            "is divided by 2 g^2 (g squared), not by 2 g.",
        ),
        (
            lambda chars, steps, g: _guided(
                chars, steps, g, n=torch.arange(chars).float(), t=torch.arange(steps).float()
            ),
            "You compared the indices n and t themselves; compare the positions n/N and t/T, "
            "the share of the text and of the time gone by, so the diagonal runs from corner "
            "to corner whatever N and T.",
        ),
        Diagnostic(
            _guided_to_one,
            "Your positions run from 0 to exactly 1 (n/(N-1), as torch.linspace(0, 1, N) "
            "gives); the course counts them as n/N for n = 0 ... N-1, so the last character "
            "sits at (N-1)/N.",
            symptom=lambda args, got, expected: (
                _close(got, _guided_to_one(*args)) and not _close(got, expected)
            ),
        ),  # a symptom, not the whole output: n/(N-1) gives NaN where N or T is 1
    ],
    "Make the positions of the characters and of the decoder steps as fractions of N and T, "
    "take the distance of every (step, character) pair, and turn it into a penalty that is "
    "0 on the diagonal and grows towards 1 away from it.",
    outputs=("weights",),
)


# ----- 09.focus_rate -----


def _alignment(g: torch.Generator, steps: int, chars: int, sharpness: float) -> torch.Tensor:
    """A random (steps, chars) alignment with rows summing to 1: sharper as sharpness grows."""
    return torch.softmax(sharpness * _randn(g, steps, chars), dim=-1)


def _near_diagonal(steps: int, chars: int, width: float) -> torch.Tensor:
    n = (torch.arange(chars) + 0.5) / chars
    t = (torch.arange(steps) + 0.5) / steps
    return torch.softmax(-((n[None, :] - t[:, None]) ** 2) / width, dim=-1)


def _focus_cases(g: torch.Generator) -> list[tuple]:
    stuck = torch.zeros(8, 5)
    stuck[:, 0] = 1  # every step reads the first character: perfectly focused, all the same
    return [
        (_alignment(g, 12, 7, 2.0),),  # more steps than characters, as in speech
        (_alignment(g, 7, 12, 3.0),),
        (_alignment(g, 5, 5, 1.0),),
        (torch.eye(6),),  # one character per step
        (torch.full((4, 8), 1 / 8),),  # spread evenly: focus 1/N
        (_alignment(g, 1, 9, 2.0),),  # a single decoder step
        (torch.ones(10, 1),),  # a single character: every step reads it
        (stuck,),
        (_near_diagonal(30, 18, 0.01),),  # a trained model's alignment
    ]


register(
    "09.focus_rate",
    focus_rate,
    _focus_cases,
    [
        (
            lambda alignment: alignment.max(dim=0).values.mean().item(),
            "You took each character's largest weight over the steps; the focus rate takes "
            "each decoder step's largest weight (the max of each row), then the mean over the "
            "steps.",
        ),
        (
            lambda alignment: alignment.max().item(),
            "That is the largest weight of the whole alignment; take the largest weight of "
            "each decoder step, then their mean over the steps.",
        ),
        (
            lambda alignment: alignment.mean().item(),
            "That is the mean of all the weights (1/N whatever the alignment, since each row "
            "sums to 1); the focus rate averages only each step's largest weight.",
        ),
        (
            lambda alignment: alignment.max(dim=-1).values.sum().item(),
            "You added up the steps' largest weights; take their mean, so the focus rate lies "
            "between 1/N and 1 whatever the number of steps.",
        ),
    ],
    "Ask of every decoder step how much of its attention went to the one character it reads "
    "most, then average that over the steps.",
    outputs=("focus",),
)


# ----- 09.stop_step -----


def _stop_cases(g: torch.Generator) -> list[tuple]:
    rising = (torch.linspace(-8, 1, 40) + 0.3 * _randn(g, 40)).tolist()  # noisy, then stops
    rising = [min(logit, -0.5) for logit in rising[:30]] + [2.0] + rising[31:]
    return [
        ([3.0, -2.0, -4.0, 1.0], 4),  # stops at the first step
        ([-4.0, -3.2, -2.5, -1.1, 2.3, 4.0, 5.0, 6.0], 8),  # stops in the middle
        ([-5.0, -4.0, -4.5, -3.0, -3.5, -2.0], 6),  # never stops: the cap ends it
        ([-3.0, -2.0, -1.5, -1.0, -0.5, 1.5, 3.0], 4),  # would stop, but after the cap
        ([-2.0, -1.0, 0.0, 0.0, 0.8, 2.0], 6),  # logit 0: probability 0.5, not above it
        ([-2.5, -1.2, 0.3, 1.9, 3.0], 5),  # a small positive logit: probability above 0.5
        ([-1.0], 1),  # a cap of one step
        ([-6.0, -5.0, 4.0], 2),  # the stop comes one step after the cap
        (rising, 40),  # stops at step 31
    ]


def _first_stop(stop_logits, cap, stops, base=1, use_cap=True):
    """The step (counted from `base`) of the first logit for which stops(logit) holds."""
    for step, logit in enumerate(stop_logits[:cap] if use_cap else stop_logits, base):
        if stops(logit):
            return step
    return cap


def _sigmoid(logit: float) -> float:
    return 1 / (1 + math.exp(-logit))


register(
    "09.stop_step",
    stop_step,
    _stop_cases,
    [
        Diagnostic(
            lambda stop_logits, cap: _first_stop(stop_logits, cap, lambda x: _sigmoid(x) > 0.5, 0),
            "Your count is one short: the step whose stop token fires is decoded too (its "
            "frames are kept), so a stop at the first step means 1 step; count steps from 1.",
            symptom=lambda args, got, expected: float(got) == expected - 1,
        ),
        (
            lambda stop_logits, cap: _first_stop(stop_logits, cap, lambda x: x > 0.5),
            "You compared the logit itself with 0.5; the logit is a score on the whole real "
            "line: turn it into a probability with the sigmoid first.",
        ),
        (
            lambda stop_logits, cap: _first_stop(stop_logits, cap, lambda x: _sigmoid(x) >= 0.5),
            "A stop probability of exactly 0.5 (a logit of 0) does not stop decoding: the rule "
            "asks for a probability above 0.5.",
        ),
        Diagnostic(
            lambda stop_logits, cap: _first_stop(
                stop_logits, cap, lambda x: _sigmoid(x) > 0.5, use_cap=False
            ),
            "Your count is above the cap: decoding ends at the cap even when the stop token "
            "would only fire later (or never), so stop looking once cap steps have run.",
            symptom=lambda args, got, expected: float(got) > args[1],
        ),
    ],
    "Walk through the steps in order, counting them as you go: at each, turn the stop logit "
    "into a probability and stop once it says so, or once the cap is reached.",
    outputs=("steps",),
)
