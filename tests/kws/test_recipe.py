"""Lesson 06's recipe in one epoch on a tiny spotter: it trains, predicts and scores in noise."""

import dataclasses
import math

import pytest
import torch

import course_utils as cu
from course_utils.kws import (
    KINDS,
    ClassifierConfig,
    KeywordSpotter,
    SpotterRecipe,
    accuracy_vs_snr,
    build_classifier,
    predict_clips,
    train_spotter,
)
from course_utils.kws import recipe as kr

LABELS = ("yes", "no", "up")


def _clips(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return 0.1 * torch.randn(n, 4000, generator=g), torch.arange(n) % len(LABELS)  # 0.25 s


def _spotter(kind: str) -> KeywordSpotter:
    torch.manual_seed(0)
    return KeywordSpotter(
        build_classifier(ClassifierConfig.preset("tiny", len(LABELS), kind)), LABELS
    )


def test_recipe_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SpotterRecipe().epochs = 3


@pytest.mark.parametrize("kind", KINDS)
def test_one_epoch_trains_predicts_and_scores(kind):
    spotter = _spotter(kind)
    train, validation = _clips(12), _clips(6, seed=1)
    recipe = SpotterRecipe(epochs=1, batch_size=4)
    history = train_spotter(spotter, train, validation, recipe, "cpu", progress=False)
    assert len(history.epochs) == 1 and len(history.train_losses) == 3
    assert all(math.isfinite(loss) for loss in history.train_losses)
    assert 0.0 <= history.epochs[0]["accuracy"] <= 1.0
    predictions = predict_clips(spotter, validation[0], "cpu")
    assert predictions.shape == (6,) and predictions.dtype == torch.long
    assert int(predictions.min()) >= 0 and int(predictions.max()) < len(LABELS)
    curve = accuracy_vs_snr(spotter, *validation, (20.0, 0.0), "cpu")
    assert len(curve) == 2 and all(0.0 <= a <= 1.0 for a in curve)


def test_the_recipe_checks_its_data_once():
    spotter = _spotter("cnn_mean")
    waveforms, labels = _clips(4)
    broken = waveforms.clone()
    broken[1, 10] = float("nan")
    recipe = SpotterRecipe(epochs=1)
    with pytest.raises(ValueError, match="NaN"):
        train_spotter(spotter, (broken, labels), (waveforms, labels), recipe, "cpu", progress=False)
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        train_spotter(spotter, (waveforms, labels + 3), (waveforms, labels), recipe, "cpu")
    with pytest.raises(ValueError, match="NaN"):
        predict_clips(spotter, broken, "cpu")


def test_a_transformer_without_blocks_is_rejected_when_built():
    with pytest.raises(ValueError, match="num_layers >= 1"):
        ClassifierConfig(3, "kwt", num_layers=0)
    assert ClassifierConfig(3, "cnn_mean", num_layers=0).num_layers == 0  # unused by CNNs


def test_main_trains_and_scores_each_kind(monkeypatch, capsys):
    """`python -m course_utils.kws`, on tiny clips and one epoch."""

    class Corpus:  # what main reads of a corpus
        labels = LABELS
        config = dataclasses.make_dataclass("Config", [("sample_rate", int)])(16_000)

        def __getitem__(self, split):
            return split

    class OneEpoch:  # the CI profile, with a one-epoch, narrow lesson-06 section
        kws = dataclasses.replace(cu.get_profile("ci").kws, epochs=1, width=8)

        def __getattr__(self, name):
            return getattr(cu.get_profile("ci"), name)

    profile = OneEpoch()
    monkeypatch.setattr(kr, "get_profile", lambda name: profile)
    monkeypatch.setattr(kr, "build_corpus", lambda config, progress: Corpus())
    monkeypatch.setattr(kr, "clips", lambda split: _clips(6, seed=len(split)))
    results = kr.main(["--kinds", "cnn_mean", "kwt"])
    assert set(results) == {"cnn_mean", "kwt"}
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in results.values())
    assert "cnn_mean: test accuracy" in capsys.readouterr().out
