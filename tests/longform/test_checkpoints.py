"""The detectors shipped in course_utils/longform/checkpoints: small, safe, and better than
an energy detector on recordings of voices never heard in training.

Their scores are recomputed on the CI profile's test recordings against the CI profile's
bounds, which sit below the full profile's figures (measured on 10-minute recordings).
"""

import fnmatch

import pytest
import tomllib
import torch

from course_utils import get_profile, longform
from course_utils.core import find_repo_root
from course_utils.longform import (
    VARIANTS,
    DetectorConfig,
    LongformConfig,
    LongformDetector,
    checkpoint_path,
    energy_baseline,
    load_detector,
    score,
)
from course_utils.longform.recipe import CHECKPOINT_DIR
from course_utils.restoration import checkpoint_path as generator_path

torch.set_num_threads(1)
BOUNDS = get_profile("ci").longform
DATA = LongformConfig()
MAX_BYTES = 5 * 2**20


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_shipped_detector_is_small_and_loads(variant):
    path = checkpoint_path(variant)
    assert path.parent == CHECKPOINT_DIR and path.is_file(), f"missing {path}"
    assert path.stat().st_size < MAX_BYTES
    torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    model, metadata = load_detector(variant)
    assert isinstance(model, LongformDetector) and not model.training
    assert model.config.attention == VARIANTS[variant]["attention"]
    assert metadata["recipe"]["attention"] == model.config.attention
    assert metadata["keywords"] == list(DATA.keywords)
    assert metadata["history"]["seconds"] > 0 and metadata["test_scores"]


def test_other_files_are_refused_clearly():
    with pytest.raises(ValueError, match="another model"):
        load_detector(path=generator_path("denoiser"))


def test_package_data_ships_the_checkpoints():
    root = find_repo_root()
    with open(root / "pyproject.toml", "rb") as file:
        patterns = tomllib.load(file)["tool"]["setuptools"]["package-data"]["course_utils.longform"]
    for variant in VARIANTS:
        relative = checkpoint_path(variant).relative_to(CHECKPOINT_DIR.parent).as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative


@pytest.fixture(scope="module")
def recordings():
    return {s: longform.data.test_recordings(DATA, s, BOUNDS.recordings)
            for s in BOUNDS.test_seconds}  # fmt: skip


def test_shipped_detectors_beat_the_energy_baseline(recordings):
    longest = BOUNDS.test_seconds[-1]
    f1 = {}
    for variant in sorted(VARIANTS):
        model, _ = load_detector(variant)
        for seconds, recs in recordings.items():
            baseline = energy_baseline(recs, DATA.keywords)["f1"]
            result = score(model, recs, DATA.keywords)["f1"]
            assert result >= BOUNDS.min_f1, (variant, seconds, result)
            assert result - baseline >= BOUNDS.min_gain_over_baseline, (variant, seconds)
        f1[variant] = score(model, recordings[longest], DATA.keywords)["f1"]
    assert f1["local"] >= f1["full"] - BOUNDS.max_f1_gap, f1
    torch.manual_seed(0)
    untrained = LongformDetector(DetectorConfig.preset("small")).eval()
    recs = recordings[longest]
    gain = score(untrained, recs, DATA.keywords)["f1"] - energy_baseline(recs, DATA.keywords)["f1"]
    assert gain < BOUNDS.min_gain_over_baseline  # the bound bites
