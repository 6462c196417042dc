"""Tests for course_utils.tts.data: distinct texts, a split by sentence, trimming, the cache."""

import numpy as np
import pytest
import torch

from course_utils.tts import TextTokenizer
from course_utils.tts.data import TTSDataConfig, build_tts_data, make_texts, trim_silence

SMALL = TTSDataConfig(commands=4, digits=4, phrases=4, validation=0.25, test=0.25)


def test_texts_are_distinct_reproducible_and_speakable():
    texts = make_texts(SMALL)
    assert len(texts) == 12 and len(set(texts)) == 12
    assert texts == make_texts(SMALL)
    assert texts != make_texts(TTSDataConfig(commands=4, digits=4, phrases=4, seed=1))
    for text in texts:
        TextTokenizer().encode(text)  # every character is in the synthesiser's alphabet


def test_a_grammar_with_fewer_texts_gives_what_it_has():
    texts = make_texts(TTSDataConfig(commands=0, digits=500, digits_per_string=(1, 1), phrases=0))
    assert sorted(texts) == sorted(["zero", "one", "two", "three", "four", "five", "six",
                                    "seven", "eight", "nine"])  # fmt: skip


def test_trim_silence_keeps_the_sound_and_a_margin():
    wave = np.r_[np.zeros(1000), 0.5 * np.ones(100), np.zeros(1000)]
    assert trim_silence(wave, margin=10).shape == (120,)
    assert trim_silence(np.zeros(50)).shape == (50,)  # all silence: nothing to find, kept


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tts")
    return folder, build_tts_data(SMALL, cache_dir=folder)


def test_splits_are_by_sentence_and_hold_mel_targets(built):
    _, data = built
    assert [len(data[name]) for name in ("train", "validation", "test")] == [6, 3, 3]
    train, held_out = set(data["train"].texts), set(data["validation"].texts + data["test"].texts)
    assert not train & held_out  # no test or validation sentence is heard in training
    for _, mel in data["train"]:
        assert mel.shape[0] == 80 and mel.shape[1] > 10 and torch.isfinite(mel).all()
        # Trimmed: the first and last frames are not long silence (-1 is the floor).
        assert mel[:, :3].max() > -0.9 and mel[:, -3:].max() > -0.9


def test_the_cache_gives_back_the_same_data(built):
    folder, data = built
    assert len(list(folder.glob("tts-*.npz"))) == 1
    again = build_tts_data(SMALL, cache_dir=folder)
    assert again["test"].texts == data["test"].texts
    for a, b in zip(again["train"].mels, data["train"].mels, strict=True):
        assert torch.equal(a, b)


def test_batches_are_padded():
    data = build_tts_data(SMALL, use_cache=False)
    tokens, text_lengths, mels, mel_lengths = data["train"].batch([0, 1, 2])
    assert tokens.shape == (3, int(text_lengths.max()))
    assert mels.shape == (3, 80, int(mel_lengths.max()))
    assert len(data["train"].batches(4)) == 2
