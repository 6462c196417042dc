"""Tests for course_utils.core.cache: keys, the npz round trip, and rebuilding damaged files."""

import numpy as np
import pytest

from course_utils.core.cache import config_key, load_npz, load_or_build, save_npz


def test_config_key_is_stable_and_sensitive():
    key = config_key({"a": 1, "b": (2, 3)})
    assert key == config_key({"b": [2, 3], "a": 1})  # order and tuple/list do not matter
    assert key != config_key({"a": 1, "b": (2, 4)})
    assert len(key) == 16 and int(key, 16) >= 0


def test_npz_round_trip_without_pickle(tmp_path):
    path = tmp_path / "cache" / "x.npz"
    audio = np.arange(6, dtype=np.int16).reshape(2, 3)
    save_npz(path, {"key": "k", "items": [{"text": "yes"}]}, {"audio": audio})
    meta, arrays = load_npz(path)
    assert meta == {"key": "k", "items": [{"text": "yes"}]}
    np.testing.assert_array_equal(arrays["audio"], audio)
    assert set(arrays) == {"audio"}


def test_an_array_may_not_take_the_metadata_name(tmp_path):
    with pytest.raises(ValueError, match="'meta'"):
        save_npz(tmp_path / "x.npz", {}, {"meta": np.zeros(1)})


def test_load_or_build_builds_once_then_loads(tmp_path):
    path, calls = tmp_path / "x.npz", []

    def build():
        calls.append("build")
        return {"audio": np.ones(3)}

    def save(data, where):
        save_npz(where, {}, data)

    def load(where):
        return load_npz(where)[1]

    first = load_or_build(path, load, build, save)
    second = load_or_build(path, load, build, save)
    assert calls == ["build"] and np.array_equal(first["audio"], second["audio"])


def test_a_damaged_file_is_rebuilt_with_a_warning(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="unreadable"):
        data = load_or_build(path, lambda p: load_npz(p)[1], lambda: {"a": np.zeros(2)},
                             lambda d, p: save_npz(p, {}, d))  # fmt: skip
    assert np.array_equal(data["a"], np.zeros(2)) and load_npz(path)[1]["a"].shape == (2,)


def test_no_path_means_no_cache(tmp_path):
    saved = []
    load_or_build(None, lambda p: 1 / 0, lambda: 7, lambda d, p: saved.append(p))
    assert saved == []
