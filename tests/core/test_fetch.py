"""Tests for course_utils.core.fetch: downloads from a local HTTP server and safe extraction."""

from __future__ import annotations

import functools
import io
import re
import socket
import tarfile
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from course_utils.core.fetch import (
    ChecksumError,
    CorruptArchiveError,
    FetchError,
    UnsafeArchiveError,
    _default_cache_dir,
    fetch,
    sha256_of,
)
from course_utils.data.recordings import load_recordings

WAVS = {"3_jackson_0.wav": 8000, "7_theo_12.wav": 8000}


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files from `directory`, honours `Range: bytes=N-`, and logs every request.

    Paths under /cut/ send a full Content-Length but only half the body, then hang up.
    """

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Range")))
        cut = self.path.startswith("/cut/")
        path = Path(self.translate_path(self.path.removeprefix("/cut")))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        start = int(match[1]) if match and self.server.ranges else 0
        if start >= len(data) > 0:
            self.send_error(416)
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.close_connection = True


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields (base_url, www, server)."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(RangeHandler, directory=www))
    httpd.requests, httpd.ranges = [], True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www, httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def wav_bytes(sample_rate: int, seconds: float = 0.1, channels: int = 1) -> bytes:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([tone] * channels, axis=1), sample_rate, format="WAV")
    return buffer.getvalue()


def make_archive(path: Path, members: dict[str, bytes]) -> Path:
    """Write a .zip or a tar (compression from the suffix) holding `members`."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(zipfile.ZipInfo(name), data)
        return path
    mode = {".gz": "w:gz", ".tgz": "w:gz", ".bz2": "w:bz2", ".xz": "w:xz"}.get(path.suffix, "w")
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def add_tar_member(path: Path, info: tarfile.TarInfo, data: bytes = b"") -> None:
    with tarfile.open(path, "w") as tar:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data) if data else None)


def recordings_members() -> dict[str, bytes]:
    return {f"fsdd/recordings/{name}": wav_bytes(rate) for name, rate in WAVS.items()}


ARCHIVE_NAMES = ["fsdd.tar.gz", "fsdd.tgz", "fsdd.zip", "fsdd.tar", "fsdd.tar.bz2", "fsdd.tar.xz"]


@pytest.mark.parametrize("name", ARCHIVE_NAMES)
def test_fetch_extracts_and_then_serves_from_cache(server, tmp_path, name):
    base, www, httpd = server
    archive = make_archive(www / name, recordings_members())
    digest, cache = sha256_of(archive), tmp_path / "cache"

    folder = fetch(f"{base}/{name}", digest, cache_dir=cache, extract=True, progress=False)

    assert folder == cache / "fsdd"
    assert sorted(p.name for p in (folder / "fsdd" / "recordings").iterdir()) == sorted(WAVS)
    assert sha256_of(cache / name) == digest
    assert not list(cache.glob("*.part")) and not list(cache.glob(".fsdd.*"))
    assert len(httpd.requests) == 1
    # Second calls, extracted or not, are answered from the cache without a request.
    assert fetch(f"{base}/{name}", digest, cache_dir=cache, extract=True) == folder
    assert fetch(f"{base}/{name}", digest, cache_dir=cache, progress=True) == cache / name
    assert len(httpd.requests) == 1
    recordings = load_recordings(folder / "fsdd" / "recordings")
    assert [r.speaker for r in recordings] == ["jackson", "theo"]


@pytest.mark.parametrize("progress", [True, False])
def test_fetch_plain_file_with_filename(server, tmp_path, capfd, progress):
    base, www, httpd = server
    (www / "blob.bin").write_bytes(b"x" * 5000)
    path = fetch(
        f"{base}/blob.bin",
        sha256_of(www / "blob.bin"),
        cache_dir=tmp_path / "c",
        filename="renamed.bin",
        progress=progress,
    )
    assert path == tmp_path / "c" / "renamed.bin" and path.read_bytes() == b"x" * 5000
    assert ("renamed.bin" in capfd.readouterr().err) == progress  # the progress bar


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    base, www, _ = server
    (www / "data.bin").write_bytes(b"payload")
    cache, wrong = tmp_path / "cache", "0" * 64
    with pytest.raises(ChecksumError) as info:
        fetch(f"{base}/data.bin", wrong, cache_dir=cache, progress=False)
    message = str(info.value)
    assert wrong in message and sha256_of(www / "data.bin") in message
    assert f"{base}/data.bin" in message
    assert list(cache.iterdir()) == []


def test_cached_file_with_wrong_digest_is_not_replaced(server, tmp_path):
    base, www, httpd = server
    (www / "data.bin").write_bytes(b"new")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.bin").write_bytes(b"user's own file")
    with pytest.raises(ChecksumError, match="delete it"):
        fetch(f"{base}/data.bin", sha256_of(www / "data.bin"), cache_dir=cache, progress=False)
    assert (cache / "data.bin").read_bytes() == b"user's own file" and httpd.requests == []


@pytest.mark.parametrize("name", [n.replace("fsdd", "bad") for n in ARCHIVE_NAMES])
def test_corrupt_archive_names_the_file(server, tmp_path, name):
    base, www, _ = server
    good = make_archive(tmp_path / name, recordings_members()).read_bytes()
    # Cut inside the first member's data (a tar cut between members looks complete).
    (www / name).write_bytes(good[: min(1500, len(good) // 2)])
    cache = tmp_path / "cache"
    with pytest.raises(CorruptArchiveError, match=re.escape(name)):
        fetch(
            f"{base}/{name}", sha256_of(www / name), cache_dir=cache, extract=True, progress=False
        )
    assert sorted(p.name for p in cache.iterdir()) == [name]  # no half-extracted folder


def _unsafe_tar(path: Path, case: str) -> None:
    infos = {
        "dotdot": (tarfile.TarInfo("../evil.txt"), b"evil"),
        "absolute": (tarfile.TarInfo(str(path.parent / "abs_evil.txt")), b"evil"),
        "symlink_etc": (tarfile.TarInfo("etc"), b""),
        "symlink_up": (tarfile.TarInfo("sub/up"), b""),
        "hardlink": (tarfile.TarInfo("hard"), b""),
        "device": (tarfile.TarInfo("null"), b""),
    }
    info, data = infos[case]
    if case.startswith("symlink"):
        info.type, info.linkname = tarfile.SYMTYPE, "/etc" if case == "symlink_etc" else "../../x"
    elif case == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, "../evil.txt"
    elif case == "device":
        info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    add_tar_member(path, info, data)


@pytest.mark.parametrize(
    "case",
    [
        "dotdot",
        "absolute",
        "symlink_etc",
        "symlink_up",
        "hardlink",
        "device",
        "zip_dotdot",
        "zip_absolute",
        "zip_symlink",
    ],
)
def test_unsafe_archive_member_is_refused(server, tmp_path, case):
    base, www, _ = server
    if case.startswith("zip"):
        archive = www / "evil.zip"
        name = {
            "zip_dotdot": "../evil.txt",
            "zip_absolute": str(tmp_path / "abs_evil.txt"),
            "zip_symlink": "etc",
        }[case]
        with zipfile.ZipFile(archive, "w") as zf:
            info = zipfile.ZipInfo(name)
            if case == "zip_symlink":
                info.external_attr = 0o120777 << 16  # a symlink whose target is the data
            zf.writestr(info, "/etc" if case == "zip_symlink" else "evil")
    else:
        archive = www / "evil.tar"
        _unsafe_tar(archive, case)
    cache = tmp_path / "cache"
    member = {
        "dotdot": "../evil.txt",
        "absolute": "abs_evil.txt",
        "symlink_etc": "'etc'",
        "symlink_up": "sub/up",
        "hardlink": "hard",
        "device": "null",
        "zip_dotdot": "../evil.txt",
        "zip_absolute": "abs_evil.txt",
        "zip_symlink": "'etc'",
    }
    with pytest.raises(UnsafeArchiveError, match=re.escape(member[case])):  # names the member
        fetch(
            f"{base}/{archive.name}",
            sha256_of(archive),
            cache_dir=cache,
            extract=True,
            progress=False,
        )
    assert sorted(p.name for p in cache.iterdir()) == [archive.name]
    assert not any(p.name in ("evil.txt", "abs_evil.txt") for p in tmp_path.rglob("*"))


def test_tar_link_through_link_is_refused(server, tmp_path):
    # Each link alone stays inside; together "a/b" would reach the cache folder's parent.
    base, www, _ = server
    archive = www / "chain.tar"
    with tarfile.open(archive, "w") as tar:
        for name, link in [("a", "."), ("a/b", "../x")]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
    with pytest.raises(UnsafeArchiveError):
        fetch(
            f"{base}/chain.tar",
            sha256_of(archive),
            cache_dir=tmp_path / "c",
            extract=True,
            progress=False,
        )
    assert not (tmp_path / "c" / "chain").exists()


@pytest.mark.parametrize("server_ranges", [True, False])
def test_resume_from_part_file(server, tmp_path, server_ranges):
    base, www, httpd = server
    httpd.ranges = server_ranges
    data = bytes(range(256)) * 400
    (www / "big.bin").write_bytes(data)
    cache = tmp_path / "cache"
    cache.mkdir()
    # With ranges the prefix is kept; without, a 200 answer must restart from zero.
    (cache / "big.bin.part").write_bytes(data[:1000] if server_ranges else b"junk" * 250)

    path = fetch(f"{base}/big.bin", sha256_of(www / "big.bin"), cache_dir=cache, progress=False)

    assert httpd.requests == [("/big.bin", "bytes=1000-")]
    assert path.read_bytes() == data and not (cache / "big.bin.part").exists()


def test_part_file_already_complete(server, tmp_path):
    base, www, httpd = server
    (www / "f.bin").write_bytes(b"complete")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "f.bin.part").write_bytes(b"complete")  # the server answers 416
    assert fetch(f"{base}/f.bin", sha256_of(www / "f.bin"), cache_dir=cache).read_bytes() == (
        b"complete"
    )
    assert httpd.requests == [("/f.bin", "bytes=8-")]


def test_offline_raises_fetch_error(tmp_path):
    with socket.socket() as s:  # find a port, then close it so nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.zip"
    with pytest.raises(FetchError, match="offline") as info:
        fetch(url, "a" * 64, cache_dir=tmp_path / "cache", progress=False, timeout=5)
    assert url in str(info.value) and str(tmp_path / "cache" / "x.zip") in str(info.value)


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert _default_cache_dir() == tmp_path / "downloads"
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert _default_cache_dir() == Path(__file__).resolve().parents[2] / "data" / "downloads"


def test_http_404_raises_fetch_error(server, tmp_path):
    base, _, _ = server
    with pytest.raises(FetchError, match="404"):
        fetch(f"{base}/missing.zip", "a" * 64, cache_dir=tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / "missing.zip").exists()


def test_interrupted_download_leaves_no_final_file(server, tmp_path):
    base, www, _ = server
    (www / "big.bin").write_bytes(b"z" * 10000)
    cache = tmp_path / "cache"
    with pytest.raises(FetchError, match="interrupted"):
        fetch(f"{base}/cut/big.bin", sha256_of(www / "big.bin"), cache_dir=cache, progress=False)
    assert not (cache / "big.bin").exists()
    assert (cache / "big.bin.part").stat().st_size == 5000  # kept, to resume from


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"sha256": "abc"}, "64 hex"),
        ({"filename": "../x.zip"}, "plain file name"),
        ({"extract": True, "filename": "x.rar"}, "cannot extract"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error):
    args = {"sha256": "a" * 64, "cache_dir": tmp_path} | kwargs
    with pytest.raises(ValueError, match=error):
        fetch("http://127.0.0.1:1/x.zip", **args)
