"""Lesson 06's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (it does not import ``course_utils``: its
source is what ``solution()`` shows, so it must stand alone), a function making seeded test
inputs with the edge cases that expose common bugs, and the known mistakes with the hint each
earns. Importing this module registers them.

Notebook: 06_audio_classification.
"""

from __future__ import annotations

import torch

from ..checker import register
from ._cases import _randn

__all__ = ["attended_span", "masked_mean_pool", "mix_at_snr"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def masked_mean_pool(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean of h (batch, frames, dim) over the first lengths[b] frames of each clip."""
    valid = torch.arange(h.shape[1], device=h.device) < lengths[:, None]  # (batch, frames)
    total = (h * valid[..., None]).sum(dim=1)  # (batch, dim): the padding adds nothing
    return total / lengths[:, None]  # divide by the number of valid frames


def attended_span(weights: torch.Tensor, share: float) -> tuple[int, int]:
    """Shortest run weights[start:stop] holding at least share of the weight (earliest on ties)."""
    frames = len(weights)
    best_start, best_stop = 0, frames
    for start in range(frames):
        for stop in range(start + 1, frames + 1):
            if weights[start:stop].sum() >= share - 1e-9:  # the shortest run from this start
                if stop - start < best_stop - best_start:
                    best_start, best_stop = start, stop
                break
    return best_start, best_stop


def mix_at_snr(clean: torch.Tensor, noise: torch.Tensor, snr_db: float) -> torch.Tensor:
    """clean + gain * noise, with the gain that makes 10 log10(P_clean / P_noise) = snr_db."""
    power_clean, power_noise = clean.pow(2).mean(), noise.pow(2).mean()  # P: mean square
    gain = (power_clean / (power_noise * 10 ** (snr_db / 10))).sqrt()  # dB of a power ratio
    return clean + gain * noise


# ----- 06.masked_mean_pool -----


def _pool_cases(g: torch.Generator) -> list[tuple]:
    cases = []
    for b, t, d in [(2, 6, 3), (1, 4, 5), (3, 9, 2), (4, 5, 4)]:
        lengths = torch.randint(1, t + 1, (b,), generator=g)
        lengths[0] = t  # one clip without padding
        cases.append((_randn(g, b, t, d), lengths))
    cases.append((_randn(g, 2, 7, 3), torch.tensor([1, 7])))  # a clip of a single frame
    return cases


def _valid(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return (torch.arange(h.shape[1]) < lengths[:, None])[..., None]  # (batch, frames, 1)


register(
    "06.masked_mean_pool",
    masked_mean_pool,
    _pool_cases,
    [
        (
            lambda h, lengths: h.mean(dim=1),
            "You averaged over every frame, padding included: use only the first lengths[b] "
            "frames.",
        ),
        (
            lambda h, lengths: (h * _valid(h, lengths)).sum(1) / h.shape[1],
            "You zeroed the padding but still divided by all frames: divide by lengths.",
        ),
        (
            lambda h, lengths: (h * _valid(h, lengths)).sum(1),
            "You summed the valid frames; the mean divides that sum by their number.",
        ),
        (
            lambda h, lengths: (h * ~_valid(h, lengths)).sum(1) / lengths[:, None],
            "You kept the padding frames: the valid frames are the FIRST lengths[b] frames of "
            "clip b.",
        ),
        (
            lambda h, lengths: (h * _valid(h, lengths)).sum(2) / lengths[:, None],
            "Your result has one value per frame: average over the frames (axis 1), keeping "
            "the features.",
        ),
        (
            lambda h, lengths: (h * _valid(h, lengths - 1)).sum(1) / (lengths[:, None] - 1),
            "Off by one: a clip of length n has valid frames 0 .. n - 1, all n of them.",
        ),
    ],
    "A (batch, frames) mask of valid frames, a masked sum, then divide by lengths.",
    outputs=("pooled",),
)


# ----- 06.attended_span -----


def _span_cases(g: torch.Generator) -> list[tuple]:
    cases = []
    for frames in (5, 12, 25):
        weights = torch.softmax(3 * torch.randn(frames, generator=g, dtype=torch.float64), dim=0)
        cases.append((weights, 0.8))
    flat = torch.tensor([0.1, 0.1, 0.6, 0.1, 0.1], dtype=torch.float64)
    cases.append((flat, 0.5))  # one frame is enough
    cases.append((torch.full((4,), 0.25, dtype=torch.float64), 0.5))  # ties: the earliest
    cases.append((torch.tensor([0.3, 0.05, 0.05, 0.6], dtype=torch.float64), 0.95))  # all
    return cases


def _shortest(weights: torch.Tensor, enough, latest: bool = False) -> tuple[int, int]:
    """The shortest (start, stop) whose weights' sum is enough (earliest, or latest, on ties)."""
    frames = len(weights)
    spans = [
        (stop - start, -start if latest else start, start, stop)
        for start in range(frames)
        for stop in range(start + 1, frames + 1)
        if enough(float(weights[start:stop].sum()))
    ]
    return min(spans, default=(0, 0, 0, frames))[2:]


def _last_frame_as_stop(start: int, stop: int) -> tuple[int, int]:
    return start, stop - 1


def _length_as_stop(start: int, stop: int) -> tuple[int, int]:
    return start, stop - start


def _from_frame_zero(weights: torch.Tensor, share: float) -> tuple[int, int]:
    stop = int(torch.searchsorted(weights.cumsum(0), share - 1e-9)) + 1
    return 0, min(stop, len(weights))


register(
    "06.attended_span",
    attended_span,
    _span_cases,
    [
        (
            lambda w, share: (int(w.argmax()), int(w.argmax()) + 1),
            "You returned the single loudest frame; the span must hold at least `share` of the "
            "weight.",
        ),
        (
            _from_frame_zero,
            "Your span always starts at frame 0: try every start and keep the shortest span.",
        ),
        (
            lambda w, share: _shortest(w, lambda total: total >= share - 1e-9, latest=True),
            "Right length, but when several spans are equally short, return the earliest one.",
        ),
        (
            lambda w, share: _shortest(w, lambda total: total > share),
            "A span whose weights add up to exactly `share` is already enough: at least `share` "
            "means >=.",
        ),
        (
            lambda w, share: _last_frame_as_stop(*attended_span(w, share)),
            "stop is one past the last frame of the span, as in weights[start:stop].",
        ),
        (
            lambda w, share: _length_as_stop(*attended_span(w, share)),
            "Return (start, stop), stop being one past the last frame, not the span's length.",
        ),
    ],
    "Many spans hold enough weight: you want the shortest, and the earliest of equally short "
    "ones. Trying every start is fine for a few hundred frames.",
    outputs=("start", "stop"),
)


# ----- 06.mix_at_snr -----


def _snr_cases(g: torch.Generator) -> list[tuple]:
    cases = []
    for scale, snr_db in ((1.0, 10.0), (0.2, 0.0), (3.0, -5.0), (0.5, 20.0)):
        clean = torch.randn(400, generator=g, dtype=torch.float64) * scale
        cases.append((clean, torch.randn(400, generator=g, dtype=torch.float64), snr_db))
    loud_noise = 10 * torch.randn(300, generator=g, dtype=torch.float64)
    cases.append((torch.randn(300, generator=g, dtype=torch.float64), loud_noise, 6.0))
    return cases


def _power(x: torch.Tensor) -> torch.Tensor:
    return x.pow(2).mean()


def _mix_by_std(clean, noise, snr_db):
    return clean + noise * clean.std() / (noise.std() * 10 ** (snr_db / 20))  # mean removed


register(
    "06.mix_at_snr",
    mix_at_snr,
    _snr_cases,
    [
        (
            lambda c, n, snr: c + n * (_power(c) / (_power(n) * 10 ** (snr / 20))).sqrt(),
            "SNR in dB is 10 log10 of a POWER ratio: divide by 10, not 20, when the ratio is "
            "of powers.",
        ),
        (
            lambda c, n, snr: c + n * (c.abs().mean() / n.abs().mean()) * 10 ** (-snr / 20),
            "Use the mean square (power) of each signal, not the mean absolute value.",
        ),
        (
            lambda c, n, snr: c + n * (_power(c) / (_power(n) * 10 ** (snr / 10))),
            "Your gain scales power, but it multiplies the samples (amplitudes): take the "
            "square root of the power ratio.",
        ),
        (
            lambda c, n, snr: c + n * (_power(c) / 10 ** (snr / 10)).sqrt(),
            "The noise's own power is missing: the gain must first bring the noise to power 1 "
            "(divide by its power), or a loud noise stays loud.",
        ),
        (
            lambda c, n, snr: c + n * (_power(c) * 10 ** (snr / 10) / _power(n)).sqrt(),
            "Your noise gets louder as snr_db grows; a higher SNR means quieter noise.",
        ),
        (
            lambda c, n, snr: c + n * (_power(n) / (_power(c) * 10 ** (snr / 10))).sqrt(),
            "Your power ratio is upside down: at the same SNR, a louder clean clip allows a "
            "louder noise, and a louder noise needs a smaller gain.",
        ),
        (
            lambda c, n, snr: mix_at_snr(c, n, snr) - c,
            "You returned the scaled noise alone; return the mix, the clean clip plus the "
            "scaled noise.",
        ),
        (
            lambda c, n, snr: c * (_power(n) * 10 ** (snr / 10) / _power(c)).sqrt() + n,
            "You scaled the clean clip; leave it as it is and scale only the noise.",
        ),
        (
            _mix_by_std,
            "Power is the mean square of the samples; std() and var() subtract the mean first, "
            "which changes the gain a little.",
        ),
        (
            lambda c, n, snr: c + n * (_power(c) / (_power(n) * snr)).sqrt(),
            "snr_db is in decibels, not a plain ratio of powers: convert it first.",
        ),
    ],
    "Compare powers (mean squares), not amplitudes: find the noise power that snr_db asks "
    "for, then the gain that brings the noise to it. A gain multiplies samples, so it "
    "multiplies power by its square.",
    outputs=("noisy",),
)
