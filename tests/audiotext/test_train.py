"""Lesson 13's training: presence and order labels, distinct batches, two steps of each loop."""

import math

import numpy as np
import pytest
import torch

from course_utils.audiotext import (
    QUERIES,
    SLOTS,
    DetectorConfig,
    DualConfig,
    DualEncoder,
    Schedule,
    SpokenTermDetector,
    audio_batch,
    distinct_batches,
    make_utterances,
    order_pairs,
    presence_queries,
    train_detector,
    train_dual,
)

torch.set_num_threads(1)
TWO_STEPS = Schedule(steps=2, batch_size=4, log_every=1)


def _says(text: str, query: str) -> bool:
    """`query` occurs in `text` as whole words."""
    words, target = text.split(), query.split()
    return any(words[i : i + len(target)] == target for i in range(len(words)))


def test_presence_queries_give_one_said_and_one_unsaid_query_per_text():
    texts = make_utterances("commands", "train", 8, use_cache=False).texts
    texts = texts + ["turn on the living room lights"]
    queries, labels = presence_queries(texts, np.random.default_rng(0))
    assert len(queries) == len(texts) and labels.shape == (len(texts), 2)
    assert labels.dtype == torch.float32
    for text, pair, row in zip(texts, queries, labels.tolist(), strict=True):
        assert sorted(row) == [0.0, 1.0] and len(pair) == 2
        assert all(query in QUERIES for query in pair)
        for query, label in zip(pair, row, strict=True):
            assert _says(text, query) == bool(label), (text, query, label)
    firsts = [row[0] for row in labels.tolist()]
    assert 0 < sum(firsts) < len(firsts)  # the said query is not always first


def _slot(query: str) -> str:
    return next(name for name, values in SLOTS.items() if query in values)


def test_hard_unsaid_queries_come_from_the_said_query_slot():
    texts = make_utterances("commands", "train", 8, use_cache=False).texts
    hard, labels = presence_queries(texts, np.random.default_rng(0), hard=1.0)
    for pair, row in zip(hard, labels.tolist(), strict=True):
        said, unsaid = pair[row.index(1.0)], pair[row.index(0.0)]
        assert _slot(said) == _slot(unsaid) and said != unsaid
    easy, _ = presence_queries(texts * 4, np.random.default_rng(0), hard=0.0)
    assert any(_slot(a) != _slot(b) for a, b in easy)


def test_presence_queries_refuse_a_text_without_queries():
    with pytest.raises(ValueError, match="says none of the queries"):
        presence_queries(["hello there"], np.random.default_rng(0))


def test_order_pair_labels_agree_with_the_word_positions():
    texts = make_utterances("word lists", "train", 12, use_cache=False).texts
    pairs, labels = order_pairs(texts, np.random.default_rng(3))
    assert labels.shape == (12,)
    for text, (a, b), label in zip(texts, pairs, labels.tolist(), strict=True):
        words = text.split()
        assert a != b and a in words and b in words
        assert label == float(words.index(a) < words.index(b))
    assert 0 < labels.sum() < 12  # both orders occur


@pytest.mark.parametrize(
    "texts, batch_size",
    [
        (["a", "b", "a", "c", "d", "b", "e"], 3),
        (["a", "a", "b"], 2),
        (list("abcdefgh"), 3),
    ],
)
def test_distinct_batches_cover_each_index_once_without_repeated_texts(texts, batch_size):
    batches = distinct_batches(texts, batch_size, np.random.default_rng(1))
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(texts)))
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        assert len({texts[i] for i in batch}) == len(batch)


def test_distinct_batches_of_command_sentences():
    texts = make_utterances("commands", "train", 8, use_cache=False).texts
    batches = distinct_batches(texts, 3, np.random.default_rng(0))
    assert sorted(i for batch in batches for i in batch) == list(range(8))
    assert [len(batch) for batch in batches] == [3, 3, 2]


def test_distinct_batches_keep_a_text_repeated_at_the_end():
    texts = ["a", "a", "a", "b"]
    for seed in range(4):
        batches = distinct_batches(texts, 2, np.random.default_rng(seed))
        assert sorted(i for batch in batches for i in batch) == [0, 1, 2, 3]


def test_audio_batch_pads_with_zeros():
    utterances = make_utterances("commands", "train", 8, use_cache=False)
    waves, samples = audio_batch(utterances, [1, 0])
    sizes = [utterances.waveform(i).size for i in (1, 0)]
    assert samples.tolist() == sizes and waves.shape == (2, max(sizes))
    for row, i in enumerate((1, 0)):
        assert torch.equal(waves[row, : sizes[row]], torch.from_numpy(utterances.waveform(i)))
        assert torch.all(waves[row, sizes[row] :] == 0)


def _changed(model, before) -> bool:
    return any(not torch.equal(p, before[k]) for k, p in model.state_dict().items())


def test_train_detector_runs_two_steps():
    torch.manual_seed(0)
    model = SpokenTermDetector(DetectorConfig(d_model=16, audio_blocks=1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train = make_utterances("commands", "train", 8, use_cache=False)
    history = train_detector(model, train, TWO_STEPS, progress=False)
    assert history["steps"] == [1, 2] and len(history["loss"]) == 2
    assert all(math.isfinite(loss) and loss > 0 for loss in history["loss"])
    assert history["seconds"] >= 0 and not model.training
    assert _changed(model, before)


def test_train_dual_runs_two_steps():
    torch.manual_seed(0)
    model = DualEncoder(DualConfig(d_model=16, embed_dim=8, audio_blocks=1, audio_layers=1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train = make_utterances("commands", "train", 8, use_cache=False)
    history = train_dual(model, train, TWO_STEPS, progress=False)
    assert history["steps"] == [1, 2] and len(history["loss"]) == 2
    assert all(math.isfinite(loss) and loss > 0 for loss in history["loss"])
    assert not model.training
    assert _changed(model, before)
