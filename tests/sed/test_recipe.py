"""Lesson 07's recipe: one epoch on tiny scenes, and the same numbers as the lesson's cells."""

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import course_utils as cu
from course_utils import sed
from course_utils.data.scenes import Scenes
from course_utils.sed import recipe as sr

CLASSES = ("tone", "chirp", "clicks")
SR = 16_000
RECIPE = sr.SEDRecipe(epochs=2, batch_size=4, n_mels=16, n_fft=512, thresholds=(0.3, 0.5),
                      medians=(1, 3))  # fmt: skip


def _scenes(n: int, seed: int) -> Scenes:
    """`n` one-second scenes: noise with a loud tone where the (random) events are."""
    rng = np.random.default_rng(seed)
    audio, events = [], []
    for _ in range(n):
        wave = 0.01 * rng.standard_normal(SR)
        onset = float(rng.uniform(0.1, 0.6))
        wave[round(onset * SR) : round((onset + 0.3) * SR)] += 0.5 * np.sin(
            np.arange(round(0.3 * SR)) * 0.3)  # fmt: skip
        label = CLASSES[int(rng.integers(len(CLASSES)))]
        audio.append((wave * 32767).astype(np.int16))
        events.append([(round(onset, 6), round(onset + 0.3, 6), label)])
    return Scenes("test", CLASSES, SR, np.stack(audio), events, ("white",) * n, ((),) * n)


@pytest.fixture(scope="module")
def data():
    splits = {"train": _scenes(10, 0), "validation": _scenes(6, 1), "test": _scenes(6, 2)}
    frontend = sr.frontend(RECIPE, SR)
    features = {name: sr.scene_features(s, frontend, batch=4) for name, s in splits.items()}
    labels = {name: sr.frame_labels(s, RECIPE) for name, s in splits.items()}
    return splits, features, labels


def _model(cls):
    torch.manual_seed(RECIPE.seed)
    return cls(sed.SEDConfig.preset("tiny", n_mels=RECIPE.n_mels, num_classes=len(CLASSES)))


def test_recipe_is_frozen_and_features_have_the_lesson_shapes(data):
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECIPE.epochs = 3
    splits, features, labels = data
    frames = splits["train"].num_frames(RECIPE.hop_length)
    assert features["train"].shape == (10, RECIPE.n_mels, frames)
    assert labels["train"].shape == (10, frames, len(CLASSES))
    assert sr.SEDRecipe.for_profile(cu.get_profile("full")).epochs == 12


@pytest.mark.parametrize("name", list(sr.DETECTORS))
def test_one_epoch_trains_predicts_and_scores(data, name):
    splits, features, labels = data
    model = _model(sr.DETECTORS[name])
    recipe = dataclasses.replace(RECIPE, epochs=1)
    history = sr.train_detector(model, (features["train"], labels["train"]),
                                (features["validation"], labels["validation"]), recipe, "cpu",
                                progress=False)  # fmt: skip
    assert len(history.epochs) == 1 and len(history.train_losses) == 3  # 10 scenes, batches of 4
    assert all(math.isfinite(loss) for loss in history.train_losses)
    assert 0.0 <= history.epochs[0]["frame_f1"] <= 1.0
    probs = sr.predict(model, features["test"], "cpu")
    assert probs.shape == labels["test"].shape
    assert 0 <= float(probs.min()) <= float(probs.max()) <= 1
    validation = sr.predict(model, features["validation"], "cpu")
    setting = sr.tune(validation, splits["validation"], recipe)
    assert len(setting["threshold"]) == len(setting["median_frames"]) == len(CLASSES)
    scores = sr.evaluate(probs, labels["test"], splits["test"], setting, recipe)
    assert {"frame_f1", "event_f1", "segment_f1", "class_f1", "events"} <= set(scores)
    assert len(scores["events"]) == len(splits["test"])
    assert all(0.0 <= scores[key] <= 1.0 for key in ("frame_f1", "event_f1", "segment_f1"))


def test_the_recipe_gives_the_numbers_of_the_lessons_cells(data):
    """Lesson 07's cells (sections 5-7), copied as they stand, and the recipe: equal bit for bit."""
    splits, features, labels = data
    device = "cpu"
    train_loader = DataLoader(TensorDataset(features["train"], labels["train"]),
                              batch_size=RECIPE.batch_size, shuffle=True)  # fmt: skip
    val_loader = DataLoader(TensorDataset(features["validation"], labels["validation"]),
                            batch_size=64)  # fmt: skip

    def loss_fn(model, batch):
        x, y = batch
        return F.binary_cross_entropy_with_logits(model(x).logits, y)

    def evaluate(model, loader, device):
        probs = torch.cat([torch.sigmoid(model(x.to(device)).logits).cpu() for x, _ in loader])
        return {"frame_f1": sed.frame_f1(probs, loader.dataset.tensors[1])["f1"]}

    for cls in (sed.CRNN, sed.CNNTransformer):
        lesson = _model(cls)
        cfg = cu.TrainConfig(epochs=RECIPE.epochs, learning_rate=RECIPE.learning_rate, seed=0)
        optimizer = torch.optim.AdamW(lesson.parameters(), lr=cfg.learning_rate,
                                      weight_decay=cfg.weight_decay)  # fmt: skip
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg.learning_rate, total_steps=cfg.epochs * len(train_loader)
        )
        expected = cu.fit(lesson, train_loader, loss_fn, cfg, device, val_loader, evaluate,
                          optimizer=optimizer, scheduler=schedule, progress=False)  # fmt: skip
        model = _model(cls)
        history = sr.train_detector(model, (features["train"], labels["train"]),
                                    (features["validation"], labels["validation"]), RECIPE,
                                    device, progress=False)  # fmt: skip
        assert history.train_losses == expected.train_losses
        assert history.epochs == expected.epochs
        for ours, theirs in zip(model.state_dict().values(), lesson.state_dict().values(),
                                strict=True):  # fmt: skip
            assert torch.equal(ours, theirs)
        lesson.eval()
        with torch.no_grad():
            probs = torch.cat([torch.sigmoid(lesson(x.to(device)).logits).cpu()
                               for x in features["test"].split(64)])  # fmt: skip
        assert torch.equal(sr.predict(model, features["test"], device), probs)
        hop_s = RECIPE.hop_length / SR
        setting = sed.tune_decoding(
            probs,
            splits["test"].events,
            hop_s,
            CLASSES,
            thresholds=RECIPE.thresholds,
            medians=RECIPE.medians,
        )
        assert sr.tune(probs, splits["test"], RECIPE) == setting
        events = [
            sed.frames_to_events(p, hop_s, CLASSES, setting["threshold"], setting["median_frames"])
            for p in probs.numpy()
        ]
        scores = sr.evaluate(probs, labels["test"], splits["test"], setting, RECIPE)
        assert scores["events"] == events
        assert scores["event_f1"] == sed.event_f1(splits["test"].events, events, CLASSES)["f1"]
        assert scores["frame_f1"] == sed.frame_f1(probs, labels["test"])["f1"]


def test_the_recipe_checks_its_data_once(data):
    _, features, labels = data
    model = _model(sed.CRNN)
    broken = features["train"].clone()
    broken[0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="train features contain NaN or inf"):
        sr.train_detector(model, (broken, labels["train"]), (features["validation"],
                          labels["validation"]), RECIPE, "cpu", progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="labels must have shape"):
        sr.train_detector(
            model,
            (features["train"], labels["train"][:, :5]),
            (features["validation"], labels["validation"]),
            RECIPE,
            "cpu",
        )
    with pytest.raises(ValueError, match="n_mels=16"):
        sr.predict(model, features["test"][:, :8], "cpu")


def test_main_runs_the_lesson_from_scenes_to_scores(monkeypatch, capsys):
    """`python -m course_utils.sed`, on the tiny scenes and one epoch."""
    splits = {"train": _scenes(8, 0), "validation": _scenes(4, 1), "test": _scenes(4, 2)}
    class OneEpoch:  # the CI profile, with a one-epoch lesson-07 section
        sed = dataclasses.replace(cu.get_profile("ci").sed, epochs=1)

        def __getattr__(self, name):
            return getattr(cu.get_profile("ci"), name)

    profile = OneEpoch()
    monkeypatch.setattr(sr, "get_profile", lambda name: profile)
    monkeypatch.setattr(sr, "build_scenes", lambda config, progress: splits)
    results = sr.main(["--profile", "ci"])
    assert set(results) == set(sr.DETECTORS)
    for result in results.values():
        assert len(result["history"].epochs) == 1 and 0.0 <= result["event_f1"] <= 1.0
    assert "event F1" in capsys.readouterr().out
