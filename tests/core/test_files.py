"""Tests for course_utils.core.files: atomic writes, no silent overwrite."""

import pytest

from course_utils.core.files import FileExistsNotOverwrittenError, atomic_write


def test_atomic_write_moves_into_place(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_write(target) as tmp:
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done" and list(target.parent.iterdir()) == [target]


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target, overwrite=True) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_existing_file_is_not_overwritten_silently(tmp_path):
    target = tmp_path / "mine.txt"
    target.write_text("user data")
    with pytest.raises(FileExistsNotOverwrittenError, match="overwrite=True"):
        with atomic_write(target):
            pass
    assert target.read_text() == "user data"
