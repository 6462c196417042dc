"""What the corpus says: its words, digit strings and command sentences.

The vocabulary of the isolated-word tasks (ten digits, 24 commands, 20 words outside the
vocabulary for an "unknown" class), and a small grammar of command sentences. Each function
draws from the generator it is given, in a fixed order, so the same seed always gives the
same texts (and so the same corpus, byte for byte).

Notebook: 05_audio_features_and_data (section "A tour of the corpus").
"""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "COMMANDS",
    "DEVICES",
    "DIGITS",
    "DIRECTIONS",
    "ROOMS",
    "UNKNOWN_LABEL",
    "UNKNOWN_WORDS",
    "command_sentences",
    "digit_strings",
    "in_grammar",
    "word_texts",
]

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
COMMANDS = (
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "forward",
    "backward", "follow", "learn", "open", "close", "play", "pause", "start", "cancel",
    "louder", "quieter", "lights", "music",
)  # fmt: skip
# Words outside the vocabulary, for an "unknown word" class (lesson 06).
UNKNOWN_WORDS = (
    "bed", "bird", "cat", "dog", "happy", "house", "tree", "wow", "apple", "river",
    "table", "window", "yellow", "garden", "pencil", "rocket", "orange", "monkey", "silver",
    "thunder",
)  # fmt: skip
UNKNOWN_LABEL = "_unknown_"

# Grammar of the command sentences: the values of their slots, and templates.
ROOMS = ("kitchen", "bedroom", "living room", "office", "garden", "hallway")
DEVICES = ("lights", "heating", "radio", "fan", "television", "music")
_SENTENCE_TEMPLATES = (
    "turn on the {room} {device}",
    "turn off the {room} {device}",
    "set the volume to {digit}",
    "move {direction} {digit} steps",
    "open the {room} window",
    "close the {room} door",
    "play some music in the {room}",
    "stop the {device}",
)
DIRECTIONS = ("up", "down", "left", "right", "forward", "backward")


def _template_pattern(template: str) -> re.Pattern:
    slots = {"room": ROOMS, "device": DEVICES, "digit": DIGITS[1:], "direction": DIRECTIONS}
    parts = re.split(r"\{(\w+)\}", template)  # text, slot, text, slot, ..., text
    regex = "".join(re.escape(part) if i % 2 == 0 else f"({'|'.join(slots[part])})"
                    for i, part in enumerate(parts))  # fmt: skip
    return re.compile(regex)


_SENTENCE_PATTERNS = tuple(_template_pattern(t) for t in _SENTENCE_TEMPLATES)


def in_grammar(text: str) -> bool:
    """True for a digit string or a sentence of the command grammar (what lesson 08 learns).

    Example:
        >>> in_grammar("four one one"), in_grammar("turn on the kitchen lights")
        (True, True)
        >>> in_grammar("yellow rocket stop"), in_grammar("")
        (False, False)
    """
    words = text.split()
    if words and all(word in DIGITS for word in words):
        return True
    return any(pattern.fullmatch(text) for pattern in _SENTENCE_PATTERNS)


def word_texts(
    words: tuple[str, ...],
    unknown_words: tuple[str, ...],
    clips_per_word: int,
    rng: np.random.Generator,
) -> list[tuple[str, int]]:
    """(word, label) pairs: `clips_per_word` of each word, then as many unknown words.

    Unknown words share one label, ``len(words)`` (the class `UNKNOWN_LABEL`).

    Example:
        >>> word_texts(("yes", "no"), (), 2, np.random.default_rng(0))
        [('yes', 0), ('yes', 0), ('no', 1), ('no', 1)]
    """
    texts = [(word, label) for label, word in enumerate(words) for _ in range(clips_per_word)]
    if unknown_words:
        picks = rng.choice(len(unknown_words), size=clips_per_word)
        texts += [(unknown_words[i], len(words)) for i in picks]
    return texts


def digit_strings(
    n: int, digits_per_string: tuple[int, int], rng: np.random.Generator
) -> list[str]:
    """`n` strings of spoken digits, each of ``lo`` to ``hi`` digits (inclusive)."""
    lo, hi = digits_per_string
    lengths = rng.integers(lo, hi + 1, size=n)
    return [" ".join(DIGITS[d] for d in rng.integers(0, 10, size=k)) for k in lengths]


def command_sentences(n: int, rng: np.random.Generator) -> list[str]:
    """`n` sentences from the command grammar, e.g. "turn on the kitchen lights"."""
    sentences = []
    for _ in range(n):
        template = _SENTENCE_TEMPLATES[rng.integers(len(_SENTENCE_TEMPLATES))]
        sentences.append(
            template.format(
                room=ROOMS[rng.integers(len(ROOMS))],
                device=DEVICES[rng.integers(len(DEVICES))],
                digit=DIGITS[rng.integers(1, 10)],
                direction=DIRECTIONS[rng.integers(len(DIRECTIONS))],
            )
        )
    return sentences
