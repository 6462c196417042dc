"""Lesson 00's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain Python (its source is what ``solution()``
shows, so it must stand alone), a function making the test inputs with the edge cases that
expose common bugs, and the known mistakes with the hint each earns. The inputs are small and
synthetic: no corpus, no network. Importing this module registers them.

Notebook: 00_welcome_and_setup.
"""

from __future__ import annotations

import torch

from ..checker import register

__all__ = ["count_accents", "duration_ms"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def duration_ms(num_samples: int, sample_rate: int) -> float:
    """Duration in milliseconds of a clip of num_samples samples at sample_rate Hz."""
    return 1000 * num_samples / sample_rate  # samples / (samples per second) = seconds


def count_accents(items: list[dict]) -> int:
    """Number of distinct "voice_accent" values among the corpus items (dicts)."""
    return len({item["voice_accent"] for item in items})  # a set keeps each accent once


# ----- 00.duration_ms -----


def _duration_cases(g: torch.Generator) -> list[tuple]:
    return [
        (16_000, 16_000),  # one second
        (8_000, 16_000),
        (441, 44_100),
        (1, 16_000),  # a single sample: a fraction of a millisecond
        (12_345, 22_050),  # not a whole number of milliseconds
        (48_000, 8_000),  # longer than a second
    ]


register(
    "00.duration_ms",
    duration_ms,
    _duration_cases,
    [
        (
            lambda num_samples, sample_rate: num_samples / sample_rate,
            "That is the duration in seconds; the exercise asks for milliseconds.",
        ),
        (
            lambda num_samples, sample_rate: 1000 * sample_rate / num_samples,
            "Check which of the two numbers you divide by: more samples at the same rate must "
            "give a longer clip.",
        ),
        (
            lambda num_samples, sample_rate: 1000 * num_samples // sample_rate,
            "Close, but you rounded down to whole milliseconds (integer division //). A "
            "duration need not be a whole number: divide with /.",
        ),
    ],
    "sample_rate is samples per second: dividing the number of samples by it gives seconds, "
    "and a second has 1000 milliseconds.",
    outputs=("milliseconds",),
)


# ----- 00.count_accents -----


def _item(accent: str, variant: str, text: str = "yes") -> dict:
    return {"text": text, "voice_accent": accent, "voice_variant": variant}


def _accent_cases(g: torch.Generator) -> list[tuple]:
    accents = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp"]
    variants = ["m1", "m3", "f2", "f4"]
    accent_ids = torch.randint(len(accents), (12,), generator=g).tolist()
    variant_ids = torch.randint(len(variants), (12,), generator=g).tolist()
    drawn = [_item(accents[a], variants[v]) for a, v in zip(accent_ids, variant_ids, strict=True)]
    return [
        (drawn,),
        ([_item("en-us", "m1"), _item("en-us", "f2"), _item("en-gb", "m1")],),
        ([_item("en-us", "m1"), _item("en-gb", "m1"), _item("en-gb-scotland", "m1")],),
        ([_item("en-us", "m1", "no"), _item("en-us", "m1", "go")],),  # one voice, two clips
        ([_item("en-gb", "f4")],),  # a single clip
        ([],),  # an empty split
    ]


register(
    "00.count_accents",
    count_accents,
    _accent_cases,
    [
        (
            lambda items: len(items),
            "That counts clips; count each accent only once (a set helps).",
        ),
        (
            lambda items: len({item["voice_variant"] for item in items}),
            "That counts voice variants; the accent is under another key of each item.",
        ),
        (
            lambda items: len({(item["voice_accent"], item["voice_variant"]) for item in items}),
            "That counts voices (accent and variant together); count the accents alone.",
        ),
    ],
    "Each item is a dict; look at its keys. Collect the accents in a set and count them.",
    outputs=("accents",),
)
