"""Download real data sets once, check them, and unpack them safely.

The course runs offline on synthetic speech; real recordings (for example the Free Spoken
Digit Dataset) are an optional extra for learners with internet. `fetch` downloads a file
once into a cache, resumes an interrupted download, refuses a file whose SHA-256 differs from
the published one, and unpacks archives without letting a member escape its folder.
`course_utils.data.recordings` then reads the unpacked folder of recordings.

Notebook: 00_welcome_and_setup (section "Data, caches and checkpoints").
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from http.client import HTTPException
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm.auto import tqdm

from .runtime import data_dir

__all__ = [
    "ChecksumError",
    "CorruptArchiveError",
    "FetchError",
    "UnsafeArchiveError",
    "fetch",
    "sha256_of",
]

CHUNK_SIZE = 1 << 20  # 1 MiB: few system calls, small memory
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar", ".zip")
# Data errors from the decompressors; an OSError without errno is gzip or bz2 saying
# "bad data" (handled in _extract), one with errno is a real I/O error.
_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError)


class FetchError(RuntimeError):
    """The file could not be downloaded (offline, host unreachable, HTTP error, cut off)."""


class ChecksumError(ValueError):
    """A downloaded or cached file's SHA-256 differs from the expected one."""


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the extraction folder, or is a device file."""


class CorruptArchiveError(ValueError):
    """An archive cannot be read (truncated, damaged, or not an archive at all)."""


def _default_cache_dir() -> Path:
    return data_dir() / "downloads"


def sha256_of(path: str | os.PathLike) -> str:
    """Return the SHA-256 of a file as 64 lower-case hex digits, reading it in chunks.

    Example:
        >>> len(sha256_of(__file__))
        64
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(
    url: str,
    sha256: str,
    cache_dir: str | os.PathLike | None = None,
    filename: str | None = None,
    extract: bool = False,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Download `url` into a cache once, check its SHA-256, and optionally unpack it.

    A file already in the cache with the right digest is returned without touching the
    network. An interrupted download is kept as ``<filename>.part`` and resumed next time.

    Args:
        url: http(s) address of the file.
        sha256: the expected SHA-256, 64 hex digits (published with the data set).
        cache_dir: folder for downloads; default ``$COURSE_DATA_DIR/downloads``, else
            ``<repo>/data/downloads``.
        filename: name in the cache; default the last part of the URL's path.
        extract: unpack a .zip/.tar/.tar.gz/.tgz/.tar.bz2/.tar.xz archive into
            ``<cache>/<archive stem>/`` and return that folder (returned at once if present).
        progress: show a progress bar while downloading.
        timeout: seconds to wait for the server before giving up.

    Returns:
        path of the downloaded file, or of the extracted folder when `extract` is True.

    Raises:
        FetchError: offline, host unreachable, HTTP error, or the download was cut off.
        ChecksumError: the file's digest differs from `sha256` (a bad download is deleted).
        UnsafeArchiveError, CorruptArchiveError: the archive cannot be unpacked safely.

    Example:
        >>> fsdd = fetch(  # doctest: +SKIP
        ...     "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v1.0.10.zip",
        ...     sha256="<64 hex digits>", extract=True)

    Notebook: 00_welcome_and_setup
    """
    sha256 = _check_digest(sha256)
    cache = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    filename = filename or _filename_from_url(url)
    if Path(filename).name != filename or filename in ("", ".", ".."):
        raise ValueError(f"filename must be a plain file name without folders, got {filename!r}")
    target = cache / filename
    folder = cache / _archive_stem(filename) if extract else None
    if folder is not None and folder.is_dir():
        return folder
    if target.exists():
        actual = sha256_of(target)
        if actual != sha256:
            raise ChecksumError(
                f"{target} exists but its SHA-256 is {actual}, expected {sha256} (from {url}); "
                "it is not replaced automatically: delete it to download again"
            )
    else:
        hint = f"download it by hand and put it at {target}"
        if cache_dir is None:
            hint += ", or set COURSE_DATA_DIR to a folder whose downloads/ holds it"
        cache.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        _download(url, part, timeout, progress, hint)
        _verify_and_move(part, target, sha256, url)
    return target if folder is None else _extract(target, folder)


def _check_digest(sha256: str) -> str:
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(f"sha256 must be 64 hex digits, got {sha256!r}")
    return sha256.lower()


def _filename_from_url(url: str) -> str:
    name = urllib.parse.unquote(PurePosixPath(urllib.parse.urlsplit(url).path).name)
    if not name:
        raise ValueError(f"cannot take a file name from {url!r}; pass filename=")
    return name


def _download(url: str, part: Path, timeout: float, progress: bool, hint: str) -> None:
    """Write `url` to `part`, asking only for the missing bytes if `part` already has some."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "course-utils"} | ({"Range": f"bytes={offset}-"} if offset else {})
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            # 206: the server sent the rest; 200: it ignored Range, so start again from zero.
            resumed = offset > 0 and response.status == 206
            start = offset if resumed else 0
            length = response.headers.get("Content-Length")
            total = start + int(length) if length and length.isdigit() else None
            bar = tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=not progress,
            )
            with open(part, "ab" if resumed else "wb") as f, bar:
                while chunk := response.read(CHUNK_SIZE):
                    f.write(chunk)
                    bar.update(len(chunk))
                received = f.tell()
            # urllib returns a short body silently when the connection drops; check its length.
            if total is not None and received < total:
                raise FetchError(
                    f"download of {url} was interrupted after {received} of {total} "
                    f"bytes; run again to resume from {part}, or {hint}"
                )
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing left to send: the .part may be complete
            return
        raise FetchError(
            f"could not download {url}: the server answered HTTP {e.code} "
            f"{e.reason}. Check the address, or {hint}"
        ) from e
    except urllib.error.URLError as e:
        raise FetchError(
            f"could not download {url}: {e.reason}. You appear to be offline or "
            f"the server cannot be reached: {hint}"
        ) from e
    except (HTTPException, OSError) as e:  # cut off mid-body, timeout, connection reset
        raise FetchError(
            f"download of {url} was interrupted ({e!r}); run again to resume from {part}, or {hint}"
        ) from e


def _verify_and_move(part: Path, target: Path, sha256: str, url: str) -> None:
    actual = sha256_of(part)
    if actual != sha256:
        part.unlink()  # a resumed file with a bad prefix would never heal; start afresh
        raise ChecksumError(
            f"SHA-256 mismatch for {url}: expected {sha256}, got {actual}. The download was "
            "deleted; run again, and if it keeps failing the file changed on the server"
        )
    with open(part, "rb+") as f:  # on disk before the rename makes it visible
        os.fsync(f.fileno())
    os.replace(part, target)


def _archive_stem(filename: str) -> str:
    for suffix in ARCHIVE_SUFFIXES:
        if filename.lower().endswith(suffix) and len(filename) > len(suffix):
            return filename[: -len(suffix)]
    raise ValueError(f"cannot extract {filename!r}: expected one of {', '.join(ARCHIVE_SUFFIXES)}")


def _extract(archive: Path, folder: Path) -> Path:
    """Unpack into a temporary sibling folder, then rename it: never a half-extracted folder."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        try:
            if archive.name.lower().endswith(".zip"):
                _extract_zip(archive, tmp)
            else:
                _extract_tar(archive, tmp)
        except _ARCHIVE_ERRORS + (OSError,) as e:
            if isinstance(e, OSError) and e.errno is not None:
                raise  # a real I/O error (disk full, permissions), not a damaged archive
            raise CorruptArchiveError(
                f"{archive} is damaged or not an archive ({e}); delete it and download it again"
            ) from e
        try:
            os.rename(tmp, folder)
        except OSError:
            if not folder.is_dir():
                raise
            # Another process finished extracting first; its folder is as good as ours.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _split(path: str) -> list[str]:  # archives from Windows may use backslashes
    return path.replace("\\", "/").split("/")


def _is_absolute(path: str) -> bool:
    return path.startswith(("/", "\\")) or bool(PureWindowsPath(path).drive)


def _escapes(parts: list[str]) -> bool:
    """True if walking `parts` from the extraction folder ever climbs above it."""
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            return True
    return False


def _check_member(name: str, kind: str = "file", link: str | None = None) -> None:
    """Raise UnsafeArchiveError if member `name`, or the `link` it points to, leaves the folder.

    `kind` is "file", "symlink", "hardlink" or "device".
    """
    if kind == "device":
        raise UnsafeArchiveError(f"archive member {name!r} is a device file or pipe; refused")
    if _is_absolute(name) or _escapes(_split(name)):
        raise UnsafeArchiveError(f"archive member {name!r} would be written outside the folder")
    if link is None:
        return
    # A symlink's target is relative to its own folder; a hard link's to the archive root.
    base = _split(name)[:-1] if kind == "symlink" else []
    if _is_absolute(link) or _escapes(base + _split(link)):
        raise UnsafeArchiveError(
            f"archive member {name!r} links to {link!r}, outside the extraction folder"
        )


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for m in members:  # check all before writing anything
            if m.isdev():
                _check_member(m.name, "device")
            elif m.issym() or m.islnk():
                _check_member(m.name, "symlink" if m.issym() else "hardlink", m.linkname)
            else:
                _check_member(m.name)
        if hasattr(tarfile, "data_filter"):
            # The "data" filter also follows links already on disk (a link to a link).
            try:
                tar.extractall(dest, members=members, filter="data")
            except tarfile.FilterError as e:
                raise UnsafeArchiveError(f"archive member {e.tarinfo.name!r}: {e}") from e
        elif any(m.issym() or m.islnk() for m in members):
            raise UnsafeArchiveError(
                f"{archive} holds links, which this Python cannot unpack "
                "safely; use Python 3.10.12+, 3.11.4+ or 3.12+"
            )
        else:
            tar.extractall(dest, members=members)


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            # zipfile writes symlinks as small text files; still refuse ones pointing out.
            is_link = stat.S_ISLNK(info.external_attr >> 16)
            link = zf.read(info).decode("utf-8", "replace") if is_link else None
            _check_member(info.filename, "symlink" if is_link else "file", link)
        zf.extractall(dest)  # raises BadZipFile on a CRC mismatch
