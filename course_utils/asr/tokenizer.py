"""Characters to token ids and back, for CTC and for the attention speller (lesson 08).

Id 0 is CTC's blank and id 1 is ``<eos>``, which the speller also reads as its start symbol;
the characters follow. The two special ids share no character, so a transcript never
decodes to one of them.

Notebook: 08_speech_recognition.
"""

from __future__ import annotations

import torch

from ..core import pad_batch

__all__ = ["BLANK", "EOS", "CharTokenizer"]

BLANK, EOS = 0, 1  # CTC's blank and the decoder's start/end-of-sentence share no character


class CharTokenizer:
    """Characters to ids and back: id 0 is CTC's blank, id 1 is <eos> (also the start symbol).

    Args:
        alphabet: the characters a transcript may hold (default: space, apostrophe, a-z).

    Example:
        >>> tokenizer = CharTokenizer()
        >>> ids = tokenizer.encode("go up")
        >>> ids, tokenizer.decode(ids), len(tokenizer)
        ([10, 18, 2, 24, 19], 'go up', 30)
    """

    def __init__(self, alphabet: str = " 'abcdefghijklmnopqrstuvwxyz"):
        if len(set(alphabet)) != len(alphabet) or not alphabet:
            raise ValueError(f"alphabet must be non-empty, no character repeated: {alphabet!r}")
        self.alphabet = alphabet
        self.tokens = ["<blank>", "<eos>", *alphabet]
        self._ids = {char: i for i, char in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Lower-cased characters -> ids; characters outside the alphabet raise ValueError."""
        text = text.lower()
        unknown = sorted(set(text) - set(self.alphabet))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the alphabet {self.alphabet!r}")
        return [self._ids[char] for char in text]

    def decode(self, ids) -> str:
        """Ids -> text, skipping blank and <eos>."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        return "".join(self.tokens[i] for i in ids if i > EOS)

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and pad with 0: ids (batch, max_tokens) long and lengths (batch,) long."""
        encoded = [torch.tensor(self.encode(text), dtype=torch.long) for text in texts]
        return pad_batch(encoded, min_length=1)  # one column even if every text is empty
