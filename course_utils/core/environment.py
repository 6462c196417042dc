"""Is the installed environment the one the course was tested with?

Two checks, neither of which imports torch before it has to:

- `check_torch_stack` runs first in ``import course_utils``. torch and torchaudio ship as
  separate compiled wheels, and a pair that pip happily installs may not load together
  (torchaudio 2.11.1 with torch 2.11: ``undefined symbol``; any torchaudio 2.11 with a
  CPU-only torch: ``libc10_cuda.so`` missing). Instead of a stack trace from inside torch,
  the learner gets one message naming the installed versions and the command that repairs
  them.
- `lock_drift` compares what is installed with ``requirements.lock``, the exact versions
  the whole test suite passed with (``make lock`` writes it). The test suite calls it, so a
  package installed by hand cannot make CI green while a fresh clone fails.

Notebook: 00_welcome_and_setup.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

__all__ = [
    "LOCK_FILE",
    "TorchStackError",
    "check_torch_stack",
    "ensure_torch_stack",
    "find_repo_root",
    "installed_versions",
    "lock_drift",
    "read_lock",
    "repair_command",
]


def find_repo_root(start: Path | None = None) -> Path | None:
    """The clone of the course this package runs from: the nearest folder above `start`
    whose ``pyproject.toml`` names the ``course-utils`` project; None for an installed wheel.

    Found by looking upward rather than by counting folders, so moving a module to another
    depth of the package cannot silently move the data folder or the lock.
    """
    here = Path(start or __file__).resolve()
    for folder in [here, *here.parents]:
        project = folder / "pyproject.toml"
        if project.is_file() and re.search(r'(?m)^name = "course-utils"', project.read_text()):
            return folder
    return None


REPO_ROOT = find_repo_root()  # None when installed from a wheel
# Outside a clone there is no lock: `repair_command` then names the tested pair.
LOCK_FILE = REPO_ROOT / "requirements.lock" if REPO_ROOT else None

# The pair the lock holds, for an install without the repository (a wheel): keep in step
# with requirements.lock (a test checks).
TESTED_PAIR = {"torch": "2.15.0", "torchaudio": "2.11.1"}

# Installers and the course package itself: their versions are not part of the drift check
# (setuptools is: dcase_util imports its pkg_resources).
_UNPINNED = {"pip", "wheel", "course-utils"}


class TorchStackError(ImportError):
    """torch and torchaudio are missing or do not load together."""


def normalize_name(name: str) -> str:
    """PEP 503 normal form: ``Sed_Eval`` and ``sed-eval`` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _release(version: str) -> tuple[int, ...]:
    """``"2.11.0+cu132"`` -> ``(2, 11, 0)``."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def known_bad_pair(torch_version: str, torchaudio_version: str) -> str | None:
    """Why this torch / torchaudio pair cannot work, or None when it is not known to fail."""
    if "+cpu" in torch_version:
        return (
            "torchaudio's wheels need torch's CUDA build (which also runs on a CPU); "
            "a CPU-only torch fails with `libc10_cuda.so` missing"
        )
    # torch 2.11 and 2.12 do not export a symbol torchaudio 2.11.1 needs (2.13 onwards do).
    if _release(torchaudio_version) == (2, 11, 1) and _release(torch_version) < (2, 13):
        return (
            "torchaudio 2.11.1 does not load with torch older than 2.13 "
            "(`undefined symbol: torch_exception_get_what_without_backtrace`)"
        )
    return None


def installed_versions() -> dict[str, str]:
    """Every installed distribution, by normalised name.

    Skips the copies setuptools vendors for itself (``setuptools/_vendor``, put on
    ``sys.path`` once ``pkg_resources`` is imported): they are not installed packages.
    """
    path = [entry for entry in sys.path if "_vendor" not in Path(entry).parts]
    return {
        normalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions(path=path)
        if dist.metadata["Name"]
    }


def read_lock(path: Path | None = LOCK_FILE) -> dict[str, str]:
    """The ``name==version`` lines of a lock file, by normalised name (comments skipped).

    Raises:
        FileNotFoundError: with the command that writes the lock.
        ValueError: on a line that is not ``name==version``.
    """
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"no lock file at {path} (not a clone?); `make lock` writes one")
    pins = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise ValueError(f"{path}:{number}: expected `name==version`, got {line!r}")
        pins[normalize_name(name.strip())] = version.strip()
    return pins


def repair_command(python: str = sys.executable, lock: Path | None = LOCK_FILE) -> str:
    """The command that reinstalls the tested torch and torchaudio in this environment.

    In a clone of the course it installs everything from the lock; elsewhere it installs
    the tested pair. Neither touches ``data/`` nor the shipped checkpoints.
    """
    if lock is not None and Path(lock).is_file():
        return f'cd {Path(lock).parent} && {python} -m pip install -c {Path(lock).name} -e ".[dev]"'
    pair = " ".join(f'"{name}=={version}"' for name, version in TESTED_PAIR.items())
    return f"{python} -m pip install {pair}"


def _load_torchaudio() -> None:
    import torchaudio  # noqa: F401  (imports torch, then loads torchaudio's compiled library)


def check_torch_stack(
    versions: Mapping[str, str | None] | None = None,
    load: Callable[[], None] = _load_torchaudio,
) -> str | None:
    """What is wrong with the installed torch and torchaudio, as one message; None if fine.

    Args:
        versions: ``{"torch": ..., "torchaudio": ...}`` (None = not installed); read from
            the installed distributions by default.
        load: imports torchaudio; a test passes one that fails.

    Returns:
        None when both are installed, not a known-bad pair, and torchaudio loads; otherwise
        a short message with the versions, the reason and the repair command.
    """
    if versions is None:
        found = installed_versions()
        versions = {name: found.get(name) for name in ("torch", "torchaudio")}
    missing = [name for name in ("torch", "torchaudio") if not versions.get(name)]
    if missing:
        reason = f"{' and '.join(missing)} not installed"
    else:
        reason = known_bad_pair(versions["torch"], versions["torchaudio"])
        if reason is None:
            try:
                load()
                return None
            except (ImportError, OSError) as error:
                reason = f"torchaudio does not load: {str(error).splitlines()[0][:300]}"
    installed = ", ".join(f"{name} {versions.get(name) or '(missing)'}" for name in versions)
    return (
        f"course_utils cannot start: {installed}.\n"
        f"  Why: {reason}.\n"
        f"  Repair (your data/ folder and the shipped checkpoints are not touched):\n"
        f"    {repair_command()}\n"
        f"  then restart the kernel."
    )


def ensure_torch_stack() -> None:
    """Raise `TorchStackError` with the repair command if torch and torchaudio cannot work."""
    problem = check_torch_stack()
    if problem:
        raise TorchStackError(problem)


def lock_drift(
    installed: Mapping[str, str] | None = None, lock: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """How the installed environment differs from the lock.

    Returns:
        ``{"different": [...], "not in the lock": [...]}``: packages whose installed
        version differs from the locked one, and packages installed that the lock does
        not name (pip, wheel and the course package itself are exempt). A
        package of the lock that is not installed is no drift (the lock also names
        packages some platforms do not need).
    """
    installed = installed_versions() if installed is None else dict(installed)
    lock = read_lock() if lock is None else dict(lock)
    different = [
        f"{name} {installed[name]} (lock: {version})"
        for name, version in sorted(lock.items())
        if name in installed and installed[name] != version and name not in _UNPINNED
    ]
    unlisted = [
        f"{name} {version}"
        for name, version in sorted(installed.items())
        if name not in lock and name not in _UNPINNED | {"setuptools"}
    ]
    return {"different": different, "not in the lock": unlisted}
