"""Lessons 00 and 01 as a learner sees them in JupyterLab: every cell runs without an error,
the clips play, a slider redraws its figure, exercises answer in plain text and keep their
solutions hidden.

The lessons run in the CI profile, from a copy (a test never writes into notebooks/), with the
generated data in a temporary folder.
"""

import re
import shutil
from pathlib import Path

import browser_lab as lab  # registered by tests/browser/conftest.py
import pytest
import torch
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from course_utils.core.runtime import DATA_DIR_ENV
from course_utils.exercises import check, list_exercises, solution

ROOT = Path(__file__).resolve().parents[2]
LESSONS = {
    "00": "00_welcome_and_setup.ipynb",
    "01": "01_attention_as_weighted_average.ipynb",
}
# How many interactive figures (ipywidgets' interact: sliders over a plot) each lesson has.
INTERACTIVE = {"00": 0, "01": 1}
# A typical mistake per lesson, as a learner would type it, to see its hint in the page.
MISTAKES = {
    "00": ("00.duration_ms", "lambda num_samples, sample_rate: num_samples / sample_rate"),
    "01": ("01.softmax_over_keys", "lambda scores: torch.softmax(scores, dim=1)"),
}


@pytest.fixture(scope="module")
def lab_browser(tmp_path_factory):
    """One JupyterLab server (on copies of the lessons) and one Chromium for the module."""
    folder = tmp_path_factory.mktemp("lessons")
    for name in LESSONS.values():
        shutil.copy(ROOT / "notebooks" / name, folder / name)
    env = {"COURSE_PROFILE": "ci", DATA_DIR_ENV: str(tmp_path_factory.mktemp("data"))}
    with (
        lab.LabServer(folder, tmp_path_factory.mktemp("lab"), env=env) as server,
        lab.chromium() as driver,
    ):
        yield server, driver


@pytest.fixture(scope="module")
def lesson_page(request, lab_browser):
    """(lesson, LabPage, its cells after running them all): one lesson open at a time (the
    tests are parametrised indirectly, so pytest runs each lesson's tests together)."""
    server, driver = lab_browser
    page = lab.LabPage(driver, server, LESSONS[request.param])
    yield request.param, page, page.run_all(timeout=300)
    page.close()


def _code(cells: list[dict]) -> list[dict]:
    return [cell for cell in cells if cell["cell_type"] == "code"]


def _last_line(cell: dict) -> str:
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return source.strip().splitlines()[-1] if source.strip() else ""


@pytest.mark.parametrize("lesson_page", LESSONS, indirect=True)
def test_every_cell_runs_without_an_error(lesson_page):
    lesson, page, cells = lesson_page
    assert not lab.LabPage.errors(cells), lab.LabPage.errors(cells)[0]["traceback"][-3:]
    assert all(cell["execution_count"] for cell in _code(cells))


@pytest.mark.parametrize("lesson_page", LESSONS, indirect=True)
def test_the_clips_load_in_their_players(lesson_page):
    lesson, page, _ = lesson_page
    players = page.audio_players()
    assert players, "no audio player in the page"
    for player in players:
        assert player["error"] is None and 0.1 < player["duration"] < 30, player


@pytest.mark.parametrize("lesson_page", LESSONS, indirect=True)
def test_exercises_answer_in_plain_text_and_hide_their_solutions(lesson_page):
    lesson, page, cells = lesson_page
    names = [name for name in list_exercises() if name.startswith(f"{lesson}.")]
    asks = [cell for cell in _code(cells) if _last_line(cell).startswith("cu.exercises.check(")]
    shown = [lab.LabPage.text(cell) for cell in asks]
    assert len(shown) == len(names), shown
    assert all("not attempted" in text for text in shown), shown

    name, mistake = MISTAKES[lesson]
    cell = page.run_cell(f"import torch\ncu.exercises.check({name!r}, {mistake})")
    expected = check(name, eval(mistake, {"torch": torch})).message
    assert not lab.LabPage.errors([cell]) and lab.LabPage.text(cell) == expected
    hint = expected.splitlines()[-1]
    page.wait_for_text(hint[:60], timeout=10)  # shown in the page, as text

    page_text = page.js("return document.body.innerText")
    for name in names:
        for line in solution(name).splitlines():
            line = line.strip()
            if line and not re.match(r"[\"']{3}|#", line):  # code, not docstrings or comments
                assert line not in page_text, f"{name}'s solution shows: {line!r}"


@pytest.mark.parametrize("lesson_page", LESSONS, indirect=True)
def test_moving_a_slider_redraws_its_figure(lesson_page):
    lesson, page, _ = lesson_page
    explorers = page.driver.find_elements(By.CSS_SELECTOR, ".widget-interact")
    assert len(explorers) >= INTERACTIVE[lesson], f"{len(explorers)} interactive figures"
    for explorer in explorers:
        _move_a_slider_and_wait_for_a_new_figure(page, explorer)


def _move_a_slider_and_wait_for_a_new_figure(page, explorer) -> None:
    def figure() -> str:
        return explorer.find_element(By.CSS_SELECTOR, ".widget-output img").get_attribute("src")

    before = figure()
    explorer.find_element(By.CSS_SELECTOR, ".noUi-handle").click()
    page.driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)  # one step, as a learner
    page.wait_for("the figure did not change", lambda: figure() != before)
