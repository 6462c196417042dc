"""Runtime helpers (device, seeds, data folder, versions) and the profiles."""

import random

import numpy as np
import pytest
import torch

from course_utils.core import runtime
from course_utils.core.profiles import PROFILES, get_profile
from course_utils.core.runtime import (
    cpu_threads,
    data_dir,
    environment_report,
    get_device,
    require_version,
    set_seed,
)


@pytest.mark.parametrize(
    "cuda, mps, expected",
    [
        (True, True, "cuda"),
        (True, False, "cuda"),
        (False, True, "mps"),
        (False, False, "cpu"),
    ],
)
def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert get_device() == torch.device(expected)
    assert get_device("cpu") == torch.device("cpu")
    if not cuda:
        with pytest.raises(RuntimeError, match="not available"):
            get_device("cuda")


def test_get_device_errors_are_clear(monkeypatch):
    with pytest.raises(ValueError, match="unknown device"):
        get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="not available"):
            get_device("cuda")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device().type == "cpu"


@pytest.mark.parametrize("cores, expected", [(1, 1), (2, 1), (4, 3), (16, 15)])
def test_cpu_threads_leaves_one_core_free(monkeypatch, cores, expected):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.setattr(runtime, "_TORCH_DEFAULT_THREADS", cores)
    assert cpu_threads() == expected


def test_cpu_threads_follows_the_environment_variable(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert cpu_threads() == 3
    for bad in ("0", "two", "-1", ""):
        monkeypatch.setenv("COURSE_THREADS", bad)
        with pytest.raises(ValueError, match="COURSE_THREADS must be a positive whole number"):
            cpu_threads()


def test_get_device_applies_the_thread_rule(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setenv("COURSE_THREADS", "2")
    try:
        get_device("cpu")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_set_seed_repeats_all_generators():
    set_seed(123)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(123)
    assert first == (random.random(), np.random.rand(), torch.rand(1).item())


def test_data_dir_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data_dir() == tmp_path / "elsewhere" and data_dir().is_dir()


def test_require_version_explains_the_fix():
    assert require_version("numpy", "1.0")
    with pytest.raises(RuntimeError, match="needs numpy >= 999"):
        require_version("numpy", "999.0")
    with pytest.raises(RuntimeError, match="not installed"):
        require_version("no-such-package-here", "1.0")


def test_environment_report_names_versions_and_device():
    report = environment_report()
    assert report["torch"] == torch.__version__ and report["device"] in ("cpu", "cuda", "mps")


def test_profiles_ci_is_smaller_and_env_selects(monkeypatch):
    full, ci = PROFILES["full"], PROFILES["ci"]
    assert ci.train_clips_per_word < full.train_clips_per_word and ci.epochs < full.epochs
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    assert get_profile().is_ci
    monkeypatch.delenv("COURSE_PROFILE")
    assert get_profile().name == "full"
    with pytest.raises(ValueError, match="expected one of"):
        get_profile("huge")


def test_lesson_sections_switch_with_the_profile():
    import course_utils as cu  # imports the application folders, which register the sections
    from course_utils.core.profiles import register_section

    full, ci = cu.get_profile("full"), cu.get_profile("ci")
    for name in ("kws", "sed", "asr"):
        assert type(getattr(full, name)) is type(getattr(ci, name))
    assert ci.kws.epochs < full.kws.epochs and ci.asr.beam_utterances < full.asr.beam_utterances
    with pytest.raises(AttributeError, match="sections"):
        full.no_such_section  # noqa: B018
    with pytest.raises(ValueError, match="field of Profile"):
        register_section("epochs", full=1, ci=1)
    with pytest.raises(TypeError, match="one type"):
        register_section("mixed", full=1, ci="1")
