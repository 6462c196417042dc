"""The lessons use one exercise mechanism: each exercise is in the bank, its cell checks the
learner's stub, the next cell verifies the check, and the solution stays hidden until asked."""

import json
import re
from pathlib import Path

import pytest

from course_utils import exercises

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUB_CHECK = re.compile(r'^cu\.exercises\.check\("(\d\d\.\w+)", (\w+)\)$', re.M)


def _cells(path):
    return [
        (cell["cell_type"], "".join(cell["source"]))
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_hand_written_checker_or_visible_solution(path):
    for index, (kind, source) in enumerate(_cells(path)):
        where = f"{path.name} cell {index}"
        if kind == "code":
            for banned in ("def check_", "exercises.register(", "ExerciseFailed", "_solution("):
                assert banned not in source, f"{where}: {banned!r} (exercises live in the bank)"
            assert "exercises.solution(" not in source, f"{where} prints a solution"
        else:
            assert "<summary><b>Solution" not in source, f"{where}: an empty solution heading"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_exercise_is_a_stub_a_verification_and_a_hidden_solution(path):
    cells, lesson, found = _cells(path), path.name[:2], set()
    for index, (kind, source) in enumerate(cells):
        match = STUB_CHECK.search(source) if kind == "code" else None
        if match is None:
            continue
        name, function = match.groups()
        found.add(name)
        assert f"def {function}(" in source and "return None" in source, f"{name}: no stub"
        assert cells[index - 1][0] == "markdown", f"{name}: the task comes first"
        verify_kind, verify = cells[index + 1]
        assert verify_kind == "code" and f'assert cu.exercises.verify("{name}")' in verify, name
        line_kind, line = cells[index + 2]
        assert line_kind == "markdown" and f'cu.exercises.show_solution("{name}")' in line, name
    registered = {name for name in exercises.list_exercises() if name.startswith(f"{lesson}.")}
    assert found == registered, (
        f"{path.name}: bank only {registered - found}, lesson only {found - registered}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_stub_as_stored_is_not_attempted(path):
    """A learner who runs the lesson before writing anything reads "not attempted", never a
    hint about a mistake they did not make (a stub may return None or a tuple of Nones)."""
    for kind, source in _cells(path):
        match = STUB_CHECK.search(source) if kind == "code" else None
        if match is None:
            continue
        name, function = match.groups()
        namespace = {}
        exec(source[: match.start()], namespace)  # the stub's definition, not its check
        result = exercises.check(name, namespace[function])
        assert result.status == "not attempted", f"{path.name} {name}: {result.message}"
