"""`interact`: a live ipywidgets box in JupyterLab, one figure drawn in a static page."""

import ipywidgets
import numpy as np
import pytest

from course_utils import interact
from course_utils.audio import Microphone
from course_utils.core.runtime import STATIC_ENV


def test_live_interact_calls_draw_with_each_new_value(monkeypatch):
    monkeypatch.delenv(STATIC_ENV, raising=False)
    calls = []
    box = interact(lambda n, t: calls.append((n, t)),
                   n=ipywidgets.IntSlider(value=3, max=9),
                   t=ipywidgets.FloatSlider(value=0.5))
    assert isinstance(box, ipywidgets.interactive)
    assert calls == [(3, 0.5)]  # drawn once at the starting values
    box.children[0].value = 7
    assert calls[-1] == (7, 0.5)


@pytest.mark.parametrize("flag", ["1", "yes"])
def test_static_interact_draws_once_and_names_the_controls(monkeypatch, capsys, flag):
    monkeypatch.setenv(STATIC_ENV, flag)
    calls = []
    box = interact(lambda n: calls.append(n), n=ipywidgets.IntSlider(value=4, max=9))
    assert box is None and calls == [4]
    assert "controls for n redraw this figure" in capsys.readouterr().out


def test_static_flag_zero_means_live(monkeypatch):
    monkeypatch.setenv(STATIC_ENV, "0")
    assert isinstance(interact(lambda n: n, n=ipywidgets.IntSlider()), ipywidgets.interactive)


@pytest.mark.parametrize(
    "draw, controls, match",
    [
        (None, {"n": ipywidgets.IntSlider()}, "draw must be a function"),
        (print, {}, "at least one control"),
        (print, {"n": 3}, "control 'n' must be an ipywidgets control"),
    ],
)
def test_interact_says_what_it_expected(draw, controls, match):
    with pytest.raises((TypeError, ValueError), match=match):
        interact(draw, **controls)


def test_microphone_in_a_static_page_says_what_stands_there(monkeypatch):
    monkeypatch.setenv(STATIC_ENV, "1")
    bundle = Microphone()._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/markdown"}
    assert "Record button" in bundle["text/plain"]
    monkeypatch.delenv(STATIC_ENV)
    mic = Microphone()
    assert "application/vnd.jupyter.widget-view+json" in mic._repr_mimebundle_()
    mic.simulate(np.zeros(160, dtype=np.float32), 16000)  # still records when live
    assert mic.recordings == 1
