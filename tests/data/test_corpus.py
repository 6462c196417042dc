"""The speech corpus: splits by voice, determinism, tasks, cache, dataset and collate."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from course_utils.augment import AugmentConfig
from course_utils.data import (
    DIGITS,
    SPLITS,
    UNKNOWN_LABEL,
    CorpusConfig,
    build_corpus,
    cache_path,
    voice_splits,
)
from course_utils.data import corpus as corpus_module
from course_utils.data.datasets import collate_padded

TINY = CorpusConfig(words=("yes", "no", "seven"), clips_per_word=(4, 2, 2))


@pytest.fixture(scope="module")
def tiny():
    return build_corpus(TINY, use_cache=False, progress=False, workers=1)


def test_voice_splits_are_disjoint_and_cover_every_variant():
    splits = voice_splits()
    train, val, test = (set(splits[s]) for s in SPLITS)
    assert not (train & val or train & test or val & test)
    assert len(train | val | test) >= 100
    assert len(train) > len(val) > 0 and len(test) > 0


def test_built_splits_are_disjoint_by_voice(tiny):
    voices = {name: tiny[name].voices for name in SPLITS}
    assert not voices["train"] & voices["test"] and not voices["train"] & voices["validation"]
    assert not voices["validation"] & voices["test"]


def test_words_are_fixed_length_labelled_and_locate_the_speech(tiny):
    train = tiny["train"]
    assert len(train) == 4 * 3 and tiny.labels == ("yes", "no", "seven")
    for i, item in enumerate(train.items):
        wave = train.waveform(i)
        assert wave.shape == (16_000,) and wave.dtype == np.float32
        assert item["text"] == tiny.labels[item["label"]]
        assert 0 <= item["speech_start"] < item["speech_end"] <= 1.0 + 1e-6
        assert np.sqrt(np.mean(wave**2)) > 1e-3, "every clip holds audible speech"


def test_speech_is_where_the_metadata_says():
    clean = build_corpus(
        CorpusConfig(words=("seven",), clips_per_word=(6, 1, 1), augment=AugmentConfig.none()),
        use_cache=False,
        progress=False,
        workers=1,
    )
    for i, item in enumerate(clean["train"].items):
        wave = np.abs(clean["train"].waveform(i))
        start, end = (int(item[k] * 16_000) for k in ("speech_start", "speech_end"))
        inside = wave[start:end].sum()
        assert inside / wave.sum() > 0.99


def test_same_config_gives_the_same_bytes_whatever_the_workers(tiny):
    again = build_corpus(TINY, use_cache=False, progress=False, workers=2)
    for name in SPLITS:
        assert tiny[name].audio.tobytes() == again[name].audio.tobytes()
        assert tiny[name].items == again[name].items


def test_another_seed_gives_another_corpus(tiny):
    other = build_corpus(
        TINY.__class__(**{**TINY.__dict__, "seed": 1}), use_cache=False, progress=False, workers=1
    )
    assert tiny["train"].audio.tobytes() != other["train"].audio.tobytes()


def test_digit_strings_and_sentences_have_transcripts():
    digits = build_corpus(
        CorpusConfig(task="digits", utterances=(6, 2, 2)),
        use_cache=False,
        progress=False,
        workers=1,
    )
    for item in digits["train"].items:
        words = item["text"].split()
        assert 3 <= len(words) <= 7 and set(words) <= set(DIGITS) and item["label"] == -1
    sentences = build_corpus(
        CorpusConfig(task="sentences", utterances=(6, 2, 2)),
        use_cache=False,
        progress=False,
        workers=1,
    )
    texts = [item["text"] for item in sentences["train"].items]
    assert all(len(t.split()) >= 3 for t in texts) and len(set(texts)) > 1
    lengths = np.diff(sentences["train"].offsets)
    assert lengths.min() > 0.5 * 16_000 and len(set(lengths.tolist())) > 1


def test_unknown_words_form_one_extra_class():
    config = CorpusConfig(
        words=("yes", "no"), unknown_words=("cat", "dog"), clips_per_word=(3, 1, 1)
    )
    corpus = build_corpus(config, use_cache=False, progress=False, workers=1)
    assert corpus.labels == ("yes", "no", UNKNOWN_LABEL)
    unknown = [item for item in corpus["train"].items if item["label"] == 2]
    assert len(unknown) == 3 and {item["text"] for item in unknown} <= {"cat", "dog"}


def test_cache_is_used_on_the_second_build(tmp_path, monkeypatch):
    first = build_corpus(TINY, cache_dir=tmp_path, progress=False, workers=1)
    assert first.path == cache_path(TINY, tmp_path) and first.path.exists()

    def no_generation(*args, **kwargs):
        raise AssertionError("should have been served from the cache")

    monkeypatch.setattr(corpus_module, "_generate_split", no_generation)
    second = build_corpus(TINY, cache_dir=tmp_path, progress=False)
    assert second["test"].audio.tobytes() == first["test"].audio.tobytes()
    assert second["test"].items == first["test"].items


def test_cache_key_follows_every_setting():
    keys = {
        TINY.key(),
        CorpusConfig(words=("yes", "no", "seven"), clips_per_word=(4, 2, 3)).key(),
        CorpusConfig(words=("yes", "no", "seven"), clips_per_word=(4, 2, 2), seed=5).key(),
        CorpusConfig(
            words=("yes", "no", "seven"), clips_per_word=(4, 2, 2), augment=AugmentConfig.none()
        ).key(),
        # the recording devices: a corpus made through them never shares a cache with one without
        CorpusConfig(
            words=("yes", "no", "seven"),
            clips_per_word=(4, 2, 2),
            augment=AugmentConfig.recorded(),
        ).key(),
    }
    assert len(keys) == 5


def test_interrupted_cache_write_leaves_no_entry(tmp_path, monkeypatch):
    def interrupted_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(corpus_module.np, "savez", interrupted_savez)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(TINY, cache_dir=tmp_path, progress=False, workers=1)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cache_is_rebuilt_with_a_warning(tmp_path):
    path = cache_path(TINY, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a corpus")
    with pytest.warns(UserWarning, match="unreadable"):
        corpus = build_corpus(TINY, cache_dir=tmp_path, progress=False, workers=1)
    assert len(corpus["train"]) == 12
    assert (
        build_corpus(TINY, cache_dir=tmp_path, progress=False)["train"].items
        == corpus["train"].items
    )


def test_dataset_and_collate_pad_with_zeros_and_return_lengths():
    corpus = build_corpus(
        CorpusConfig(task="sentences", utterances=(4, 1, 1)),
        use_cache=False,
        progress=False,
        workers=1,
    )
    loader = DataLoader(corpus["train"].dataset(), batch_size=4, collate_fn=collate_padded)
    batch = next(iter(loader))
    lengths = batch["lengths"]
    assert batch["waveform"].shape == (4, int(lengths.max()))
    assert lengths.tolist() == np.diff(corpus["train"].offsets).tolist()
    for row, length in zip(batch["waveform"], lengths, strict=True):
        assert torch.all(row[length:] == 0)
    assert batch["labels"].tolist() == [-1] * 4 and len(batch["texts"]) == 4


def test_dataset_transform_and_feature_collate(tiny):
    dataset = tiny["train"].dataset(transform=lambda w: w.reshape(1, -1)[:, ::160])
    batch = collate_padded([dataset[0], dataset[1]])
    assert batch["waveform"].shape == (2, 1, 100) and batch["lengths"].tolist() == [100, 100]
    with pytest.raises(IndexError):
        dataset[len(dataset)]
    with pytest.raises(ValueError, match="empty batch"):
        collate_padded([])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"task": "music"}, "task must be"),
        ({"accents": ("en-us", "fr-fr")}, "unknown accents"),
        ({"clips_per_word": (4, -1, 2)}, "non-negative"),
        ({"sample_rate": 1_000}, "sample_rate"),
        ({"words": ()}, "non-empty"),
        ({"split_fractions": (0.5, 0.5, 0.5)}, "summing to 1"),
    ],
)
def test_bad_configs_are_rejected_with_a_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CorpusConfig(**kwargs)
