"""Figures with controls: live in JupyterLab, drawn once in a static page.

`interact(draw, **controls)` is `ipywidgets.interactive`: moving a slider calls ``draw`` again
with the controls' new values and redraws its figure. A page without a kernel (the book that
`make book` builds, with ``COURSE_STATIC=1``) has no Python to call when a slider moves, so
there `interact` draws the figure once, at the controls' starting values, and names the
controls the live lesson has: the reader sees a figure, not a dead slider.

Notebook: 01_attention_as_weighted_average, 02-05 (temperature, frame and parameter sliders).
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets

from .core import is_static

__all__ = ["interact"]


def interact(draw: Callable[..., object], **controls: ipywidgets.ValueWidget):
    """Call ``draw(**values)`` now and each time a control moves; show its figure.

    Args:
        draw: draws one figure (and calls ``plt.show()``) from keyword arguments named like
            the controls.
        **controls: one ipywidgets control with a ``value`` per argument of ``draw``, e.g.
            ``temperature=FloatLogSlider(value=1.0, base=10, min=-1, max=1)``.

    Returns:
        The ``ipywidgets.interactive`` box (end a cell with it to show it), or None in a
        static page, where the figure has been drawn once and a line names the controls.

    Example (as the book runs it; in JupyterLab the same call returns the sliders):
        >>> import os
        >>> os.environ["COURSE_STATIC"] = "1"
        >>> interact(lambda n: print(f"drawn at n={n}"), n=ipywidgets.IntSlider(value=3, max=9))
        drawn at n=3
        (In JupyterLab, controls for n redraw this figure.)
        >>> del os.environ["COURSE_STATIC"]
    """
    if not callable(draw):
        raise TypeError(f"draw must be a function of the controls' values, got {draw!r}")
    if not controls:
        raise ValueError("interact needs at least one control, e.g. index=IntSlider(max=9)")
    for name, control in controls.items():
        if not isinstance(control, ipywidgets.ValueWidget):
            raise TypeError(
                f"control {name!r} must be an ipywidgets control with a value (IntSlider, "
                f"FloatLogSlider, SelectionSlider...), got {type(control).__name__}"
            )
    if not is_static():
        return ipywidgets.interactive(draw, **controls)
    draw(**{name: control.value for name, control in controls.items()})
    print(f"(In JupyterLab, controls for {', '.join(controls)} redraw this figure.)")
    return None
