"""The environment guard and the lock: a broken install says how to repair it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course_utils import environment as env

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"torch": "2.15.0", "torchaudio": "2.11.1"}


def _must_not_load():
    raise AssertionError("a known-bad pair must be refused before torchaudio is loaded")


def test_a_good_pair_that_loads_passes():
    assert env.check_torch_stack(GOOD, load=lambda: None) is None


def test_the_installed_pair_passes():
    assert env.check_torch_stack() is None


def test_a_known_bad_pair_is_refused_with_versions_and_repair():
    message = env.check_torch_stack({"torch": "2.11.0", "torchaudio": "2.11.1"}, _must_not_load)
    assert "torch 2.11.0, torchaudio 2.11.1" in message
    assert "torch_exception_get_what_without_backtrace" in message
    assert env.repair_command() in message and "-m pip install" in message


def test_a_cpu_only_torch_is_refused():
    message = env.check_torch_stack({"torch": "2.13.0+cpu", "torchaudio": "2.11.1"}, _must_not_load)
    assert "libc10_cuda.so" in message and "CUDA build" in message


def test_a_failing_load_gives_its_first_line_only():
    def load():
        raise OSError("libtorchaudio.so: undefined symbol: some_symbol\n  deep detail")

    message = env.check_torch_stack(GOOD, load)
    assert "torchaudio does not load: libtorchaudio.so: undefined symbol: some_symbol" in message
    assert "deep detail" not in message and len(message.splitlines()) == 5


def test_a_missing_package_is_named():
    message = env.check_torch_stack({"torch": "2.15.0", "torchaudio": None}, _must_not_load)
    assert "torchaudio not installed" in message and "torchaudio (missing)" in message


@pytest.mark.parametrize(
    ("torch_version", "bad"),
    [
        ("2.11.0", True),
        ("2.11.0+cu130", True),
        ("2.12.1", True),
        ("2.13.0", False),
        ("2.15.0", False),
    ],
)
def test_known_bad_pairs_with_torchaudio_2_11_1(torch_version, bad):
    assert (env.known_bad_pair(torch_version, "2.11.1") is not None) == bad


def test_the_repair_command_uses_the_lock_in_a_clone_and_the_pair_elsewhere(tmp_path):
    assert env.repair_command("py", ROOT / "requirements.lock") == (
        f'cd {ROOT} && py -m pip install -c requirements.lock -e ".[dev]"'
    )
    assert env.repair_command("py", tmp_path / "absent.lock") == (
        'py -m pip install "torch==2.15.0" "torchaudio==2.11.1"'
    )
    assert env.repair_command("py", None) == env.repair_command("py", tmp_path / "absent.lock")


def test_import_course_utils_stops_with_one_short_error(tmp_path):
    """A torchaudio that cannot load (simulated) stops the import with the repair command."""
    fake = tmp_path / "torchaudio"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        'raise OSError("libtorchaudio.so: undefined symbol: torch_exception_get_what")\n'
    )
    result = subprocess.run(
        [sys.executable, "-c", "import course_utils"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
    )
    assert result.returncode == 1
    assert "TorchStackError: course_utils cannot start" in result.stderr
    assert "undefined symbol: torch_exception_get_what" in result.stderr
    assert "-m pip install" in result.stderr
    assert "site-packages" not in result.stderr, result.stderr  # no trace from inside torch
    assert result.stderr.count('File "') <= 4, result.stderr  # the import chain only


def test_read_lock(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# comment\nTorch==2.15.0\nsed_eval==0.2.1  # note\n\n")
    assert env.read_lock(lock) == {"torch": "2.15.0", "sed-eval": "0.2.1"}
    lock.write_text("numpy>=1.24\n")
    with pytest.raises(ValueError, match=r"requirements.lock:1: expected `name==version`"):
        env.read_lock(lock)
    with pytest.raises(FileNotFoundError, match="make lock"):
        env.read_lock(tmp_path / "missing.lock")


def test_lock_drift_finds_other_versions_and_unlisted_packages():
    lock = {"torch": "2.15.0", "numpy": "2.3.0", "nvidia-cublas": "13.4.1.3"}
    installed = {"torch": "2.11.0", "numpy": "2.3.0", "jiwer": "4.0", "pip": "26.0"}
    assert env.lock_drift(installed, lock) == {
        "different": ["torch 2.11.0 (lock: 2.15.0)"],
        "not in the lock": ["jiwer 4.0"],
    }
    assert env.lock_drift(lock, lock) == {"different": [], "not in the lock": []}


def test_installed_environment_matches_the_lock():
    """A package installed or upgraded by hand must not make CI green while a clone fails."""
    drift = env.lock_drift()
    assert drift == {"different": [], "not in the lock": []}, textwrap.dedent(
        f"""\
        the environment differs from requirements.lock: {drift}
        recreate it: rm -rf .venv && make install (or `make lock` to adopt new versions)"""
    )


def test_the_tested_pair_is_the_locked_pair():
    pins = env.read_lock()
    assert {name: pins[name] for name in env.TESTED_PAIR} == env.TESTED_PAIR
