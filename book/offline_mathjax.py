"""The book's equations typeset offline: MathJax 2 from the `jupyter-server-mathjax` package
(Jupyter's own copy) goes into the book's _static/ folder, so pages need no CDN."""

from pathlib import Path

import jupyter_server_mathjax

MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"  # MathJax.js, config/, jax/...


def _use_local_mathjax(app, config) -> None:
    config.html_static_path.append(str(MATHJAX))  # its contents are copied into _static/
    config.mathjax_path = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"  # relative to _static/
    # MathJax 2 reads its own settings: typeset the math and the cell outputs that MyST marks
    # inside pages otherwise ignored (MyST's MathJax 3 settings would not apply).
    config.myst_update_mathjax = False
    config.mathjax3_config = None
    config.mathjax2_config = {
        "tex2jax": {"processClass": "tex2jax_process|mathjax_process|math|output_area",
                    "processEscapes": True},
    }  # fmt: skip


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
