"""Lesson 13's utterances: deterministic, spoken by split voices, every word's span known."""

import numpy as np
import pytest

from course_utils.audiotext import (
    SINGLE_WORDS,
    AudioTextConfig,
    Utterance,
    find_span,
    make_utterances,
)
from course_utils.audiotext import data as audiotext_data
from course_utils.data import voice_splits


def _variant(voice: str) -> str:
    """The eSpeak variant of a voice name such as "en-gb-scotland+m3"."""
    return voice.split("+", 1)[1]


def test_same_arguments_give_identical_utterances():
    build = make_utterances.__wrapped__  # past the in-memory cache: really generate twice
    a = build("commands", "train", 3, use_cache=False)
    b = build("commands", "train", 3, use_cache=False)
    assert a is not b
    assert a.audio.tobytes() == b.audio.tobytes()
    assert a.texts == b.texts and a.spans == b.spans and a.voices == b.voices
    assert np.array_equal(a.offsets, b.offsets)
    other = build("commands", "train", 3, AudioTextConfig(seed=1), use_cache=False)
    assert other.audio.tobytes() != a.audio.tobytes()


def test_a_set_is_cached_on_disk_and_read_back_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    build = make_utterances.__wrapped__
    path = audiotext_data.cache_path("word lists", "test", 2, AudioTextConfig())
    assert path.is_relative_to(tmp_path) and not path.exists()
    written = build("word lists", "test", 2)
    assert path.is_file()
    read = build("word lists", "test", 2)
    fresh = build("word lists", "test", 2, use_cache=False)
    for other in (read, fresh):
        assert other.audio.tobytes() == written.audio.tobytes()
        assert other.texts == written.texts and other.voices == written.voices
        assert other.spans == written.spans and np.array_equal(other.offsets, written.offsets)
    assert read[0].span_of(read.texts[0].split()[0]) == read.spans[0][0]
    assert read.kind == "word lists" and read.split == "test"


def test_test_voices_are_never_training_voices():
    splits = voice_splits()
    train = make_utterances("commands", "train", 8, use_cache=False)
    test = make_utterances("commands", "test", 6, use_cache=False)
    assert {_variant(v) for v in train.voices} <= set(splits["train"])
    assert {_variant(v) for v in test.voices} <= set(splits["test"])
    assert not {_variant(v) for v in test.voices} & set(splits["train"])
    assert train.split == "train" and test.split == "test"


@pytest.mark.parametrize("kind", ["commands", "word lists"])
def test_spans_are_sorted_inside_the_waveform_and_one_per_word(kind):
    utterances = make_utterances(kind, "test", 4, use_cache=False)
    for i in range(len(utterances)):
        utterance = utterances[i]
        seconds = utterance.waveform.size / utterance.sample_rate
        assert len(utterance.spans) == len(utterance.words) >= 1
        assert all(0 < start < end <= seconds for start, end in utterance.spans)
        for (_, end), (start, _) in zip(utterance.spans, utterance.spans[1:], strict=False):
            assert end <= start
        assert utterance.waveform.dtype == np.float32
        assert np.abs(utterance.waveform).max() <= 1.0


def test_find_span_joins_the_words_of_a_two_word_query():
    words = ("turn", "on", "the", "living", "room", "lights")
    spans = ((0.1, 0.3), (0.4, 0.5), (0.6, 0.7), (0.8, 1.1), (1.2, 1.5), (1.6, 2.0))
    assert find_span(words, spans, "living room") == (0.8, 1.5)
    assert find_span(words, spans, "lights") == (1.6, 2.0)
    assert find_span(words, spans, "kitchen") is None
    assert find_span(words, spans, "room living") is None  # the words must be in order
    utterance = Utterance(np.zeros(32_000, np.float32), " ".join(words), spans, "en+m3")
    assert utterance.span_of("living room") == (0.8, 1.5)
    assert utterance.span_of("fan") is None


def test_word_lists_hold_three_to_five_distinct_single_words():
    lists = make_utterances("word lists", "test", 6, use_cache=False)
    assert lists.kind == "word lists"
    for text in lists.texts:
        words = text.split()
        assert 3 <= len(words) <= 5
        assert len(set(words)) == len(words)
        assert set(words) <= set(SINGLE_WORDS)


def test_adding_two_sets_keeps_every_utterance_and_its_audio():
    commands = make_utterances("commands", "test", 2, use_cache=False)
    lists = make_utterances("word lists", "test", 2, use_cache=False)
    joined = commands + lists
    assert len(joined) == len(commands) + len(lists) == 4
    assert joined.texts == commands.texts + lists.texts
    assert joined.spans == commands.spans + lists.spans
    assert joined.kind == "mixed" and joined.split == "test"
    assert joined.offsets[-1] == joined.audio.size == commands.audio.size + lists.audio.size
    assert np.array_equal(joined.waveform(0), commands.waveform(0))
    assert np.array_equal(joined.waveform(len(commands)), lists.waveform(0))
    assert np.array_equal(joined.waveform(3), lists.waveform(1))
    assert joined.seconds == pytest.approx(commands.seconds + lists.seconds)


def test_adding_sets_of_different_splits_is_refused():
    train = make_utterances("commands", "train", 8, use_cache=False)
    test = make_utterances("commands", "test", 2, use_cache=False)
    with pytest.raises(ValueError, match="one split"):
        train + test


@pytest.mark.parametrize(
    "kind, split, count, match",
    [
        ("sentences", "train", 2, "kind must be one of"),
        ("commands", "dev", 2, "split must be one of"),
        ("commands", "train", 0, "count must be at least 1"),
    ],
)
def test_make_utterances_rejects_bad_arguments(kind, split, count, match):
    with pytest.raises(ValueError, match=match):
        make_utterances(kind, split, count, use_cache=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"gap_seconds": (0.3, 0.1)}, "gap_seconds must be"),
        ({"snr_db_range": (30.0, 10.0)}, "snr_db_range must be"),
        ({"edge_seconds": (-0.1, 0.2)}, "must be >= 0"),
        ({"words_per_list": (1, 3)}, "words_per_list must lie in"),
        ({"noise_colors": ("purple",)}, "noise_colors must be from"),
    ],
)
def test_audio_text_config_rejects_bad_ranges(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AudioTextConfig(**kwargs)
