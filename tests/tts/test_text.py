"""Tests for course_utils.tts.text: the synthesiser's character front end."""

import re

import pytest
import torch

from course_utils.tts.text import PAD, TextTokenizer

TOKENIZER = TextTokenizer()


def test_round_trip_lower_cases_and_collapses_white_space():
    ids = TOKENIZER.encode("  Turn ON\tthe  lights! ")
    assert TOKENIZER.decode(ids) == "turn on the lights!"
    assert TOKENIZER.decode(torch.tensor(ids)) == "turn on the lights!"
    assert PAD not in ids and min(ids) == 1


def test_every_character_has_its_own_id_and_padding_has_none():
    ids = TOKENIZER.encode(TOKENIZER.alphabet.replace(" ", "") + " a")
    assert len(set(ids[:-2])) == len(TOKENIZER.alphabet) - 1
    assert len(TOKENIZER) == len(TOKENIZER.alphabet) + 1 and TOKENIZER.tokens[PAD] == "<pad>"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(text):
    with pytest.raises(ValueError, match="empty"):
        TOKENIZER.encode(text)


def test_unknown_characters_are_named():
    with pytest.raises(ValueError, match=re.escape("['3', '@', 'é']")):
        TOKENIZER.encode("café @ 3 pm")


def test_batch_pads_with_pad_and_returns_lengths():
    ids, lengths = TOKENIZER.batch(["go", "stop"])
    assert ids.dtype == lengths.dtype == torch.long
    assert lengths.tolist() == [2, 4]
    assert ids[0, 2:].tolist() == [PAD, PAD]
    with pytest.raises(ValueError, match="empty"):
        TOKENIZER.batch(["go", ""])
    with pytest.raises(TypeError, match="list"):
        TOKENIZER.batch("go")


def test_bad_alphabets_are_refused():
    with pytest.raises(ValueError, match="repeated"):
        TextTokenizer("abca")
    with pytest.raises(ValueError, match="non-empty"):
        TextTokenizer("")
