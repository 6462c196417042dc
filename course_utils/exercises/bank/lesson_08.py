"""Lesson 08's exercises, registered with the checker (`course_utils.exercises`).

Each exercise is a reference solution in plain Python (it does not import ``course_utils.asr``
or ``course_utils.metrics``: its source is what ``solution()`` shows, so it must stand alone),
a function making the test inputs with the edge cases that expose common bugs, and the known
mistakes with the hint each earns. Results are numbers. Importing this module registers them.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

import itertools

import torch

from ..checker import register

__all__ = ["count_paths", "min_frames", "wer"]


# ----- reference solutions (shown by solution(); keep them short and plain) -----


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level Levenshtein distance / number of reference words."""
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))  # distances from the empty reference prefix
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i  # previous: the diagonal, distance(ref[:i-1], hyp[:j-1])
        for j, h in enumerate(hyp, 1):
            # deletion (from above), insertion (from the left), substitution or match
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / len(ref)


def count_paths(frames: int, target: str) -> int:
    """Number of CTC paths of `frames` symbols (characters or blank "_") that collapse to target."""
    extended = ["_"]
    for char in target:
        extended += [char, "_"]  # _ c1 _ c2 _ ... _ : the states of the CTC forward recursion
    count = [1, 1] + [0] * (len(extended) - 2)  # frame 1 starts on the blank or on c1
    for _ in range(frames - 1):
        count = [
            count[s]  # stay on the same state
            + (count[s - 1] if s >= 1 else 0)  # move on by one
            + (count[s - 2] if s >= 2 and extended[s] != extended[s - 2] else 0)  # skip a blank
            for s in range(len(extended))
        ]
    return count[-1] + count[-2]  # end on the last character or on the blank after it


def min_frames(text: str) -> int:
    """Fewest CTC frames that can spell text: one per character, plus a blank between equals."""
    repeats = sum(text[i] == text[i - 1] for i in range(1, len(text)))  # equal neighbours
    return len(text) + repeats  # each pair of equal neighbours needs a blank between them


# ----- 08.wer -----


def _wer_cases(g: torch.Generator) -> list[tuple]:
    return [
        ("one two three", "one two three"),  # no error
        ("one two three", "one too three"),  # a substitution
        ("turn on the lights", "turn the lights"),  # a deletion shifts the words
        ("go", "go go go"),  # insertions: WER above 1
        ("move left five steps", "move left nine steps please"),
        ("stop", ""),  # nothing recognised
        ("yes no yes no", "no yes no yes"),
        ("left", "right"),  # one word, wrong
    ]


def _edits(ref: list, hyp: list, substitution: int = 1) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            cost = substitution * (r != h)
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + cost)
    return row[-1]


def _position_by_position(reference, hypothesis):
    ref, hyp = reference.split(), hypothesis.split()
    return sum(r != h for r, h in zip(ref, hyp + [""] * len(ref), strict=False)) / len(ref)


register(
    "08.wer",
    wer,
    _wer_cases,
    [
        (
            _position_by_position,
            "You compared word i with word i; a deleted or inserted word shifts all that "
            "follow. Align the two word lists with the edit distance (Levenshtein).",
        ),
        (
            lambda reference, hypothesis: _edits(reference, hypothesis) / len(reference),
            "You compared characters; WER works on words: split both strings into word lists "
            "first.",
        ),
        (
            lambda r, h: _edits(r.split(), h.split()) / max(len(r.split()), len(h.split())),
            "Divide by the number of REFERENCE words, whatever the hypothesis' length: "
            "insertions count too, so WER can exceed 1.",
        ),
        (
            lambda reference, hypothesis: _edits(reference.split(), hypothesis.split()),
            "That is the number of word edits; WER divides it by the number of reference words.",
        ),
        (
            lambda r, h: _edits(r.split(), h.split(), substitution=2) / len(r.split()),
            "A substitution costs 1, like a deletion or an insertion, not 2 (a deletion plus "
            "an insertion).",
        ),
        (
            lambda reference, hypothesis: 100 * wer(reference, hypothesis),
            "That is a percentage; return a fraction (1.0 means 100%).",
        ),
        (
            lambda reference, hypothesis: 1 - wer(reference, hypothesis),
            "That is 1 - WER, an accuracy; return the error rate itself.",
        ),
    ],
    "Dynamic programming over the two word lists: distance(i, j) is the cheapest of a "
    "deletion, an insertion, and a substitution (free when the words match).",
    outputs=("wer",),
)


# ----- 08.count_paths -----


def _paths_cases(g: torch.Generator) -> list[tuple]:
    return [
        (3, "a"),
        (4, "ab"),
        (5, "ab"),
        (4, "aa"),  # equal neighbours need a blank between them
        (6, "abb"),
        (3, "aa"),  # just enough frames: a _ a
        (2, "aa"),  # too few frames: no path
        (1, "a"),  # a single frame
        (7, "abc"),
        (40, "hello"),  # large: 5 ** 40 candidate paths, far too many to try one by one
    ]


def _counts(frames: int, target: str, start=(1, 1), skip=True, skip_equal=False) -> list[int]:
    """Paths ending in each state of _ c1 _ c2 ... _, with the recursion's rules as options."""
    extended = ["_"]
    for char in target:
        extended += [char, "_"]
    count = [*start] + [0] * (len(extended) - 2)
    for _ in range(frames - 1):
        count = [
            count[s]
            + (count[s - 1] if s >= 1 else 0)
            + (count[s - 2] if skip and s >= 2 and extended[s] != "_" and
               (skip_equal or extended[s] != extended[s - 2]) else 0)
            for s in range(len(extended))
        ]  # fmt: skip
    return count


_FRAME_COUNT_HINT = (
    "Your counts are those of one frame more or one fewer: check how many steps your "
    "recursion takes after the first frame."
)

register(
    "08.count_paths",
    count_paths,
    _paths_cases,
    [
        (
            lambda frames, target: sum(_counts(frames, target, skip_equal=True)[-2:]),
            "Between two equal characters the path must pass a blank: it may not jump from "
            "the first 'a' straight to the second.",
        ),
        (
            lambda frames, target: sum(_counts(frames, target, skip=False)[-2:]),
            "Between two DIFFERENT characters the blank is optional: a path may go straight "
            "from one character to the next.",
        ),
        (
            lambda frames, target: _counts(frames, target)[-2],
            "A path may end on the last character OR on a blank after it: add both counts.",
        ),
        (
            lambda frames, target: sum(_counts(frames, target, start=(1, 0))[-2:]),
            "You count only the paths that start (or end) on a blank; a path may also start on "
            "the first character, and end on the last one.",
        ),  # as many as the paths that end on a blank: read a path backwards
        (lambda frames, target: count_paths(frames + 1, target), _FRAME_COUNT_HINT),
        (lambda frames, target: count_paths(frames - 1, target), _FRAME_COUNT_HINT),
    ],
    "Section 4's forward recursion, with counts in place of probabilities: ask what a path may "
    "do from one frame to the next, and where it may start and end.",
    outputs=("paths",),
    large_cases=1,
)


# ----- 08.min_frames -----


def _min_frames_cases(g: torch.Generator) -> list[tuple]:
    texts = ["go", "stop", "three", "seven seven", "off", "all", "noon", "a", "aaa", "moon"]
    texts += ["brrr", "zzz", "well well", "go up"]  # triple letters; spaces between words
    return [(text,) for text in texts]


def _runs_of_equals(text: str) -> int:
    """How many runs of two or more equal characters text has ('brrr' has one)."""
    return sum(len(list(run)) > 1 for _, run in itertools.groupby(text))


register(
    "08.min_frames",
    min_frames,
    _min_frames_cases,
    [
        (len, "Two equal neighbours need a blank between them, or CTC merges them into one."),
        (
            lambda text: len(text) + len(text) - len(set(text)),
            "Only NEIGHBOURS that are equal need a blank; the same letter further apart (the "
            "two e's of 'seven') does not.",
        ),
        (
            lambda text: 2 * len(text) - 1,
            "Blanks are needed only between equal neighbours, not between every two characters.",
        ),
        (
            lambda text: len(text) + _runs_of_equals(text),
            "A letter repeated three times ('brrr') holds two pairs of equal neighbours, so it "
            "needs two blanks: count every pair, not every run.",
        ),
        (
            lambda text: min_frames(text.replace(" ", "")),
            "The space between words is a character too: CTC spells it with a frame of its own.",
        ),
        (
            lambda text: len(text) + sum(text[i] == text[i - 1] for i in range(len(text))),
            "You compared the first character with the last one (text[-1] when i is 0); only "
            "neighbours inside the text count.",
        ),
    ],
    "Count what CTC must emit: every character of the text, spaces included, and the blanks "
    "that keep equal neighbours apart.",
    outputs=("frames",),
)
