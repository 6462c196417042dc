"""Lesson 12's recipe: a few steps lower the loss; scoring, the baseline and the profile."""

import numpy as np
import pytest
import torch

from course_utils import get_profile
from course_utils.longform import (
    KEYWORDS,
    DetectorConfig,
    LongformConfig,
    LongformDetector,
    LongformRecipe,
    Recording,
    build_checkpoint,
    decode,
    energy_baseline,
    load_detector,
    load_words,
    save_detector,
    score,
    train_detector,
)
from course_utils.longform.data import TrainingCrops
from course_utils.longform.recipe import _loss

torch.set_num_threads(1)
DATA = LongformConfig()


def test_a_few_steps_lower_the_loss():
    torch.manual_seed(0)
    model = LongformDetector(DetectorConfig.preset("tiny"))
    fixed = TrainingCrops(load_words(DATA, "train"), DATA, model.frontend, 6.0, 4, 1, seed=99)
    features, events = fixed.batch(0)

    def loss() -> float:
        model.eval()
        with torch.no_grad():
            return _loss(model, features, events, DATA.keywords).item()

    before = loss()
    recipe = LongformRecipe(preset="tiny", steps=12, batch_size=4, crop_seconds=6.0,
                            learning_rate=5e-3, log_every=4)  # fmt: skip
    history = train_detector(model, recipe, DATA, progress=False)
    assert history["steps"] == [4, 8, 12] and history["seconds"] > 0
    assert loss() < 0.7 * before
    assert not model.training


def test_training_refuses_a_model_of_another_size():
    model = LongformDetector(DetectorConfig.preset("tiny", num_classes=3))
    with pytest.raises(ValueError, match="classes"):
        train_detector(model, LongformRecipe(steps=1), DATA, progress=False)


def _recording(events):
    wave = 0.01 * np.random.default_rng(0).standard_normal(160_000).astype(np.float32)
    for onset, offset, _ in events:
        wave[round(onset * 16000) : round(offset * 16000)] *= 30
    return Recording(wave, list(events), 16000, list(events), [])


def test_energy_baseline_finds_loud_stretches_but_not_their_words():
    events = [(1.0, 1.5, "yes"), (4.0, 4.4, "no"), (7.0, 7.6, "yes")]
    result = energy_baseline([_recording(events)], KEYWORDS, [_recording(events)])
    assert result["label"] == "yes" and result["detections"] == 3
    assert result["recall"] == pytest.approx(200 / 3, abs=0.01)


def test_decode_and_score_in_points():
    logits = torch.full((250, 9), -5.0)
    logits[:, 0] = 5.0
    logits[25:37, 1] = 10.0  # "yes" at 1.0-1.48 s
    assert decode(logits, 0.04, KEYWORDS) == [(1.0, 1.48, "yes")]
    untrained = LongformDetector(DetectorConfig.preset("tiny"))
    result = score(untrained, [_recording([(1.0, 1.5, "yes")])], KEYWORDS)
    assert 0 <= result["f1"] <= 100 and result["seconds_per_recording"] > 0


def test_profile_section_and_variants():
    for name in ("full", "ci"):
        section = get_profile(name).longform
        assert section.test_seconds == tuple(sorted(section.test_seconds))
        assert section.min_gain_over_baseline > 0 and section.max_f1_gap >= 2.0
    assert get_profile("full").longform.test_seconds[-1] == 600.0


def test_save_load_round_trip_and_no_silent_overwrite(tmp_path):
    model = LongformDetector(DetectorConfig.preset("tiny")).eval()
    path = save_detector(tmp_path / "d.pt", model, {"keywords": list(KEYWORDS)})
    loaded, metadata = load_detector(path=path)
    assert metadata["keywords"] == list(KEYWORDS) and loaded.config == model.config
    x = torch.randn(1, 40, 200)
    torch.testing.assert_close(loaded(x), model(x), atol=0.05, rtol=0.05)  # half precision
    with pytest.raises(FileExistsError):
        build_checkpoint("local", path)
    with pytest.raises(ValueError, match="variant"):
        load_detector("sparse")


def test_detector_footprint_measures_a_shipped_detector_in_a_fresh_process():
    from course_utils.longform import detector_footprint

    result = detector_footprint("local", 5.0)
    assert result.ok, result.error
    assert result.form == "detector local" and result.frames == 501
    assert result.seconds > 0 and result.peak_bytes > 0
    with pytest.raises(ValueError, match="variant"):
        detector_footprint("medium", 5.0)
