"""Lesson 10's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain Python and torch (it does not import
``course_utils.codec``: its source is what ``solution()`` shows, so it must stand alone), a
function making the test inputs with the edge cases that expose common bugs, and the known
mistakes with the hint each earns. The references follow ``course_utils.codec``'s conventions
(a code stream costs frames/s x stages x log2(K) bits per second; the nearest code is the one
at the smallest Euclidean distance; stage q of residual VQ quantises x minus the codes of
stages 1..q-1; codes are (Q, N), one row per stage, as the codec's (B, Q, T)), and
tests/exercises/test_lesson_10_bank.py checks that they agree with it. Residual VQ's
codebooks come stacked, (Q, K, D): iterating over them gives each stage's (K, D) codebook.
The cases keep every nearest code clear of a tie, so any correct way of computing the
distances picks the same codes. Importing this module registers them.

Notebook: 10_neural_audio_compression.
"""

from __future__ import annotations

import math

import torch

from ..checker import Diagnostic, register
from ._cases import _randn

__all__ = ["bitrate", "nearest_code", "residual_codes"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def bitrate(frame_rate: float, stages: int, codebook_size: int) -> float:
    """Bits per second of a residual-VQ code stream: every frame sends one code per stage,
    and a code picked among codebook_size = K codes takes log2(K) bits."""
    bits_per_code = math.log2(codebook_size)  # 1024 codes: 10 bits
    bits_per_frame = stages * bits_per_code  # one code from each stage's codebook
    return float(frame_rate * bits_per_frame)  # frame_rate frames every second


def nearest_code(x: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the codebook vector nearest (Euclidean distance) to each row of x:
    x (N, D), codebook (K, D) -> codes (N,) int64."""
    differences = x[:, None, :] - codebook[None, :, :]  # (N, K, D): every row minus every code
    distances = differences.pow(2).sum(dim=-1)  # (N, K) squared distances: same order
    return distances.argmin(dim=1)  # (N,): for each row, the code at the smallest distance


def residual_codes(x: torch.Tensor, codebooks: torch.Tensor) -> torch.Tensor:
    """Residual vector quantisation: stage q picks, for each row of x, the code nearest to
    what stages 1..q-1 left over. x (N, D), codebooks (Q, K, D) -> codes (Q, N) int64."""
    residual = x  # what is still to quantise: all of x before the first stage
    codes = []
    for codebook in codebooks:  # one (K, D) codebook per stage
        distances = (residual[:, None, :] - codebook[None, :, :]).pow(2).sum(dim=-1)  # (N, K)
        chosen = distances.argmin(dim=1)  # (N,): this stage's nearest code for each row
        residual = residual - codebook[chosen]  # the error left for the next stages
        codes.append(chosen)
    return torch.stack(codes)  # (Q, N): one row of codes per stage


# ----- 10.bitrate -----


def _bitrate_cases(g: torch.Generator) -> list[tuple]:
    return [
        (50, 12, 1024),  # EnCodec at 16 kHz, hop 320: 6 kbps
        (75, 2, 1024),  # EnCodec at 24 kHz, its lowest bitrate
        (44100 / 512, 9, 1024),  # DAC at 44.1 kHz: a frame rate that is not a whole number
        (12.5, 8, 2048),  # Mimi: few frames, large codebooks
        (50, 1, 1024),  # a single stage
        (100, 4, 2),  # two codes: 1 bit per code
        (50, 3, 1),  # a single code: it tells nothing, 0 bits
        (40, 6, 256),
    ]


register(
    "10.bitrate",
    bitrate,
    _bitrate_cases,
    [
        (
            lambda frame_rate, stages, codebook_size: float(frame_rate * stages * codebook_size),
            "You counted codebook_size itself as bits; picking one of K codes takes log2(K) "
            "bits (1024 codes: 10 bits, since 2^10 = 1024).",
        ),
        (
            lambda frame_rate, stages, codebook_size: frame_rate * stages * math.log(codebook_size),
            "You took the natural logarithm; bits count choices in base 2: log2(K).",
        ),
        (
            lambda frame_rate, stages, codebook_size: frame_rate * math.log2(codebook_size),
            "You counted one code per frame; residual VQ sends one code per stage in every "
            "frame, so the bits of a frame grow with the number of stages.",
        ),
        (
            lambda frame_rate, stages, codebook_size: stages * math.log2(codebook_size),
            "That is bits per frame; a bitrate counts bits per second: the codec sends "
            "frame_rate frames every second.",
        ),
        (
            lambda frame_rate, stages, codebook_size: (
                bitrate(frame_rate, stages, codebook_size) / 8
            ),
            "That is bytes per second; the bitrate counts bits (8 bits to a byte).",
        ),
        (
            lambda frame_rate, stages, codebook_size: (
                bitrate(frame_rate, stages, codebook_size) / 1000
            ),
            "That is kilobits per second; return bits per second.",
        ),
    ],
    "Count what one frame sends (a code from every stage, each an index among K codes), then "
    "how many frames go by in a second.",
    outputs=("bitrate",),
)


# ----- 10.nearest_code -----


def _lengths(codes: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """The codes (K, D) rescaled to lengths spread from low to high (log-spaced)."""
    target = torch.logspace(math.log10(low), math.log10(high), len(codes))[:, None]
    return codes / codes.norm(dim=1, keepdim=True) * target


def _squared_distances(x: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    return (x[:, None, :] - codebook[None, :, :]).double().pow(2).sum(-1)  # (N, K)


def _clear(x: torch.Tensor, codebooks: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """The first `rows` rows of x (all by default) whose nearest code, at every stage of
    residual VQ over codebooks (Q, K, D), beats the second nearest by 0.01% of the squared
    lengths at hand or more: no near-tie that float32 rounding in another formula (such as
    |x|^2 - 2 x.c + |c|^2) could flip."""
    keep, residual = torch.ones(len(x), dtype=torch.bool), x
    for codebook in codebooks:
        distances = _squared_distances(residual, codebook)
        if len(codebook) > 1:
            nearest, second = distances.topk(2, dim=1, largest=False).values.T
            scale = residual.double().pow(2).sum(1) + codebook.double().pow(2).sum(1).max()
            keep &= second - nearest > 1e-4 * scale
        residual = residual - codebook[distances.argmin(dim=1)]
    return x[keep][:rows]


def _nearest_cases(g: torch.Generator) -> list[tuple]:
    spread = _lengths(_randn(g, 12, 4), 0.1, 10.0)  # codes from 0.1 to 10 long
    unit = _lengths(_randn(g, 8, 5), 1.0, 1.0)  # every code 1 long
    codebook = _randn(g, 10, 3)
    on_codes = codebook[torch.randperm(10, generator=g)[:6]]  # six rows that are codes
    pairs = [
        (_randn(g, 20, 8), _randn(g, 16, 8)),
        (_randn(g, 30, 4), spread),  # lengths that differ a lot: the longest code is not
        (_randn(g, 4, 6), _randn(g, 10, 6), 1),  # a single vector
        (_randn(g, 9, 3), _randn(g, 1, 3)),  # a single code: every row gets code 0
        (_randn(g, 15, 1), _randn(g, 6, 1)),  # D = 1: scalar quantisation
        (_randn(g, 12, 5), unit),  # codes of equal length
        (on_codes, codebook),  # every row is a code: distance 0
        (3 * _randn(g, 64, 16), _randn(g, 32, 16)),  # rows further out than the codes
    ]
    return [(_clear(x, c[None], *rows), c) for x, c, *rows in pairs]


def _close(got, expected) -> bool:
    got, expected = torch.as_tensor(got).double(), torch.as_tensor(expected).double()
    return got.shape == expected.shape and torch.allclose(got, expected, rtol=1e-4, atol=1e-5)


def _returned_distances(args, got, expected) -> bool:
    """Whether got holds each row's smallest distance (squared or not) instead of an index:
    numbers that are not all whole (zeros, from rows that are codes, could be indices)."""
    got, smallest = torch.as_tensor(got).double(), _squared_distances(*args).min(dim=1).values
    if _close(got, expected) or torch.equal(got, got.round()):
        return False
    return _close(got, smallest) or _close(got, smallest.sqrt())


register(
    "10.nearest_code",
    nearest_code,
    _nearest_cases,
    [
        (
            lambda x, codebook: (x @ codebook.T).argmax(dim=1),
            "You picked the code with the largest dot product x·c; that is the nearest code "
            "only when every code has the same length. The squared distance |x - c|^2 = "
            "|x|^2 - 2 x·c + |c|^2 also counts each code's squared length |c|^2.",
        ),
        (
            lambda x, codebook: (codebook.pow(2).sum(dim=1) - x @ codebook.T).argmin(dim=1),
            "Your distances weigh the codes' lengths wrongly: |x - c|^2 expands to "
            "|x|^2 - 2 x·c + |c|^2; check the factor 2 on the dot product (or subtract the "
            "vectors and square the differences directly).",
        ),
        (
            lambda x, codebook: _squared_distances(x, codebook).argmax(dim=1),
            "You picked the farthest code; the nearest code has the smallest distance.",
        ),
        (
            lambda x, codebook: _squared_distances(x, codebook).argmin(dim=0),
            "Your codes have one entry per codebook vector; return one per row of x: for each "
            "row, the best of the K codes (the smallest distance over the codebook's axis).",
        ),
        (
            lambda x, codebook: codebook[nearest_code(x, codebook)],
            "You returned the nearest code vectors themselves, (N, D); return their indices, "
            "(N,): the numbers a codec sends in place of the vectors.",
        ),
        Diagnostic(
            lambda x, codebook: _squared_distances(x, codebook).min(dim=1).values,
            "You returned each row's smallest distance; return which code is the nearest: its "
            "index (argmin, not min).",
            symptom=_returned_distances,
        ),
    ],
    "Measure how far every row of x is from every code, then keep, for each row, the index "
    "of the code that is closest.",
    outputs=("codes",),
)


# ----- 10.residual_codes -----


def _codebooks(g: torch.Generator, stages: int, size: int, dim: int, decay: float = 0.5):
    """Q random codebooks (Q, K, D), stage q's codes about decay^q as long: each stage
    refines what the ones before it left, as in a trained residual VQ."""
    scales = decay ** torch.arange(stages, dtype=torch.float32)
    return _randn(g, stages, size, dim) * scales[:, None, None]


def _exact_sums(g: torch.Generator, codebooks: torch.Tensor, n: int) -> torch.Tensor:
    """n rows that are sums of one code from each codebook: residual VQ can find them all."""
    picks = torch.randint(codebooks.shape[1], (len(codebooks), n), generator=g)
    return sum(codebook[pick] for codebook, pick in zip(codebooks, picks, strict=True))


def _residual_cases(g: torch.Generator) -> list[tuple]:
    steep = _codebooks(g, 3, 8, 4, decay=0.1)
    pairs = [
        (_randn(g, 12, 4), _codebooks(g, 3, 8, 4)),
        (_randn(g, 10, 4), _codebooks(g, 1, 16, 4)),  # a single stage: plain VQ
        (_randn(g, 4, 6), _codebooks(g, 4, 8, 6), 1),  # a single vector
        (_randn(g, 20, 3), _codebooks(g, 6, 2, 3)),  # two codes a stage: 1 bit each
        (_randn(g, 16, 8), _codebooks(g, 4, 32, 8, decay=1.0)),  # stages of equal scale
        (_exact_sums(g, steep, 9), steep),  # rows made of one code per stage
        (_randn(g, 50, 8), _codebooks(g, 8, 64, 8, decay=0.7)),  # eight stages
    ]
    return [(_clear(x, c, *rows), c) for x, c, *rows in pairs]


def _stages(x, codebooks, next_input):
    """Residual VQ's loop; next_input(x, current, code) is what the next stage quantises."""
    current, codes = x, []
    for codebook in codebooks:
        chosen = _squared_distances(current, codebook).argmin(dim=1)
        codes.append(chosen)
        current = next_input(x, current, codebook[chosen])
    return torch.stack(codes)


register(
    "10.residual_codes",
    residual_codes,
    _residual_cases,
    [
        (
            lambda x, codebooks: _stages(x, codebooks, lambda x, current, code: x),
            "Your later stages quantise x itself; each stage quantises the residual: x minus "
            "the codes the stages before it chose, the error still left to fix.",
        ),
        (
            lambda x, codebooks: _stages(x, codebooks, lambda x, current, code: x - code),
            "From the third stage on, your residual is off: you took only the previous "
            "stage's code away from x. Take away every code chosen so far: keep a running "
            "residual and subtract each stage's code from it.",
        ),
        (
            lambda x, codebooks: _stages(x, codebooks, lambda x, current, code: current + code),
            "Your residual grows from stage to stage: after a stage, take its code away from "
            "the residual, do not add it.",
        ),
        (
            lambda x, codebooks: residual_codes(x, codebooks).T,
            "Your codes are (N, Q), one row per vector; return (Q, N), one row per stage, the "
            "way the codec stores its codes ((B, Q, T)).",
        ),
    ],
    "Keep what is still to quantise; at each stage, find the nearest code of that stage's "
    "codebook for every row, note its index, and take the code away before the next stage.",
    outputs=("codes",),
)
