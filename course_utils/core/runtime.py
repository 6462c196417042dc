"""Where the course runs: device, seeds, data folder and version checks.

Only lessons and training loops pick a device, always through `get_device`, so that a
lesson runs unchanged on a laptop CPU, an NVIDIA GPU or an Apple-silicon Mac.

Notebook: 00_welcome_and_setup.
"""

from __future__ import annotations

import os
import random
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from .environment import REPO_ROOT

__all__ = [
    "get_device",
    "cpu_threads",
    "default_threads",
    "set_seed",
    "data_dir",
    "is_static",
    "require_version",
    "environment_report",
]

DATA_DIR_ENV = "COURSE_DATA_DIR"
THREADS_ENV = "COURSE_THREADS"
STATIC_ENV = "COURSE_STATIC"  # set by `make book`: the lesson becomes a page with no kernel
_TORCH_DEFAULT_THREADS = torch.get_num_threads()  # before anyone changes it: the cores torch sees
INSTALLED_DATA_DIR = Path.home() / ".cache" / "attention-in-audio"  # the default outside a clone


def default_threads() -> int:
    """The CPU threads torch uses by default here: one per core it may run on."""
    return _TORCH_DEFAULT_THREADS


def cpu_threads() -> int:
    """The course's rule for torch's CPU threads: every core but one, at least one.

    The course's models are small: on 2 cores a second thread made a training step 1.1 to 1.8
    times faster on an idle machine, and 1.1 to 4.7 times slower beside one other busy
    process (the browser, a second kernel; two runs of ``python -m benchmarks threads``).
    Leaving one core free keeps a lesson's speed steady on a machine doing anything else.
    ``$COURSE_THREADS`` overrides it.

    Example:
        >>> os.environ["COURSE_THREADS"] = "3"
        >>> cpu_threads()
        3
        >>> del os.environ["COURSE_THREADS"]
    """
    chosen = os.environ.get(THREADS_ENV)
    if chosen is None:
        return max(default_threads() - 1, 1)
    if not chosen.isdigit() or int(chosen) < 1:
        raise ValueError(f"${THREADS_ENV} must be a positive whole number, got {chosen!r}")
    return int(chosen)


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the best available device: CUDA, then Apple MPS, then CPU.

    Also sets torch's CPU threads by the course's rule (`cpu_threads`): the CPU computes the
    features and the small models, whatever the device.

    Args:
        prefer: force a device ("cpu", "cuda", "mps"); the environment variable
            ``COURSE_DEVICE`` does the same for a whole session. Asking for a device that
            is not available raises RuntimeError.

    Returns:
        the chosen `torch.device`.

    Example:
        >>> get_device("cpu")
        device(type='cpu')
    """
    prefer = prefer or os.environ.get("COURSE_DEVICE")
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if prefer:
        kind = prefer.split(":")[0]
        if kind not in available:
            raise ValueError(f"unknown device {prefer!r}; expected one of {list(available)}")
        if not available[kind]:
            raise RuntimeError(f"device {prefer!r} was asked for but is not available here")
    torch.set_num_threads(cpu_threads())
    if prefer:
        return torch.device(prefer)
    return torch.device(next(kind for kind, ok in available.items() if ok))


def set_seed(seed: int = 0) -> None:
    """Seed Python's `random`, NumPy's global generator and torch (all devices).

    Library code takes explicit generators; this is for lessons, so that a re-run of a
    notebook gives the same numbers.

    Example:
        >>> set_seed(0); a = torch.rand(1); set_seed(0); bool(a == torch.rand(1))
        True
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def data_dir() -> Path:
    """The folder for corpora, downloads and caches.

    ``$COURSE_DATA_DIR`` when set; else ``data/`` in the clone of the course this package runs
    from; else (an installed wheel) ``~/.cache/attention-in-audio``.

    The folder is created if missing.
    """
    default = REPO_ROOT / "data" if REPO_ROOT else INSTALLED_DATA_DIR
    folder = Path(os.environ.get(DATA_DIR_ENV) or default).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_static() -> bool:
    """True while a lesson is executed into a static page (``$COURSE_STATIC`` set, not "0"):
    the book `make book` builds, where no kernel answers a slider or a Record button."""
    return os.environ.get(STATIC_ENV, "0") not in ("", "0")


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def require_version(package: str, minimum: str) -> str:
    """Raise RuntimeError with the fix if `package` is missing or older than `minimum`.

    Lessons call this in their first cell so that an old install fails with a sentence,
    not with an AttributeError ten cells later.

    Returns:
        the installed version.

    Example:
        >>> require_version("numpy", "1.0") >= "1"
        True
    """
    try:
        installed = metadata.version(package)
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{package} is not installed; "
            "run `make install` in the course folder "
            "(or `pip install -c requirements.lock -e '.[dev]'` there)"
        ) from None
    if _version_tuple(installed) < _version_tuple(minimum):
        raise RuntimeError(
            f"this notebook needs {package} >= {minimum}, but {installed} is installed; "
            "update with `git pull` then `make install` in the course folder"
        )
    return installed


def environment_report() -> dict[str, str]:
    """Versions and devices, for the first cell of every lesson and for bug reports."""
    device = get_device()
    report = {
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "torch": torch.__version__,
        "device": str(device),
        "cpu threads": str(torch.get_num_threads()),
    }
    for package in ("torchaudio", "course-utils", "numpy", "librosa"):
        try:
            report[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            report[package] = "not installed"
    if device.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(device)
    return report
