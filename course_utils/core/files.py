"""Atomic file writes: a reader never sees half a file, and nothing is overwritten silently.

Caches, downloads and checkpoints are written to a temporary file in the same folder and
moved into place with `os.replace`, which is atomic on POSIX and Windows. If Python is
interrupted mid-write, the temporary file is removed and the old file (if any) is intact.

Notebook: 00_welcome_and_setup (section "Data, caches and checkpoints").
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write", "FileExistsNotOverwrittenError"]


class FileExistsNotOverwrittenError(FileExistsError):
    """Raised instead of silently replacing a file the user already has."""


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write to; on success move it to `path` in one step.

    Args:
        path: final location. Its folder is created if missing.
        overwrite: replace an existing file at `path`; if False (default) an existing file
            raises `FileExistsNotOverwrittenError` before anything is written.

    Yields:
        temporary path in the same folder (same file system, so the final move is atomic).

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.gettempdir(), "example.txt")
        >>> with atomic_write(target, overwrite=True) as tmp:
        ...     _ = tmp.write_text("hello")
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsNotOverwrittenError(
            f"{path} already exists; pass overwrite=True to replace it, or choose another path"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # flush to disk before the rename makes it visible
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
