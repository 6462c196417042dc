"""Tests for course_utils.data.scenes: shapes, event rules, frame labels, determinism, cache."""

import numpy as np
import pytest

from course_utils.core.profiles import get_profile
from course_utils.data.scenes import (
    SCENE_CLASSES,
    SceneConfig,
    build_scenes,
    cache_path,
    scene_config,
)

SMALL = SceneConfig(scenes=(6, 3, 3), scene_seconds=4.0, word_clips=(1, 1, 1),
                    sentences=(3, 2, 2), events_per_scene=(3, 6))  # fmt: skip


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("scenes")


@pytest.fixture(scope="module")
def scenes(cache):
    return build_scenes(SMALL, cache_dir=cache, progress=False)


def test_shapes_and_dtypes(scenes):
    assert list(scenes) == ["train", "validation", "test"]
    for split, size in zip(scenes, SMALL.scenes, strict=True):
        s = scenes[split]
        assert s.audio.shape == (size, 64_000) and s.audio.dtype == np.int16
        assert len(s) == size == len(s.events) == len(s.noise_colors) == len(s.voices)
        assert s.waveform(0).dtype == np.float32 and np.abs(s.waveform(0)).max() <= 1.0
        assert s.waveforms(0, 2).shape == (2, 64_000)
        assert s.frame_labels(320).shape == (size, 201, len(SCENE_CLASSES))
        assert s.classes == SCENE_CLASSES


def test_event_rules(scenes):
    for s in scenes.values():
        for events in s.events:
            assert 1 <= len(events) <= SMALL.events_per_scene[1]
            assert events == sorted(events, key=lambda e: (e[0], e[2]))
            for onset, offset, label in events:
                assert 0 <= onset < offset <= SMALL.scene_seconds and label in SCENE_CLASSES
            for label in SCENE_CLASSES:  # one class: apart by at least the minimum gap
                mine = [e for e in events if e[2] == label]
                for (_, end, _), (start, _, _) in zip(mine, mine[1:], strict=False):
                    assert start - end >= SMALL.min_gap_seconds - 1e-3


def test_frame_labels_follow_events(scenes):
    s = scenes["train"]
    labels = s.frame_labels(320)
    onset, offset, label = s.events[0][0]
    column = SCENE_CLASSES.index(label)
    first, last = int(np.ceil(onset / 0.02 - 1e-9)), int(np.ceil(offset / 0.02 - 1e-9)) - 1
    assert labels[0, first, column] == 1 and labels[0, last, column] == 1
    assert set(np.unique(labels)) <= {0.0, 1.0}
    assert labels.sum() > 0


def test_events_are_audible(scenes):
    # Loudness inside an event is above the background around it (SNR >= 0 dB).
    s = scenes["train"]
    for i in range(len(s)):
        wave = s.waveform(i).astype(np.float64)
        active = np.zeros(wave.size, dtype=bool)
        for onset, offset, _ in s.events[i]:
            active[round(onset * 16000) : round(offset * 16000)] = True
        if active.any() and (~active).any():
            assert np.mean(wave[active] ** 2) > np.mean(wave[~active] ** 2)


def test_speech_splits_have_disjoint_voices(scenes):
    voices = {split: {v for scene in s.voices for v in scene} for split, s in scenes.items()}
    assert not voices["train"] & voices["test"] and not voices["train"] & voices["validation"]


def test_deterministic_and_cached(scenes, cache, tmp_path):
    assert cache_path(SMALL, cache).exists()
    again = build_scenes(SMALL, cache_dir=tmp_path, progress=False)  # generated afresh
    for split in scenes:
        np.testing.assert_array_equal(again[split].audio, scenes[split].audio)
        assert again[split].events == scenes[split].events
    other = build_scenes(SceneConfig(scenes=(2, 1, 1), scene_seconds=4.0, word_clips=(1, 1, 1),
                                     sentences=(2, 1, 1), seed=1),
                         cache_dir=tmp_path, progress=False)  # fmt: skip
    assert not np.array_equal(other["train"].audio, scenes["train"].audio[:2])


def test_unreadable_cache_is_rebuilt(cache, tmp_path):
    config = SceneConfig(scenes=(1, 1, 1), scene_seconds=3.0, word_clips=(1, 1, 1),
                         sentences=(1, 1, 1), classes=("tone", "chirp"))  # fmt: skip
    path = cache_path(config, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a cache")
    with pytest.warns(UserWarning, match="unreadable"):
        rebuilt = build_scenes(config, cache_dir=tmp_path, progress=False)
    assert rebuilt["test"].frame_labels(320).shape == (1, 151, 2)


def test_profile_sizes():
    ci, full = scene_config(get_profile("ci")), scene_config(get_profile("full"))
    assert ci.scenes[0] < full.scenes[0] and ci.key() != full.key()


@pytest.mark.parametrize("overrides, message", [
    ({"classes": ("tone", "dog")}, "classes"),
    ({"scenes": (1, 0, 1)}, "scenes"),
    ({"events_per_scene": (4, 2)}, "events_per_scene"),
    ({"snr_db_range": (10.0, 0.0)}, "snr_db_range"),
    ({"overlap_prob": 1.5}, "overlap_prob"),
    ({"sentences": (4, 0, 1)}, "sentences"),
    ({"noise_colors": ("blue",)}, "noise_colors"),
    ({"sample_rate": 100}, "sample_rate"),
])  # fmt: skip
def test_bad_config_raises(overrides, message):
    with pytest.raises(ValueError, match=message):
        SceneConfig(**overrides)
    with pytest.raises(TypeError, match="SceneConfig"):
        build_scenes({"scenes": (1, 1, 1)})
