"""Lesson 13's text side: characters to ids, and an encoder blind to padding."""

import pytest
import torch

from course_utils.audiotext import ALPHABET, PAD, TextEncoder, encode_texts

torch.set_num_threads(1)


def test_encode_texts_gives_ids_lengths_and_padding():
    ids, lengths = encode_texts(["up", "fan", "a b"], max_chars=8)
    assert ids.dtype == torch.long and ids.shape == (3, 3)
    assert lengths.tolist() == [2, 3, 3]
    assert ids.tolist() == [[23, 18, PAD], [8, 3, 16], [3, 1, 4]]  # id = 1 + index in ALPHABET
    assert ids[0, 2] == PAD == 0
    assert [ALPHABET[i - 1] for i in ids[1].tolist()] == list("fan")


def test_a_single_string_is_a_batch_of_one():
    ids, lengths = encode_texts("fan", max_chars=8)
    assert ids.tolist() == [[8, 3, 16]] and lengths.tolist() == [3]


def test_encode_texts_lower_cases_and_collapses_spaces():
    messy, messy_lengths = encode_texts(["  Living   ROOM ", "It's\tUP"], max_chars=16)
    clean, clean_lengths = encode_texts(["living room", "it's up"], max_chars=16)
    assert torch.equal(messy, clean) and torch.equal(messy_lengths, clean_lengths)
    assert messy_lengths.tolist() == [11, 7]


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty"),
        ("   \t", "empty"),
        ("seven 7", r"cannot read: \['7'\]"),
        ("café", r"cannot read: \['é'\]"),
        ("a" * 9, "9 characters; this model reads at most 8"),
    ],
)
def test_encode_texts_rejects_what_it_cannot_read(text, match):
    with pytest.raises(ValueError, match=match):
        encode_texts(["fan", text], max_chars=8)


def test_encode_texts_rejects_an_empty_list():
    with pytest.raises(ValueError, match="at least one text"):
        encode_texts([], max_chars=8)


@pytest.mark.parametrize("layers", [0, 1])
def test_pooled_vector_is_the_mean_over_valid_characters(layers):
    torch.manual_seed(0)
    encoder = TextEncoder(d_model=16, layers=layers).eval()
    ids, lengths = encode_texts(["up", "living room", "fan"], encoder.max_chars)
    with torch.no_grad():
        pooled, chars = encoder(ids, lengths)
    assert pooled.shape == (3, 16) and chars.shape == (3, 11, 16)
    for i, n in enumerate(lengths.tolist()):
        assert torch.allclose(pooled[i], chars[i, :n].mean(dim=0), atol=1e-6)
        assert torch.all(chars[i, n:] == 0)
        assert chars[i, :n].abs().sum(dim=-1).min() > 0  # valid characters are not zeroed


@pytest.mark.parametrize("layers", [0, 1])
def test_a_text_encodes_the_same_alone_or_beside_a_longer_one(layers):
    torch.manual_seed(0)
    encoder = TextEncoder(d_model=16, layers=layers).eval()
    with torch.no_grad():
        alone, alone_chars = encoder(*encode_texts(["fan"], encoder.max_chars))
        batched, batched_chars = encoder(
            *encode_texts(["fan", "turn on the kitchen lights"], encoder.max_chars)
        )
    assert torch.allclose(alone[0], batched[0], atol=1e-5)
    assert torch.allclose(alone_chars[0], batched_chars[0, :3], atol=1e-5)
    assert not torch.allclose(batched[0], batched[1], atol=1e-3)


def test_encode_checks_the_text_and_returns_pooled_vectors():
    encoder = TextEncoder(d_model=16, max_chars=10).eval()
    with torch.no_grad():
        vectors = encoder.encode(["fan", "up"])
    assert vectors.shape == (2, 16)
    with pytest.raises(ValueError, match="at most 10"):
        encoder.encode("turn on the lights")
