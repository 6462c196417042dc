"""Lesson 02's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (it does not import
``course_utils.attention``: its source is what ``solution()`` shows, so it must stand alone),
a function making seeded test inputs with the edge cases that expose common bugs, and the
known mistakes with the hint each earns. Importing this module registers them.

Notebook: 02_additive_attention.
"""

from __future__ import annotations

import torch

from ..checker import Diagnostic, register
from ._cases import _randn, _sums_to_one

__all__ = ["attended_time", "attention_pooling", "event_mass"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def attention_pooling(
    inputs: torch.Tensor, w: torch.Tensor, W: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention pooling of inputs (batch, time, dim): a_i = w^T tanh(W h_i + b), softmax over
    time, c = sum_i p_i h_i."""
    hidden = torch.tanh(inputs @ W.T + b)  # (batch, time, hidden_dim)
    scores = hidden @ w  # (batch, time): one score a_i per frame
    weights = torch.softmax(scores, dim=-1)  # over time: each clip's weights sum to 1
    context = (weights.unsqueeze(-1) * inputs).sum(dim=1)  # (batch, dim)
    return context, weights


def event_mass(weights: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Share of each row of weights (batch, frames) that lies on the frames where masks is True."""
    return (weights * masks).sum(dim=-1)  # (batch,): False counts 0, True counts the weight


def attended_time(weights: torch.Tensor, hop_length: int, sample_rate: int) -> float:
    """Time in seconds of the frame with the largest weight in weights (frames,)."""
    frame = int(weights.argmax())  # the first one if several share the maximum
    return frame * hop_length / sample_rate  # frame t is centred t * hop_length samples in


# ----- 02.attention_pooling -----


def _pooling_cases(g: torch.Generator) -> list[tuple]:
    sizes = [(2, 6, 4, 3), (1, 5, 3, 4), (3, 1, 4, 2), (2, 7, 5, 5), (4, 3, 2, 6)]
    return [
        (_randn(g, b, t, d), _randn(g, h), _randn(g, h, d), _randn(g, h)) for b, t, d, h in sizes
    ]


def _pool_softmax_over_features(inputs, w, W, b):
    scores = torch.tanh(inputs @ W.T + b) @ w.unsqueeze(-1)  # (batch, time, 1)
    weights = torch.softmax(scores, dim=-1).squeeze(-1)  # softmax over a size-1 axis: all 1
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


def _pool_without_tanh(inputs, w, W, b):
    weights = torch.softmax((inputs @ W.T + b) @ w, dim=-1)
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


def _pool_unnormalised(inputs, w, W, b):
    weights = torch.tanh(inputs @ W.T + b) @ w
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


def _pool_without_bias(inputs, w, W, b):
    weights = torch.softmax(torch.tanh(inputs @ W.T) @ w, dim=-1)
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


def _pool_tanh_outside(inputs, w, W, b):
    weights = torch.softmax(torch.tanh((inputs @ W.T + b) @ w), dim=-1)
    return (weights.unsqueeze(-1) * inputs).sum(dim=1), weights


def _pool_sum_over_features(inputs, w, W, b):
    weights = attention_pooling(inputs, w, W, b)[1]
    return (weights.unsqueeze(-1) * inputs).sum(dim=-1), weights


register(
    "02.attention_pooling",
    attention_pooling,
    _pooling_cases,
    [
        (
            lambda inputs, w, W, b: attention_pooling(inputs, w, W, b)[::-1],
            "Your results are in the wrong order; return (context, weights).",
        ),
        (
            _pool_sum_over_features,
            "Your context has one value per frame: the weighted frames must be added up over "
            "time, keeping the features, (batch, dim).",
        ),
        Diagnostic(
            _pool_softmax_over_features,
            "Your weights do not sum to 1 over time: the softmax ran over another axis (the "
            "batch, or a size-1 feature axis, which makes every weight 1). Take the softmax "
            "over the time axis of the (batch, time) scores.",
            symptom=lambda args, got, exp: (
                not _sums_to_one(got[1], -1)
                and (_sums_to_one(got[1], 0) or bool(((got[1] - 1).abs() < 1e-6).all()))
            ),
        ),
        (
            _pool_without_tanh,
            "Your scores miss the tanh: a_i = w^T tanh(W h_i + b).",
        ),
        (
            _pool_without_bias,
            "Your scores leave out the bias b: it is added to W h_i inside the tanh.",
        ),
        (
            _pool_tanh_outside,
            "The tanh goes on the hidden vector W h_i + b, before w turns it into one score.",
        ),
        Diagnostic(
            _pool_unnormalised,
            "Your weights are not normalised: turn the scores a_i into weights with a softmax "
            "over time, so that each clip's weights sum to 1.",
            symptom=lambda args, got, exp: not _sums_to_one(got[1], -1),
        ),
        (
            lambda inputs, w, W, b: (inputs.mean(dim=1), attention_pooling(inputs, w, W, b)[1]),
            "Your context is the plain mean over time; weight each frame by its attention "
            "weight instead: c = sum_i p_i h_i.",
        ),
    ],
    "Score each frame with w^T tanh(W h_i + b), softmax the scores over time, and sum the "
    "frames weighted by those probabilities.",
    outputs=("context", "weights"),
    weights_output=1,
)


# ----- 02.event_mass -----


def _mass_cases(g: torch.Generator) -> list[tuple]:
    cases = []
    for batch, frames in [(5, 30), (1, 12), (3, 1), (4, 4), (2, 50)]:
        weights = torch.softmax(2 * _randn(g, batch, frames), dim=-1)
        cases.append((weights, torch.rand(batch, frames, generator=g) > 0.6))
    weights = torch.softmax(_randn(g, 3, 8), dim=-1)
    edges = torch.zeros(3, 8, dtype=torch.bool)
    edges[1], edges[2, 3:5] = True, True  # no event frame, all event frames, a short event
    cases.append((weights, edges))
    return cases


register(
    "02.event_mass",
    event_mass,
    _mass_cases,
    [
        (
            lambda weights, masks: (weights * ~masks).sum(dim=-1),
            "That is the mass OFF the event: sum the weights where the mask is True.",
        ),
        (
            lambda weights, masks: (weights * masks).mean(dim=-1),
            "You averaged the weights on the event; the share of the attention is their sum.",
        ),
        (
            lambda weights, masks: masks.float().mean(dim=-1),
            "That is the share of frames that lie in the event, whatever the weights: weigh "
            "each event frame by its attention weight.",
        ),
        (
            lambda weights, masks: weights * masks,
            "You kept one value per frame; add them up per clip: one number per row.",
        ),
        (
            lambda weights, masks: (weights * masks).sum(dim=0),
            "You added up over the batch (axis 0); add up the frames of each clip instead.",
        ),
        (
            lambda weights, masks: weights[masks].sum(),
            "That is one number for the whole batch (indexing with the mask flattens it); "
            "return one number per clip, shape (batch,).",
        ),
    ],
    "Keep the weights of the event frames (mask True), drop the others, and add them up per "
    "clip: one number per row.",
    outputs=("mass",),
)


# ----- 02.attended_time -----


def _one_peak(frames: int, peak: int) -> torch.Tensor:
    weights = torch.full((frames,), 0.5 / frames)
    weights[peak] += 0.5
    return weights


def _time_cases(g: torch.Generator) -> list[tuple]:
    return [
        (_one_peak(101, 37), 160, 16_000),
        (torch.softmax(3 * _randn(g, 50), dim=0), 320, 16_000),
        (torch.softmax(3 * _randn(g, 80), dim=0), 256, 22_050),
        (_one_peak(20, 0), 160, 16_000),  # the first frame is at 0 s
        (_one_peak(64, 63), 512, 44_100),  # the last frame
        (torch.ones(1), 160, 16_000),  # a single frame
    ]


register(
    "02.attended_time",
    attended_time,
    _time_cases,
    [
        (
            lambda weights, hop_length, sample_rate: int(weights.argmax()),
            "That is the frame index; convert it to seconds.",
        ),
        (
            lambda weights, hop_length, sample_rate: (
                int(weights.argmax()) * sample_rate / hop_length
            ),
            "Your times are far too large: check which of hop_length and sample_rate you "
            "divide by. A hop is a number of samples; sample_rate is samples per second.",
        ),
        (
            lambda weights, hop_length, sample_rate: (
                1000 * attended_time(weights, hop_length, sample_rate)
            ),
            "That is in milliseconds; the exercise asks for seconds.",
        ),
        (
            lambda weights, hop_length, sample_rate: (
                int(weights.argmin()) * hop_length / sample_rate
            ),
            "You found the frame with the smallest weight; the model listens most where the "
            "weight is largest.",
        ),
        (
            lambda weights, hop_length, sample_rate: (
                (int(weights.argmax()) + 1) * hop_length / sample_rate
            ),
            "Off by one frame: frames count from 0, and frame 0 is at 0 seconds.",
        ),
        (
            lambda weights, hop_length, sample_rate: (
                float(weights.max()) * hop_length / sample_rate
            ),
            "You used the largest weight's value; what you need is its position, the frame index.",
        ),
        (
            lambda weights, hop_length, sample_rate: (
                int(weights.argmax()) * hop_length // sample_rate
            ),
            "You rounded down to whole seconds (integer division //); divide with / to keep "
            "the fraction of a second.",
        ),
    ],
    "Find the index of the largest weight, then turn frames into samples (hop_length each) "
    "and samples into seconds.",
    outputs=("seconds",),
)
