"""Text to character ids for the synthesiser: its front end (lesson 09).

Characters, not phonemes: the model learns English spelling-to-sound from the data, which
a corpus of two thousand short sentences allows because its vocabulary is small. Id 0
is padding; every character of the alphabet has its own id from 1. Text is lower-cased and
its runs of white space become one space; anything else outside the alphabet is refused,
naming the characters, rather than silently dropped (a dropped digit would be a silently
wrong sentence).

Shapes: B batch, L characters.

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import torch

from ..core import pad_batch

__all__ = ["PAD", "TextTokenizer"]

PAD = 0  # the padding id: no character has it


class TextTokenizer:
    """Characters to ids and back; id 0 is padding.

    Args:
        alphabet: the characters a text may hold (default: space, apostrophe, a-z and the
            punctuation . , ? ! -, which change prosody).

    Example:
        >>> tokenizer = TextTokenizer()
        >>> ids = tokenizer.encode("Go up!")
        >>> ids, tokenizer.decode(ids), len(tokenizer)
        ([9, 17, 1, 23, 18, 32], 'go up!', 34)
    """

    def __init__(self, alphabet: str = " 'abcdefghijklmnopqrstuvwxyz.,?!-"):
        if not alphabet or len(set(alphabet)) != len(alphabet):
            raise ValueError(f"alphabet must be non-empty, no character repeated: {alphabet!r}")
        self.alphabet = alphabet
        self.tokens = ["<pad>", *alphabet]
        self._ids = {char: i for i, char in enumerate(self.tokens) if i != PAD}

    def __len__(self) -> int:
        return len(self.tokens)

    def normalize(self, text: str) -> str:
        """Lower case, white space collapsed to single spaces and stripped at both ends."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return " ".join(text.lower().split())

    def encode(self, text: str) -> list[int]:
        """Text -> ids (no padding).

        Raises:
            ValueError: the text is empty (or only white space), or holds characters outside
                the alphabet, which the message lists.
        """
        text = self.normalize(text)
        if not text:
            raise ValueError("text is empty: there is nothing to say")
        unknown = sorted(set(text) - set(self.alphabet))
        if unknown:
            raise ValueError(
                f"characters {unknown} are not in the alphabet {self.alphabet!r}; spell them "
                "out (e.g. '7' as 'seven') or remove them"
            )
        return [self._ids[char] for char in text]

    def decode(self, ids) -> str:
        """Ids -> text, skipping padding."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        return "".join(self.tokens[i] for i in ids if i != PAD)

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and pad with `PAD`: ids (batch, max_chars) long and lengths (batch,) long.

        Example:
            >>> ids, lengths = TextTokenizer().batch(["go", "stop"])
            >>> ids.tolist(), lengths.tolist()
            ([[9, 17, 0, 0], [21, 22, 17, 18]], [2, 4])
        """
        if isinstance(texts, str):
            raise TypeError("batch takes a list of texts; use encode for one text")
        if not texts:
            raise ValueError("batch needs at least one text")
        return pad_batch([torch.tensor(self.encode(text), dtype=torch.long) for text in texts])
