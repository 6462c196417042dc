"""Tests for the "where is the event" task (course_utils.data.event_task)."""

import numpy as np
import pytest
import torch

from course_utils.augment import colored_noise
from course_utils.core.profiles import get_profile
from course_utils.data.event_task import (
    EventTaskConfig,
    build_event_task,
    event_attention_mass,
    event_frame_masks,
    event_task_config,
    mix_event,
)

TONES = EventTaskConfig(source="tones", clips_per_class=(3, 2, 2), clip_seconds=1.0)
WORDS = EventTaskConfig(words=("yes", "no"), clips_per_class=(3, 2, 2), clip_seconds=1.5)


@pytest.fixture(scope="module")
def words_task(tmp_path_factory):
    return build_event_task(WORDS, cache_dir=tmp_path_factory.mktemp("corpus"))


@pytest.mark.parametrize("config", [TONES, EventTaskConfig(
    source="tones", clips_per_class=(2, 1, 1), clip_seconds=0.75, min_clip_seconds=0.6
)])  # fmt: skip
def test_shapes_and_dtypes(config):
    task = build_event_task(config)
    assert list(task) == ["train", "validation", "test"]
    n_classes, time = len(config.classes), round(config.clip_seconds * config.sample_rate)
    for split, clips in task.items():
        n = config.clips_per_class[["train", "validation", "test"].index(split)] * n_classes
        assert clips.waveforms.shape == (n, time) and clips.waveforms.dtype == np.float32
        assert clips.labels.shape == clips.lengths.shape == clips.event_start.shape == (n,)
        assert clips.labels.dtype == np.int64
        counts = np.bincount(clips.labels, minlength=n_classes)
        assert counts.tolist() == [n // n_classes] * n_classes
        assert clips.event_masks(160).shape == (n, 1 + time // 160)
        assert np.all(clips.event_end <= clips.lengths) and np.all(clips.event_start >= 0)
        assert np.isfinite(clips.waveforms).all() and np.abs(clips.waveforms).max() <= 0.99
        assert len(clips) == n and len(clips.voices) == len(clips.noise_colors) == n


def test_variable_lengths_are_zero_padded():
    config = EventTaskConfig(source="tones", clips_per_class=(4, 1, 1), min_clip_seconds=0.8)
    clips = build_event_task(config)["train"]
    assert clips.lengths.min() < clips.lengths.max() <= clips.waveforms.shape[1]
    assert clips.lengths.min() >= 0.8 * config.sample_rate
    for wave, length in zip(clips.waveforms, clips.lengths, strict=True):
        assert not wave[length:].any() and wave[length - 100 : length].any()


def test_deterministic_by_seed():
    a, b = build_event_task(TONES), build_event_task(TONES)
    c = build_event_task(EventTaskConfig(source="tones", clips_per_class=(3, 2, 2),
                                         clip_seconds=1.0, seed=1))  # fmt: skip
    for split in a:
        assert a[split].waveforms.tobytes() == b[split].waveforms.tobytes()
        assert np.array_equal(a[split].event_start, b[split].event_start)
    assert not np.array_equal(a["train"].waveforms, c["train"].waveforms)


def test_words_deterministic_and_cached(words_task, tmp_path):
    again = build_event_task(WORDS, cache_dir=tmp_path)
    assert again["test"].waveforms.tobytes() == words_task["test"].waveforms.tobytes()


def test_word_splits_are_disjoint_by_voice(words_task):
    voices = {split: set(clips.voices) for split, clips in words_task.items()}
    assert all(voices.values()) and "" not in set.union(*voices.values())
    assert not voices["train"] & voices["test"]
    assert not voices["train"] & voices["validation"]
    assert not voices["validation"] & voices["test"]
    assert words_task["train"].classes == ("yes", "no")


def test_event_mask_matches_placed_segment(words_task):
    clips, hop = words_task["train"], 160
    masks = clips.event_masks(hop)
    for i in range(len(clips)):
        frames = np.flatnonzero(masks[i])
        assert frames.size > 0 and np.all(np.diff(frames) == 1), "one contiguous run"
        # frame t is centred on sample t * hop: first and last centres inside the event
        assert frames[0] * hop >= clips.event_start[i] > (frames[0] - 1) * hop
        assert frames[-1] * hop < clips.event_end[i] <= (frames[-1] + 1) * hop
        # the event is louder than the noise around it (SNR >= 0 dB over the event)
        wave, start, end = clips.waveforms[i], clips.event_start[i], clips.event_end[i]
        inside = np.mean(wave[start:end] ** 2)
        outside = np.mean(np.concatenate([wave[:start], wave[end : clips.lengths[i]]]) ** 2)
        assert inside > outside


def test_event_frame_masks_known_answer_and_errors():
    assert event_frame_masks(320, 800, 1600, 160).tolist() == [False] * 2 + [True] * 3 + [False] * 6
    batch = event_frame_masks(np.array([0, 1440]), np.array([1, 1600]), 1600, 160)
    assert batch.shape == (2, 11) and batch[0, 0] and batch[1, 9] and batch.sum() == 2
    assert not event_frame_masks(1500, 1600, 1600, 160).any(), "no frame centre inside"
    with pytest.raises(ValueError, match="event_start <= event_end"):
        event_frame_masks(500, 100, 1600, 160)
    with pytest.raises(ValueError, match="num_samples"):
        event_frame_masks(0, 2000, 1600, 160)
    with pytest.raises(ValueError, match="one shape"):
        event_frame_masks(np.array([0, 1]), np.array([5]), 1600, 160)


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0])
def test_mix_event_gives_requested_snr(snr_db):
    rng = np.random.default_rng(0)
    event = colored_noise(800, "pink", rng) * np.float32(0.3)
    noise = colored_noise(4000, "brown", rng)
    clip = mix_event(event, noise, 1000, snr_db)
    scaled_noise = clip.copy()
    scaled_noise[1000:1800] -= event
    measured = 10 * np.log10(np.mean(event.astype(np.float64) ** 2) / np.mean(scaled_noise**2))
    assert measured == pytest.approx(snr_db, abs=1e-3)


def test_built_clips_have_requested_snr_and_level():
    config = EventTaskConfig(source="tones", clips_per_class=(10, 1, 1), snr_db_range=(10, 10),
                             level_db_range=(-25, -25), noise_colors=("white",))  # fmt: skip
    clips = build_event_task(config)["train"]
    assert np.allclose(clips.snr_db, 10.0) and np.allclose(clips.level_db, -25.0, atol=0.01)
    estimates = []
    for wave, start, end in zip(clips.waveforms, clips.event_start, clips.event_end, strict=True):
        inside = np.mean(wave[start:end].astype(np.float64) ** 2)
        outside = np.mean(np.concatenate([wave[:start], wave[end:]]).astype(np.float64) ** 2)
        estimates.append(10 * np.log10((inside - outside) / outside))
    assert np.median(estimates) == pytest.approx(10.0, abs=0.5)


def test_mix_event_errors():
    rng = np.random.default_rng(0)
    noise = colored_noise(100, "white", rng)
    with pytest.raises(ValueError, match="does not fit"):
        mix_event(np.ones(50, np.float32), noise, 60, 0.0)
    with pytest.raises(ValueError, match="silent"):
        mix_event(np.zeros(10, np.float32), noise, 0, 0.0)
    with pytest.raises(TypeError, match="numpy array"):
        mix_event(torch.ones(10), noise, 0, 0.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"source": "clicks"}, "source"),
        ({"words": ("yes",)}, "two classes"),
        ({"clips_per_class": (1, 0, 1)}, "clips_per_class"),
        ({"min_clip_seconds": 3.0}, "min_clip_seconds"),
        ({"snr_db_range": (10, 0)}, "snr_db_range"),
        ({"level_db_range": (-10, 3)}, "dBFS"),
        ({"noise_colors": ("blue",)}, "noise_colors"),
        ({"source": "tones", "tone_hz": (500.0, 9000.0)}, "tone_hz"),
        ({"sample_rate": 1000}, "sample_rate"),
    ],
)
def test_config_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        EventTaskConfig(**overrides)


def test_build_rejects_other_configs():
    with pytest.raises(TypeError, match="EventTaskConfig"):
        build_event_task({"source": "tones"})


def test_profile_sizes():
    full, ci = event_task_config(get_profile("full")), event_task_config(get_profile("ci"))
    assert full.clips_per_class[0] == get_profile("full").event_clips_per_class
    assert ci.clips_per_class[0] < full.clips_per_class[0]
    assert event_task_config(get_profile("ci"), clip_seconds=1.0).clip_seconds == 1.0


def test_event_fraction_and_dataset():
    clips = build_event_task(TONES)["train"]
    fraction = clips.event_fraction(160)
    assert 0 < fraction < 0.6
    item = clips.dataset(hop_length=160)[0]
    assert [tuple(t.shape) for t in item] == [(16000,), (), (), (101,)]
    assert item[3].dtype == torch.bool and len(clips.dataset()[0]) == 3


def test_event_attention_mass(device):
    weights = torch.softmax(torch.randn(3, 11, device=device), dim=-1)
    masks = torch.from_numpy(event_frame_masks(np.array([0, 320, 0]), np.array([1600, 800, 0]),
                                               1600, 160)).to(device)  # fmt: skip
    mass = event_attention_mass(weights, masks)
    assert mass.device == weights.device and mass.shape == (3,)
    torch.testing.assert_close(mass[0], weights[0, :10].sum())  # frame 10 is centred at 1600
    torch.testing.assert_close(mass[1], weights[1, 2:5].sum())
    assert mass[2] == 0
    with pytest.raises(ValueError, match="bool mask"):
        event_attention_mass(weights, masks.float())
