"""The repository keeps its promises: clean notebooks, one dependency list, lessons listed."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from course_utils.core.environment import known_bad_pair, normalize_name, read_lock

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


def _environment_yml_pip_lines() -> list[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:") + 1
    return [line.strip()[2:] for line in lines[start:] if line.strip().startswith("- ")]


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(line) for line in lines]


def test_environment_yml_installs_the_locked_versions():
    assert _environment_yml_pip_lines() == ["-c requirements.lock", "-e .[dev]"]


@pytest.mark.parametrize("target", ["install", "lock"])
def test_make_installs_through_the_lock(target):
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK   := requirements.lock" in makefile
    assert "-m pip install --quiet -c $(LOCK) -e '.[dev]'" in makefile
    assert "$(STAMP): pyproject.toml $(LOCK)" in makefile
    assert f"\n{target}:" in makefile


def test_every_dependency_has_a_bounded_range():
    for requirement in _requirements():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators == {">=", "<"}, f"{requirement} needs a range: >= lower, < upper"


def test_the_ranges_admit_no_known_bad_torch_pair():
    ranges = {r.name: r.specifier for r in _requirements()}
    lowest_torch = min(v for v in ("2.11.0", "2.14.0", "2.14.1") if v in ranges["torch"])
    assert lowest_torch == "2.14.1"
    for torchaudio in ("2.11.0", "2.11.1"):
        if torchaudio in ranges["torchaudio"]:
            assert known_bad_pair(lowest_torch, torchaudio) is None


def test_the_lock_pins_every_dependency_within_its_range():
    pins = read_lock()
    for requirement in _requirements():
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = normalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is missing from requirements.lock"
        assert pins[name] in requirement.specifier, f"lock {name}=={pins[name]} vs {requirement}"


def test_readme_lists_every_lesson_and_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    for path in NOTEBOOKS:
        assert path.stem.split("_", 1)[1] in readme, f"{path.name} is missing from the README"


def _readme_run_times() -> dict[str, tuple[str, str]]:
    """Lesson file name -> (full, CI) run times, from the README's lesson table."""
    times = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        link = re.search(r"\(notebooks/(\S+\.ipynb)\)", line)
        if link and len(cells) == 4 and " / " in cells[3]:
            full, ci = cells[3].split(" / ")
            times[link.group(1)] = (full, ci)
    return times


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_run_times_are_stated_identically_in_the_lesson_and_the_readme(path):
    full, ci = _readme_run_times()[path.name]
    header = "".join(json.loads(path.read_text())["cells"][0]["source"])
    stated = " ".join(header.split())  # line breaks inside the sentence do not matter
    expected = f"**Run time** (2-core CPU, no GPU): {full} in the full profile, {ci} in the CI"
    assert expected in stated, f"{path.name}: the header should say {expected!r} as the README does"


def test_make_lab_opens_lesson_00():
    """The browser, and the URL printed with --no-browser, land on lesson 00, not the launcher."""
    makefile = (ROOT / "Makefile").read_text()
    assert "LESSON_00 := notebooks/00_welcome_and_setup.ipynb" in makefile
    assert "--LabApp.default_url=/lab/tree/$(LESSON_00)" in makefile
    assert (ROOT / "notebooks" / "00_welcome_and_setup.ipynb").is_file()


def test_license_uses_the_current_form():
    """`license = { text = ... }` makes setuptools warn on every install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


def test_the_book_holds_every_lesson_in_order():
    yaml = pytest.importorskip("yaml")
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    lessons = [name for name in files if name.startswith("notebooks/")]
    assert lessons == [f"notebooks/{path.stem}" for path in NOTEBOOKS]
    for name in [toc["root"], *files]:
        assert any((ROOT / f"{name}{suffix}").exists() for suffix in (".md", ".ipynb")), name


def test_make_book_executes_the_full_profile_as_static_pages():
    recipe = (ROOT / "Makefile").read_text().split("\nbook:")[1].split("\n\n")[0]
    assert "COURSE_PROFILE=full" in recipe and "COURSE_STATIC=1" in recipe
    config = (ROOT / "book" / "_config.yml").read_text()
    assert "execute_notebooks: force" in config and "allow_errors: false" in config
