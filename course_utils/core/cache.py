"""One keyed, atomic cache for generated data sets (the corpus, the scenes).

A data set made from a config is stored as one ``.npz`` file named by a hash of the config
(`config_key`), so changing any setting makes a new file and never reads a stale one. The
arrays go in as they are; the metadata goes in as JSON bytes, so loading needs no pickle.
Files are written atomically (`atomic_write`): an interrupted build leaves no half file. A
damaged file is reported with a warning and rebuilt (`load_or_build`).

Notebook: 00_welcome_and_setup (section "Data, caches and checkpoints").
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .files import atomic_write

__all__ = ["config_key", "load_npz", "load_or_build", "save_npz"]

T = TypeVar("T")


def config_key(settings: Mapping[str, Any]) -> str:
    """A short, stable hash of `settings` (JSON with sorted keys; tuples as lists).

    Example:
        >>> config_key({"b": (1, 2), "a": "x"}) == config_key({"a": "x", "b": [1, 2]})
        True
    """
    blob = json.dumps(settings, sort_keys=True, default=list).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def save_npz(path: str | Path, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write `arrays` and JSON `meta` to one ``.npz`` file, atomically (replacing the old one).

    Raises:
        ValueError: if an array is called "meta" (the name the metadata takes).
    """
    if "meta" in arrays:
        raise ValueError("an array may not be called 'meta': that name holds the metadata")
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with atomic_write(path, overwrite=True) as tmp, open(tmp, "wb") as f:
        np.savez(f, meta=blob, **arrays)


def load_npz(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read back what `save_npz` wrote: (meta, arrays), without pickle.

    Example:
        >>> import tempfile; path = Path(tempfile.mkdtemp()) / "x.npz"
        >>> save_npz(path, {"key": "abc"}, {"audio": np.arange(3)})
        >>> meta, arrays = load_npz(path); meta, arrays["audio"].tolist()
        ({'key': 'abc'}, [0, 1, 2])
    """
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes())
        arrays = {name: npz[name] for name in npz.files if name != "meta"}
    return meta, arrays


def load_or_build(
    path: Path | None,
    load: Callable[[Path], T],
    build: Callable[[], T],
    save: Callable[[T, Path], None],
) -> T:
    """`load(path)` if the cache file exists and reads; else `build()` and `save` it.

    Args:
        path: the cache file; None means no cache (always build, write nothing).
        load: reads a cache file; any exception means a damaged file, rebuilt with a warning.
        build: makes the data set.
        save: writes it (atomically, e.g. with `save_npz`).
    """
    if path is not None and path.exists():
        try:
            return load(path)
        except Exception as error:  # a damaged cache file is ours to replace
            warnings.warn(f"cache {path} is unreadable ({error}); rebuilding it", stacklevel=3)
    built = build()
    if path is not None:
        save(built, path)
    return built
