"""The repository keeps its promises: clean notebooks, one dependency list, lessons listed."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _clean_notebooks_tool():
    spec = importlib.util.spec_from_file_location(
        "clean_notebooks", ROOT / "tools" / "clean_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_lessons():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_welcome_and_setup.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_clean(path):
    problems = _clean_notebooks_tool().problems(json.loads(path.read_text(encoding="utf-8")))
    assert not problems, f"{path.name}: {problems}; run `make clean-notebooks`"


def test_the_clean_check_catches_outputs():
    tool = _clean_notebooks_tool()
    dirty = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 3,
                "metadata": {"collapsed": True},
                "outputs": [{"output_type": "stream", "text": "hi"}],
                "source": "1",
            }
        ],
        "metadata": {"kernelspec": {}, "widgets": {}},
    }
    assert len(tool.problems(dirty)) == 4
    assert tool.problems(tool.clean(dirty)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lessons_start_with_version_check_and_seed(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first_code = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "require_version" in first_code and "set_seed" in first_code


def _environment_yml_pip_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:") + 1
    return {line.strip()[2:] for line in lines[start:] if line.strip().startswith("- ")}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    assert _environment_yml_pip_requirements() == expected


def test_only_torch_and_torchaudio_are_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name = re.split(r"[<>=!~ ]", requirement)[0]
        if name in ("torch", "torchaudio"):
            assert requirement == f"{name}==2.11.*"
        else:
            bounds = requirement.split(";")[0]
            assert "==" not in bounds and "<" in bounds, f"{requirement} needs a bounded range"


def test_readme_lists_every_lesson_and_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    for path in NOTEBOOKS:
        assert path.stem.split("_", 1)[1] in readme, f"{path.name} is missing from the README"
