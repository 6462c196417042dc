"""JupyterLab in headless Chromium, for tests that need the real front end.

`LabServer` starts ``jupyter lab`` as `make lab` does (with ``--no-browser``, a token, a free
localhost port and a temporary settings folder) and shuts it down through its REST API.
`chromium` opens the system Chromium through the system chromedriver (selenium never
downloads a driver). `LabPage` opens a notebook, runs every cell through JupyterLab's own
``notebook:run-all-cells`` command (the server exposes the app as ``window.jupyterapp``), waits
until the kernel is idle and every code cell has an execution count (or an error stopped the
run), and returns each cell as nbformat JSON (source, execution_count, outputs). Tests then
assert on text and errors, add and run a cell as a learner would (`run_cell`), ask the kernel
directly (`kernel_output`), click, and read the page (`wait_for_text`, `audio_players`).

Each test module loads this file (tests are imported by path, not as a package) and builds its
fixtures on it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL_HINT = "on Debian/Ubuntu: sudo apt-get install chromium chromium-driver"
# The server's user settings: no news or update checks (they would reach for the internet),
# no autosave (a test never writes outputs into a notebook), and every cell kept in the page
# (JupyterLab otherwise leaves cells out of view unrendered), so that tests can read them all.
_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and its driver exist."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    return f"{' and '.join(missing)} not found ({INSTALL_HINT})" if missing else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """``jupyter lab`` serving `root` on localhost until `stop` (a context manager too).

    Args:
        root: the folder the server shows (notebooks are opened relative to it).
        workdir: where its settings, runtime files and log go (a temporary folder).
        env: extra environment variables for the server and its kernels.
        timeout: seconds to wait for it to answer.
    """

    def __init__(self, root: Path, workdir: Path, env: dict | None = None, timeout: float = 60):
        self.root, self.token, self.port = Path(root), secrets.token_hex(16), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "jupyter-lab.log"
        settings = workdir / "settings"
        for name, values in _SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # containers run as root
        environment = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(workdir / "config"),  # the user's config stays out
            "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
            **(env or {}),
        }
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=environment,
                cwd=self.root, start_new_session=True,  # its kernels stop with it
            )  # fmt: skip
        self._wait_until_ready(timeout)

    def api(self, path: str, method: str = "GET") -> dict:
        """Call the server's REST API (e.g. "api/status") and return its JSON answer."""
        request = urllib.request.Request(
            f"{self.url}/{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else {}

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited ({self.process.returncode}):\n{self.tail()}"
                )
            try:
                self.api("api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"jupyter lab did not answer within {timeout} s:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        """The end of the server's log (for failure messages)."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, timeout: float = 15) -> None:
        """Shut down the server and its kernels (the REST API first, then signals)."""
        if self.process.poll() is not None:
            return
        try:
            self.api("api/shutdown", method="POST")
            self.process.wait(timeout)
        except (urllib.error.URLError, ConnectionError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def chromium(*arguments: str, width: int = 1280, height: int = 1600) -> webdriver.Chrome:
    """Headless Chromium through the system chromedriver, with extra command-line `arguments`
    (e.g. the fake microphone flags)."""
    # Explicit paths keep selenium-manager out; SE_OFFLINE makes sure it never downloads.
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", *arguments):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


# The page-side helpers, defined once per page: find the notebook panel by its path, run it,
# and describe its cells as nbformat JSON.
_PAGE_HELPERS = """
window.__courseTest = {
  panel(path) {
    const app = window.jupyterapp;
    if (!app) return null;
    return Array.from(app.shell.widgets("main")).find(
      (w) => w.context && w.context.path === path && w.content && w.sessionContext) || null;
  },
  state(path) {
    const panel = this.panel(path);
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    return {
      kernel: kernel ? kernel.status : "none",
      cells: panel.content.widgets.map((cell) => cell.model.toJSON()),
    };
  },
};
"""


class LabPage:
    """One notebook opened in JupyterLab in `driver`; `path` is relative to the server's root.

    Example:
        page = LabPage(driver, server, "lesson.ipynb")
        cells = page.run_all()
        assert not LabPage.errors(cells)
    """

    def __init__(self, driver: webdriver.Chrome, server: LabServer, path: str, timeout=90):
        self.driver, self.server, self.path = driver, server, path
        driver.set_script_timeout(timeout)
        driver.get(f"{server.url}/lab/tree/{path}?token={server.token}")
        self.wait_for(f"JupyterLab did not start for {path}",
                      lambda: self._js("return !!window.jupyterapp"), timeout)  # fmt: skip
        self._await("await window.jupyterapp.started; await window.jupyterapp.restored;")
        self._js(_PAGE_HELPERS)
        self.wait_for(f"no notebook panel for {path}",
                      lambda: self._js("return !!__courseTest.panel(arguments[0])", path),
                      timeout)  # fmt: skip
        self._await(
            "const panel = __courseTest.panel(arguments[0]);"
            "await panel.context.ready; await panel.sessionContext.ready;"
            "if (!panel.sessionContext.session) throw new Error('no kernel was started');",
            path,
        )

    def _js(self, script: str, *arguments):
        return self.driver.execute_script(script, *arguments)

    def _await(self, body: str, *arguments):
        """Run async JavaScript `body` (which may `await` and `return`); raise on its errors."""
        script = (
            "const done = arguments[arguments.length - 1];"
            f"(async () => {{ {body} }})().then((value) => done({{value}}),"
            " (error) => done({error: String(error && error.stack || error)}));"
        )
        answer = self.driver.execute_async_script(script, *arguments)
        if "error" in answer:
            raise JavascriptException(answer["error"])
        return answer.get("value")

    def wait_for(self, message: str, condition, timeout: float = 30) -> object:
        """Wait until `condition()` is true and return its value; TimeoutError(`message`)."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(
                lambda _: condition()
            )
        except TimeoutException:
            raise TimeoutError(f"{message} within {timeout} s") from None

    def state(self) -> dict:
        """{"kernel": its status, "cells": every cell as nbformat JSON} now."""
        return self._js("return __courseTest.state(arguments[0])", self.path)

    def run_all(self, timeout: float = 120) -> list[dict]:
        """Run every cell (JupyterLab stops at the first error) and return the cells once the
        kernel is idle and each code cell has run or an error was shown."""
        self.driver.set_script_timeout(timeout)
        self._await(
            "const app = window.jupyterapp, panel = __courseTest.panel(arguments[0]);"
            "app.shell.activateById(panel.id);"
            "await app.commands.execute('notebook:run-all-cells');",
            self.path,
        )

        def finished():
            state = self.state()
            code = [cell for cell in state["cells"] if cell["cell_type"] == "code"]
            ran = all(cell["execution_count"] is not None for cell in code)
            return state["cells"] if state["kernel"] == "idle" and (
                ran or self.errors(state["cells"])) else None  # fmt: skip

        return self.wait_for(f"{self.path} did not finish running", finished, timeout)

    def kernel_output(self, code: str, timeout: float = 60) -> str:
        """Run `code` in the notebook's kernel (no new cell) and return what it printed."""
        self.driver.set_script_timeout(timeout)
        return self._await(
            "const panel = __courseTest.panel(arguments[0]);"
            "const future = panel.sessionContext.session.kernel.requestExecute("
            "  {code: arguments[1], store_history: false});"
            "let text = '', failure = null;"
            "future.onIOPub = (msg) => {"
            "  if (msg.header.msg_type === 'stream') text += msg.content.text;"
            "  if (msg.header.msg_type === 'error') failure = msg.content.traceback.join('\\n');"
            "};"
            "await future.done;"
            "if (failure) throw new Error(failure);"
            "return text;",
            self.path,
            code,
        )

    def run_cell(self, code: str, timeout: float = 60) -> dict:
        """Add a code cell holding `code` at the end, run it as a learner would, and return
        it (nbformat JSON) once it has run and the kernel is idle."""
        self.driver.set_script_timeout(timeout)
        index = self._await(
            "const app = window.jupyterapp, panel = __courseTest.panel(arguments[0]);"
            "const notebook = panel.content, at = notebook.model.cells.length;"
            "notebook.model.sharedModel.insertCell(at, {cell_type: 'code', source: arguments[1]});"
            "app.shell.activateById(panel.id);"
            "notebook.activeCellIndex = at;"
            "await app.commands.execute('notebook:run-cell');"
            "return at;",
            self.path,
            code,
        )

        def finished():
            state = self.state()
            cell = state["cells"][index]
            return cell if state["kernel"] == "idle" and cell["execution_count"] else None

        return self.wait_for(f"the new cell of {self.path} did not run", finished, timeout)

    def close(self, timeout: float = 30) -> None:
        """Shut down the notebook's kernel and close its tab (unsaved: nothing is written)."""
        self.driver.set_script_timeout(timeout)
        self._await(
            "const panel = __courseTest.panel(arguments[0]);"
            "if (panel) { await panel.sessionContext.shutdown(); panel.dispose(); }",
            self.path,
        )

    def js(self, script: str, *arguments):
        """Run JavaScript `script` in the page and return what it returns."""
        return self._js(script, *arguments)

    def audio_players(self, timeout: float = 30) -> list[dict]:
        """Every <audio> of the page once each has loaded its metadata or failed:
        {"duration": seconds, "error": the MediaError code or None}."""
        script = (
            "return Array.from(document.querySelectorAll('audio')).map((a) => ({"
            " ready: a.readyState >= 1 || a.error !== null,"
            " duration: a.duration, error: a.error ? a.error.code : null}))"
        )

        def loaded():
            players = self._js(script)
            return players if all(player["ready"] for player in players) else None

        return self.wait_for("audio players did not load", loaded, timeout)

    def click(self, css: str, timeout: float = 30) -> None:
        """Click the first visible element matching `css` (a real, trusted click)."""
        found = self.wait_for(f"nothing to click at {css!r}", lambda: self._visible(css), timeout)
        found[0].click()

    def _visible(self, css: str) -> list:
        return [e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]

    def wait_for_text(self, text: str, css: str = ".jp-OutputArea-output", timeout=60) -> str:
        """Wait until an element matching `css` shows `text`; return that element's text."""

        def shown():
            for element in self._visible(css):
                if text in element.text:
                    return element.text
            return None

        return self.wait_for(f"{text!r} not shown in {css!r}", shown, timeout)

    @staticmethod
    def errors(cells: list[dict]) -> list[dict]:
        """The error outputs of `cells` (tracebacks of exceptions)."""
        return [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]

    @staticmethod
    def text(cell: dict) -> str:
        """What a cell printed and returned as plain text (streams, then text/plain results)."""
        parts = []
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                parts.append(_joined(output["text"]))
            elif "data" in output and "text/plain" in output["data"]:
                parts.append(_joined(output["data"]["text/plain"]))
        return "".join(parts)


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)
