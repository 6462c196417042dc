"""Lesson 05's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain torch (it does not import
``course_utils.audio``: its source is what ``solution()`` shows, so it must stand alone), a
function making seeded test inputs with the edge cases that expose common bugs, and the known
mistakes with the hint each earns. Importing this module registers them.

Notebook: 05_audio_features_and_data.
"""

from __future__ import annotations

import torch

from ..checker import Diagnostic, register
from ._cases import _randn

__all__ = ["frame_counts", "hz_to_mel", "power_to_db", "time_mask"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def frame_counts(lengths: torch.Tensor, hop_length: int, n_fft: int, center: bool) -> torch.Tensor:
    """STFT frames of clips of lengths (batch,) samples, centred (padded) or whole frames only."""
    if center:  # padded by n_fft // 2 on both sides: one frame centred at every hop
        return 1 + lengths // hop_length
    return torch.clamp(1 + (lengths - n_fft) // hop_length, min=0)  # whole frames only


def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    """Frequencies in Hz to mels on the HTK scale (O'Shaughnessy 1987)."""
    return 2595 * torch.log10(1 + hz / 700)


def power_to_db(power: torch.Tensor, top_db: float | None) -> torch.Tensor:
    """Power (batch, n_mels, frames) to dB (ref 1, floor 1e-10), floored at max - top_db."""
    db = 10 * torch.log10(torch.clamp(power, min=1e-10))  # the floor: log10(0) would be -inf
    if top_db is None:
        return db
    floor = db.amax(dim=(-2, -1), keepdim=True) - top_db  # each example's own maximum
    return torch.maximum(db, floor)


def time_mask(features: torch.Tensor, starts: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """Zero frames starts[b] .. starts[b] + widths[b] - 1 of features (batch, n_mels, frames)."""
    frames = torch.arange(features.shape[-1], device=features.device)  # (frames,)
    inside = (frames >= starts[:, None]) & (frames < (starts + widths)[:, None])  # (batch, frames)
    return features.masked_fill(inside[:, None, :], 0.0)  # every mel bin; a new tensor


# ----- 05.frame_counts -----


def _frame_count_cases(g: torch.Generator) -> list[tuple]:
    lengths = [
        torch.randint(0, 40_000, (6,), generator=g),
        torch.tensor([0, 159, 160, 399, 400, 16_000]),  # empty, under a hop, one hop, n_fft
    ]
    return [
        (n, hop, n_fft, center)
        for n in lengths
        for hop, n_fft in ((160, 400), (256, 1024))
        for center in (True, False)
    ]


register(
    "05.frame_counts",
    frame_counts,
    _frame_count_cases,
    [
        Diagnostic(
            lambda n, hop, n_fft, center: 1 + n / hop if center else (1 + (n - n_fft) / hop),
            "Some of your counts are fractions: frames come whole, so divide with // (floor "
            "division), not /.",
            symptom=lambda args, got, exp: bool((got != got.floor()).any()),
        ),
        Diagnostic(
            lambda n, hop, n_fft, center: n // hop,
            "Off by one: with center=True a clip of exactly one hop has frames centred at 0 "
            "and at hop, two frames.",
            symptom=lambda args, got, exp: bool((got == exp - 1).all()),
        ),
        Diagnostic(
            lambda n, hop, n_fft, center: 1 + n // hop,
            "With center=False there is no padding: a frame needs n_fft samples inside the clip.",
            symptom=lambda args, got, exp: (
                not args[3] and bool((got == 1 + args[0] // args[1]).all())
            ),
        ),
        Diagnostic(
            lambda n, hop, n_fft, center: 1 + (n - n_fft) // hop,
            "A clip shorter than n_fft holds no whole frame: the count cannot be negative "
            "(clamp it at 0).",
            symptom=lambda args, got, exp: bool((got < 0).any()),
        ),
        Diagnostic(
            lambda n, hop, n_fft, center: (1 + (n - n_fft) // hop).clamp(min=0),
            "With center=True the clip is padded by n_fft // 2 on both sides, so n_fft does not "
            "limit the count.",
            symptom=lambda args, got, exp: (
                args[3] and bool((got == (1 + (args[0] - args[2]) // args[1]).clamp(min=0)).all())
            ),
        ),
    ],
    "Draw a clip of 2 hops and count where the frame centres (center=True) or whole frames "
    "(center=False) fit.",
    outputs=("frames",),
)


# ----- 05.hz_to_mel -----


def _mel_cases(g: torch.Generator) -> list[tuple]:
    return [
        (torch.rand(50, generator=g, dtype=torch.float64) * 8000,),
        (torch.tensor([0.0, 700.0, 1000.0, 8000.0]),),  # 0 Hz is 0 mel; 1000 Hz about 1000
        (torch.rand(2, 3, generator=g) * 22_050,),  # any shape
    ]


register(
    "05.hz_to_mel",
    hz_to_mel,
    _mel_cases,
    [
        (
            lambda hz: 2595 * torch.log(1 + hz / 700),
            "2595 goes with log base 10 (torch.log10); natural log goes with 1127.",
        ),
        (
            lambda hz: 2595 * torch.log10(hz / 700),
            "Missing the 1 +: 0 Hz must be 0 mel, and log(0) is -inf.",
        ),
        (
            lambda hz: 1127 * torch.log10(1 + hz / 700),
            "1127 goes with the natural log; with log base 10 the factor is 2595.",
        ),
    ],
    "Use section 4's HTK formula (a log base 10); check that 0 Hz gives 0 mel and 1000 Hz "
    "about 1000 mel.",
    outputs=("mel",),
)


# ----- 05.power_to_db -----


def _power_cases(g: torch.Generator) -> list[tuple]:
    scale = torch.tensor([1.0, 1e-6, 100.0])[:, None, None]
    power = torch.rand(3, 8, 20, generator=g) ** 8 * scale  # examples of very different levels
    power[:, :, :3] = 0.0  # digital silence
    return [(power, 80.0), (power, 40.0), (power, None), (power[:1], 30.0)]


def _with_floor(db: torch.Tensor, top_db: float | None, dims: tuple[int, ...]) -> torch.Tensor:
    return db if top_db is None else torch.maximum(db, db.amax(dim=dims, keepdim=True) - top_db)


def _db(power: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(power.clamp(min=1e-10))


register(
    "05.power_to_db",
    power_to_db,
    _power_cases,
    [
        Diagnostic(
            lambda p, top_db: _with_floor(10 * torch.log10(p), top_db, (1, 2)),
            "Silence has power 0 and log10(0) = -inf: clamp the power at amin = 1e-10 before "
            "the log.",
            symptom=lambda args, got, exp: bool(torch.isinf(got).any()),
        ),
        (
            lambda p, top_db: _with_floor(2 * _db(p), top_db, (1, 2)),
            "Power goes to decibels with 10 log10, not 20 log10 (that one is for amplitudes).",
        ),
        (
            lambda p, top_db: _with_floor(_db(p), top_db, (0, 1, 2)),
            "The floor is per example: use each example's own maximum over (n_mels, frames), "
            "not the batch's.",
        ),
        (
            lambda p, top_db: _db(p),
            "top_db is ignored: floor everything more than top_db below each example's maximum.",
        ),
        (
            lambda p, top_db: _with_floor(10 * torch.log10(p + 1e-10), top_db, (1, 2)),
            "Close: the floor is max(power, 1e-10) (a clamp), not power + 1e-10.",
        ),
    ],
    "Floor the power at amin so that silence stays finite, convert power to decibels, then "
    "(unless top_db is None) raise each example to at least its own maximum minus top_db.",
    outputs=("dB",),
    atol=1e-3,
)


# ----- 05.time_mask -----


def _time_mask_cases(g: torch.Generator) -> list[tuple]:
    cases = []
    for batch, n_mels, frames in ((3, 40, 101), (1, 16, 30), (4, 20, 50)):
        widths = torch.randint(0, 8, (batch,), generator=g)
        starts = torch.randint(0, 12, (batch,), generator=g)
        cases.append((_randn(g, batch, n_mels, frames), starts, widths))
    # Width 0 masks nothing; a mask may run past the last frame; one may start at frame 0.
    cases.append((_randn(g, 3, 8, 10), torch.tensor([2, 7, 0]), torch.tensor([0, 6, 3])))
    return cases


def _mask_mel_bins(features, starts, widths):
    bins = torch.arange(features.shape[1])
    inside = (bins >= starts[:, None]) & (bins < (starts + widths)[:, None])  # (batch, n_mels)
    return features.masked_fill(inside[:, :, None], 0.0)


register(
    "05.time_mask",
    time_mask,
    _time_mask_cases,
    [
        (
            _mask_mel_bins,
            "You masked mel bins (axis 1). Features are (batch, n_mels, frames): time is the "
            "last axis.",
        ),
        (
            lambda f, s, w: time_mask(f, s, w + 1),
            "Off by one: a mask of width w covers frames start to start + w - 1 (and width 0 "
            "masks nothing).",
        ),
        (
            lambda f, s, w: time_mask(f, s[:1].expand_as(s), w[:1].expand_as(w)),
            "Every example got the first example's mask: use starts[b] and widths[b] for "
            "example b.",
        ),
    ],
    "Build a (batch, frames) boolean mask from starts and widths, then fill with 0 across all "
    "mel bins.",
    outputs=("masked",),
)
