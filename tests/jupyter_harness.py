"""A real Jupyter server (JupyterLab, Notebook 7) on loopback with isolated config, for tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterProcess:
    """``jupyter server`` (or ``lab``, ``notebook``) with temp config/data/runtime dirs and a
    known token. ``app`` is the module run: ``jupyter_server``, ``jupyterlab`` or ``notebook``."""

    def __init__(
        self, workdir: Path, *, app: str = "jupyter_server", env: dict[str, str] | None = None
    ) -> None:
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        dirs = {name: workdir / name for name in ("config", "data", "runtime", "ws", "settings")}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        full_env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTER_PLATFORM_DIRS": "1",
            **(env or {}),
        }
        args = [
            sys.executable, "-m", app, "--no-browser", "--allow-root", "--ip=127.0.0.1",
            f"--port={self.port}", f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={workdir}", "--ServerApp.port_retries=0",
        ]  # fmt: skip
        # Both front ends restore saved workspaces and settings unless pointed at empty folders.
        front = {"jupyterlab": "LabApp", "notebook": "JupyterNotebookApp"}.get(app)
        if front:
            args += [
                f"--{front}.workspaces_dir={dirs['ws']}",
                f"--{front}.user_settings_dir={dirs['settings']}",
            ]
        self.log = open(workdir / "jupyter.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args,
            env=full_env,
            cwd=workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.logfile = workdir / "jupyter.log"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter exited:\n{self.logfile.read_text()[-3000:]}")
            try:
                status, _ = self.get("api/status")
                if status == 200:
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"jupyter did not start:\n{self.logfile.read_text()[-3000:]}")

    def get(
        self, path: str, headers: dict[str, str] | None = None, timeout: float = 60
    ) -> tuple[int, bytes]:
        return self.request("GET", path, headers=headers, timeout=timeout)

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, timeout: float = 60
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(
            f"{self.base}/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def widget_notebook(work: Path, app: str, cells: list[str], *, frames: int = 6) -> JupyterProcess:
    """Start a ready Jupyter ``app`` in `work` holding ``widget.ipynb``: a generated cine of
    `frames` frames in `work`/data, and `cells` (``{data}`` in a cell stands for that folder)."""
    import nbformat

    from . import dicomgen

    data = work / "data"
    data.mkdir()
    dicomgen.write_multiframe(data, frames=frames, rows=128, columns=160, name="cine.dcm")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.replace("{data}", str(data))) for c in cells]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["kernelspec"] = kernel
    nbformat.write(nb, work / "widget.ipynb")
    server = JupyterProcess(work, app=app)
    server.wait_ready()
    return server


def run_notebook_cell(page: Any, index: int, attempts: int = 20) -> None:
    """Run cell ``index`` of the open notebook (JupyterLab or Notebook 7) in a Playwright ``page``.

    Repeats Shift+Enter until the cell shows an execution count: a key press sent before the
    kernel is connected is lost.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    for _ in range(attempts):
        _dismiss_dialog(page)
        try:
            cell.locator(".jp-InputArea-editor").click(timeout=10_000)
        except PlaywrightTimeout:  # something covered the cell: look again
            continue
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                """(i) => { const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
                    const p = c && c.querySelector('.jp-InputPrompt');
                    return !!p && /\\[\\d+\\]/.test(p.textContent); }""",
                arg=index,
                timeout=5_000,
            )
            return
        except Exception:  # the kernel was not connected yet: try again
            continue
    raise TimeoutError(f"cell {index} did not run")


def _dismiss_dialog(page: Any) -> None:
    """Accept a JupyterLab dialog left over the notebook (seen once in CI: a modal dialog over
    the first cell while the kernel connected); its text goes to the test's output."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        print(f"JupyterLab dialog accepted: {dialog.first.inner_text()[:300]!r}")
        accept = dialog.first.locator(".jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        dialog.first.wait_for(state="detached", timeout=10_000)
