"""The models shipped in course_utils/audiotext/checkpoints: small, safe, and as good as the
lesson says on sentences spoken by voices never heard in training.

Their scores are recomputed on the CI profile's test sentences against the CI profile's
bounds, which sit below the full profile's figures (the lesson asserts those).
"""

import fnmatch
from importlib import resources

import pytest
import tomllib
import torch

from course_utils import audiotext, get_profile
from course_utils.audiotext import (
    RECIPES,
    DualEncoder,
    SpokenTermDetector,
    detection_scores,
    load_detector,
    load_dual,
    make_utterances,
    retrieval_scores,
)
from course_utils.core import find_repo_root
from course_utils.longform import checkpoint_path as longform_path

torch.set_num_threads(1)
BOUNDS = get_profile("ci").audiotext
CHECKPOINTS = resources.files(audiotext) / "checkpoints"
LOADERS = {"detector": (load_detector, SpokenTermDetector), "dual": (load_dual, DualEncoder)}
MAX_BYTES = 5 * 2**20


@pytest.fixture(scope="module")
def test_sentences():
    return make_utterances("commands", "test", BOUNDS.test_utterances, use_cache=False)


@pytest.mark.parametrize("variant", sorted(RECIPES))
def test_shipped_model_is_small_safe_and_loads(variant):
    path = CHECKPOINTS / f"{variant}.pt"
    assert path.is_file(), f"missing {path}"
    assert path.stat().st_size < MAX_BYTES
    torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    load, cls = LOADERS[variant]
    model, metadata = load()
    assert isinstance(model, cls) and not model.training
    assert metadata["variant"] == variant and metadata["history"]["seconds"] > 0
    assert metadata["recipe"]["train_utterances"] == RECIPES[variant]["train_utterances"]


def test_shipped_detector_finds_and_locates_words(test_sentences):
    detector, _ = load_detector()
    scores = detection_scores(detector, test_sentences)
    assert scores["f1"] >= BOUNDS.min_f1, scores["f1"]
    assert scores["localised"] >= BOUNDS.min_localised, scores["localised"]


def test_untrained_detector_fails_the_same_bounds(test_sentences):
    torch.manual_seed(0)
    detector, _ = load_detector()
    untrained = SpokenTermDetector(detector.config).eval()
    scores = detection_scores(untrained, test_sentences)
    assert scores["f1"] < BOUNDS.min_f1 or scores["localised"] < BOUNDS.min_localised


def test_shipped_dual_encoder_retrieves_transcripts(test_sentences):
    dual, _ = load_dual()
    scores = retrieval_scores(dual, test_sentences, BOUNDS.candidates)
    assert scores["recall@1"] >= BOUNDS.min_recall, scores["recall@1"]
    assert scores["recall@5"] >= scores["recall@1"]


def test_other_files_are_refused_clearly():
    with pytest.raises(ValueError, match="another model"):
        load_detector(path=longform_path("local"))
    with pytest.raises(ValueError, match="another model"):
        load_dual(path=CHECKPOINTS / "detector.pt")


def test_package_data_ships_the_checkpoints():
    with open(find_repo_root() / "pyproject.toml", "rb") as file:
        patterns = tomllib.load(file)["tool"]["setuptools"]["package-data"][
            "course_utils.audiotext"
        ]
    for variant in RECIPES:
        assert any(fnmatch.fnmatch(f"checkpoints/{variant}.pt", p) for p in patterns)
