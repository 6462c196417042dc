"""The browser tests' shared set-up: this folder's `lab.py` importable as `browser_lab`
(tests are imported by path, --import-mode=importlib, not as a package), and every test here
marked `browser` and skipped, saying why, where Chromium or chromedriver is missing."""

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _load_lab():
    spec = importlib.util.spec_from_file_location("browser_lab", HERE / "lab.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["browser_lab"] = module
    spec.loader.exec_module(module)
    return module


lab = sys.modules.get("browser_lab") or _load_lab()


def pytest_collection_modifyitems(items):
    missing = lab.browser_missing()
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if missing is not None:
                item.add_marker(pytest.mark.skip(reason=str(missing)))
