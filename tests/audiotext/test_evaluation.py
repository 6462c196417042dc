"""Lesson 13's scores and search, on tiny untrained models and a few unseen-voice utterances."""

import numpy as np
import pytest
import torch

from course_utils.audiotext import (
    FUSIONS,
    HOP_SECONDS,
    DetectorConfig,
    DualConfig,
    DualEncoder,
    Schedule,
    SpokenTermDetector,
    compare_fusions,
    detection_scores,
    distinct,
    make_utterances,
    output_lengths,
    retrieval_scores,
    search,
)

torch.set_num_threads(1)


def _detector() -> SpokenTermDetector:
    torch.manual_seed(0)
    return SpokenTermDetector(DetectorConfig(d_model=16, audio_blocks=1)).eval()


def test_search_resamples_8_khz_audio_and_returns_one_weight_per_frame():
    detector = _detector()
    wave = 0.1 * np.random.default_rng(0).standard_normal(12_000).astype(np.float32)  # 1.5 s
    found = search(detector, wave, "Fan", sample_rate=8000)
    frames = int(output_lengths(torch.tensor(24_000)))  # 1.5 s at 16 kHz
    assert found.query == "Fan"
    assert found.weights.shape == (frames,) == (38,)
    assert float(found.weights.sum()) == pytest.approx(1.0, abs=1e-5)
    assert (found.weights >= 0).all()
    assert 0 < found.probability < 1 and found.said == (found.probability > 0.5)
    assert found.seconds == pytest.approx(int(found.weights.argmax()) * HOP_SECONDS)


@pytest.mark.parametrize(
    "query, match",
    [("", "empty"), ("  ", "empty"), ("7", r"cannot read: \['7'\]"), ("a" * 25, "at most 24")],
)
def test_search_rejects_a_query_it_cannot_read(query, match):
    with pytest.raises(ValueError, match=match):
        search(_detector(), np.zeros(16_000, np.float32), query)


def test_search_rejects_an_empty_waveform():
    with pytest.raises(ValueError, match="empty"):
        search(_detector(), np.zeros(0, np.float32), "fan")


def test_distinct_picks_the_first_of_each_transcript():
    assert distinct(["a", "b", "a", "c", "b", "d"], 3) == [0, 1, 3]
    assert distinct(["a", "b"], 2) == [0, 1]
    with pytest.raises(ValueError, match="only 2 distinct transcripts among 3; need 3"):
        distinct(["a", "b", "a"], 3)


def test_detection_scores_keep_one_record_per_query():
    test = make_utterances("commands", "test", 6, use_cache=False)
    scores = detection_scores(_detector(), test, batch_size=4)  # two batches
    for key in ("f1", "precision", "recall", "accuracy", "localised"):
        assert 0 <= scores[key] <= 100, key
    assert 0 <= scores["located"] <= 6
    records = scores["records"]
    assert len(records) == 12
    for i in range(6):
        mine = records[2 * i : 2 * i + 2]
        assert {r[0] for r in mine} == {test.texts[i]}
        assert sorted(r[2] for r in mine) == [0, 1]
        for text, query, label, probability, peak, span in mine:
            assert 0 <= probability <= 1
            assert 0 <= peak <= test.waveform(i).size / 16_000
            if label:
                assert span == test[i].span_of(query) and span[0] < span[1]
            else:
                assert span is None and query not in text.split()


def test_detection_scores_agree_with_the_records():
    test = make_utterances("commands", "test", 6, use_cache=False)
    scores = detection_scores(_detector(), test)
    records = scores["records"]
    said = [r[3] > 0.5 for r in records]
    true_positives = sum(s and r[2] for s, r in zip(said, records, strict=True))
    if any(said):
        assert scores["precision"] == pytest.approx(100 * true_positives / sum(said))
    assert scores["recall"] == pytest.approx(100 * true_positives / 6)
    right = sum(s == bool(r[2]) for s, r in zip(said, records, strict=True))
    assert scores["accuracy"] == pytest.approx(100 * right / 12)


def test_compare_fusions_trains_and_scores_both_fusions():
    train = make_utterances("word lists", "train", 4, use_cache=False)
    test = make_utterances("word lists", "test", 4, use_cache=False)
    result = compare_fusions(_detector(), train, test, Schedule(steps=1, batch_size=4, log_every=1))
    assert set(result["models"]) == set(result["accuracy"]) == set(FUSIONS)
    for fusion, model in result["models"].items():
        assert model.fusion == fusion
        assert not any(p.requires_grad for p in model.encoders.parameters())
        assert result["histories"][fusion]["steps"] == [1]
        assert result["accuracy"][fusion] in {0.0, 25.0, 50.0, 75.0, 100.0}  # 4 test pairs
    assert len(result["pairs"]) == len(result["labels"]) == 4
    assert result["encoded"][0].shape[0] == 4


def test_retrieval_scores_compare_every_utterance_with_every_transcript():
    torch.manual_seed(0)
    model = DualEncoder(DualConfig(d_model=16, embed_dim=8, audio_blocks=1, audio_layers=1))
    test = make_utterances("commands", "test", 6, use_cache=False)
    scores = retrieval_scores(model, test, candidates=5, batch_size=3)
    assert scores["similarity"].shape == (5, 5)
    assert scores["indices"] == distinct(test.texts, 5)
    assert scores["texts"] == [test.texts[i] for i in scores["indices"]]
    assert len(set(scores["texts"])) == 5
    assert torch.all(scores["similarity"].abs() <= 1 + 1e-5)  # cosines of unit vectors
    for key in ("recall@1", "text recall@1"):
        assert 0 <= scores[key] <= 100
    assert scores["recall@5"] == scores["text recall@5"] == 100  # 5 candidates: always found
