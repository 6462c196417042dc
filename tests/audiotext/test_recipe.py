"""Lesson 13's recipe: the shipped models' recipes, saving and loading, the profile."""

import dataclasses
from types import SimpleNamespace

import pytest
import torch

from course_utils.audiotext import (
    RECIPES,
    AudioTextProfile,
    DetectorConfig,
    DualConfig,
    DualEncoder,
    Schedule,
    SpokenTermDetector,
    build_checkpoint,
    encode_queries,
    encode_texts,
    load_detector,
    load_dual,
    recipe,
    save_model,
)
from course_utils.core import get_profile

torch.set_num_threads(1)
TINY_DETECTOR = DetectorConfig(d_model=16, audio_blocks=1)
TINY_DUAL = DualConfig(d_model=16, embed_dim=8, audio_blocks=1, audio_layers=1)


def test_recipes_name_the_detector_and_the_dual_encoder():
    assert set(RECIPES) == {"detector", "dual"}
    for variant in RECIPES.values():
        assert isinstance(variant["schedule"], Schedule)
        assert variant["train_utterances"] >= 1


def _detector_outputs(model):
    g = torch.Generator().manual_seed(0)
    waves = 0.1 * torch.randn(2, 16_000, generator=g)
    ids, lengths = encode_queries([["fan", "up"], ["kitchen", "six"]], 24)
    with torch.no_grad():
        return model(waves, torch.tensor([16_000, 12_000]), ids, lengths)


def test_a_saved_detector_loads_back_with_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    model = SpokenTermDetector(TINY_DETECTOR).eval()
    path = save_model(tmp_path / "detector.pt", model, {"variant": "detector"})
    assert path.is_file()
    loaded, metadata = recipe._load("detector", path)
    assert isinstance(loaded, SpokenTermDetector) and not loaded.training
    assert loaded.config == TINY_DETECTOR
    assert metadata["model"] == "SpokenTermDetector" and metadata["variant"] == "detector"
    assert metadata["config"] == dataclasses.asdict(TINY_DETECTOR)
    assert next(loaded.parameters()).dtype == torch.float32
    (logits, weights), (logits_back, weights_back) = map(_detector_outputs, (model, loaded))
    assert torch.allclose(logits, logits_back, atol=1e-2)
    assert torch.allclose(weights, weights_back, atol=1e-2)
    assert next(model.parameters()).dtype == torch.float32  # saving leaves the model as it was


def test_a_saved_dual_encoder_loads_back_with_the_same_embeddings(tmp_path):
    torch.manual_seed(0)
    model = DualEncoder(TINY_DUAL).eval()
    path = save_model(tmp_path / "dual.pt", model, {"variant": "dual"})
    loaded, metadata = load_dual(path)
    assert isinstance(loaded, DualEncoder) and loaded.config == TINY_DUAL
    assert metadata["model"] == "DualEncoder"
    ids, lengths = encode_texts(["stop the fan", "up"], 48)
    with torch.no_grad():
        assert torch.allclose(
            model.embed_text(ids, lengths), loaded.embed_text(ids, lengths), atol=1e-2
        )
    assert loaded.logit_scale.item() == pytest.approx(model.logit_scale.item(), abs=1e-2)


def test_save_model_refuses_to_overwrite_unless_told(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "detector.pt"
    save_model(path, SpokenTermDetector(TINY_DETECTOR), {})
    other = SpokenTermDetector(DetectorConfig(d_model=8, audio_blocks=1))
    with pytest.raises(FileExistsError):
        save_model(path, other, {})
    assert load_detector(path)[0].config == TINY_DETECTOR  # the first file is intact
    save_model(path, other, {}, overwrite=True)
    assert load_detector(path)[0].config.d_model == 8


def test_loading_a_missing_file_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_utils.audiotext"):
        load_detector(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError, match="--variant dual"):
        load_dual(tmp_path / "missing.pt")


def test_loading_a_checkpoint_of_the_other_model_is_refused(tmp_path):
    torch.manual_seed(0)
    path = save_model(tmp_path / "dual.pt", DualEncoder(TINY_DUAL), {})
    with pytest.raises(ValueError, match="another model"):
        load_detector(path)


def test_build_checkpoint_rejects_an_unknown_variant(tmp_path):
    with pytest.raises(ValueError, match="variant must be one of"):
        build_checkpoint("classifier", tmp_path / "x.pt", progress=False)


def test_both_profiles_have_an_audiotext_section():
    full, ci = get_profile("full").audiotext, get_profile("ci").audiotext
    assert isinstance(full, AudioTextProfile) and isinstance(ci, AudioTextProfile)
    assert ci.test_utterances <= full.test_utterances and ci.demo_steps <= full.demo_steps
    assert full.candidates >= 5  # recall@5 needs five candidates


def test_test_scores_report_what_the_lesson_asserts(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))  # its utterance cache goes there
    small = dataclasses.replace(get_profile("ci").audiotext, test_utterances=6, candidates=5)
    profile = SimpleNamespace(audiotext=small)
    torch.manual_seed(0)
    detection = recipe.test_scores("detector", SpokenTermDetector(TINY_DETECTOR), profile)
    assert {"f1", "precision", "recall", "localised", "located"} <= set(detection)
    assert "records" not in detection
    assert all(0 <= value <= 100 for value in detection.values())
    retrieval = recipe.test_scores("dual", DualEncoder(TINY_DUAL), profile)
    assert set(retrieval) == {"recall@1", "recall@5", "text recall@1", "text recall@5"}
    assert retrieval["recall@5"] == 100
