"""Lesson 12's long recordings: deterministic, labelled where the words are, split by voice."""

import numpy as np
import pytest
import torch

from course_utils.longform import (
    FILLERS,
    KEYWORDS,
    LongformConfig,
    TrainingCrops,
    WordClips,
    frame_targets,
    load_words,
    make_recording,
)
from course_utils.longform import data as longform_data

CONFIG = LongformConfig()


def _fake_words(config=CONFIG, seconds=0.4):
    rng = np.random.default_rng(5)
    tone = np.sin(np.arange(round(seconds * 16000)) * 0.3).astype(np.float32)
    words = config.keywords + config.fillers
    clips = {w: [tone * np.float32(0.5 + rng.random()) for _ in range(2)] for w in words}
    return WordClips("train", clips, {w: ["v"] * 2 for w in clips})


def test_same_seed_same_recording_byte_for_byte():
    words = _fake_words()
    a = make_recording(words, 20.0, np.random.default_rng(3), CONFIG)
    b = make_recording(words, 20.0, np.random.default_rng(3), CONFIG)
    c = make_recording(words, 20.0, np.random.default_rng(4), CONFIG)
    assert a.waveform.tobytes() == b.waveform.tobytes() and a.events == b.events
    assert a.waveform.tobytes() != c.waveform.tobytes()
    assert a.waveform.dtype == np.float32 and a.waveform.shape == (320_000,)
    assert np.abs(a.waveform).max() <= 0.99 + 1e-6


def test_events_lie_inside_and_match_the_frame_targets():
    rec = make_recording(_fake_words(), 30.0, np.random.default_rng(0), CONFIG)
    assert rec.events, "30 s should hold keywords"
    gaps = [b[0] - a[1] for a, b in zip(rec.words, rec.words[1:], strict=False)]
    assert min(gaps) >= CONFIG.gap_seconds[0] - 1e-6
    assert all(0 <= a < b <= rec.seconds and w in KEYWORDS for a, b, w in rec.events)
    assert all(w in FILLERS for *_, w in rec.words if (*_, w) not in rec.events)
    hop = 0.04
    targets = frame_targets(rec.events, 751, hop, KEYWORDS)
    assert targets.dtype == torch.int64 and targets.shape == (751,)
    for onset, offset, word in rec.events:
        middle = round((onset + offset) / 2 / hop)
        assert targets[middle] == KEYWORDS.index(word) + 1
    inside = sum(round(b / hop) - round(a / hop) for a, b, _ in rec.events)
    assert abs(int((targets > 0).sum()) - inside) <= 2 * len(rec.events)


def test_distractors_stay_in_the_pauses():
    config = LongformConfig(distractors_per_minute=60.0)
    rec = make_recording(_fake_words(config), 30.0, np.random.default_rng(1), config)
    assert rec.distractors
    for a, b, _ in rec.distractors:
        assert all(b <= wa or wb <= a for wa, wb, _ in rec.words)


def test_test_voices_are_never_heard_in_training_and_keywords_are_a_third():
    train, test = load_words(CONFIG, "train"), load_words(CONFIG, "test")
    assert train.all_voices and test.all_voices
    assert not train.all_voices & test.all_voices
    recordings = longform_data.test_recordings(CONFIG, 60.0, 2)
    words = [w for r in recordings for *_, w in r.words]
    share = sum(w in KEYWORDS for w in words) / len(words)
    assert 0.2 < share < 0.5, share
    again = longform_data.test_recordings(CONFIG, 60.0, 2)
    assert [a.waveform.tobytes() for a in recordings] == [b.waveform.tobytes() for b in again]


def test_training_crops_are_fresh_and_reproducible():
    crops = TrainingCrops(_fake_words(), CONFIG, lambda w: w[:, None, ::160], 5.0, 2, 3, seed=1)
    batches = list(crops)
    assert len(batches) == 3 and batches[0][0].shape == (2, 1, 500)
    assert torch.equal(crops.batch(1)[0], batches[1][0])
    assert not torch.equal(batches[0][0], batches[1][0])


@pytest.mark.parametrize(
    "overrides",
    [{"keywords": ("yes", "zero")}, {"gap_seconds": (2.0, 1.0)}, {"noise_colors": ("blue",)},
     {"sample_rate": 12}, {"keyword_share": 0.0}],
)  # fmt: skip
def test_bad_configs_are_refused(overrides):
    with pytest.raises(ValueError):
        LongformConfig(**overrides)


def test_bad_lengths_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        make_recording(_fake_words(), 0.5, np.random.default_rng(0), CONFIG)
    with pytest.raises(ValueError, match="split"):
        CONFIG.corpus_config("validation")
