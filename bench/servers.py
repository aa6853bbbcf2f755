"""Start either program on given files, talk to it over one keep-alive connection, read its memory.

Both programs are driven the same way: a free loopback port chosen here and passed with
``--port``, the token fixed through ``DCMVIEW_TOKEN`` (both honour it), ``--no-browser``, and
stdout read line by line with the time each line arrived. Both print
``dcmview: loaded N DICOM file(s) ...`` once their scan is over, which marks the scan's end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKEN = "dcmview-bench-token-0123456789abcdefghijklmn"
LOADED_LINE = "dcmview: loaded "


@dataclass(frozen=True)
class Program:
    """How to launch one of the two viewers."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    def command(self, port: int, paths: list[Path]) -> list[str]:
        return [*self.argv, "--no-browser", "--port", str(port), *map(str, paths)]


def ours(python: str = sys.executable, root: Path = REPO) -> Program:
    """This repository's dcmview, run from the working tree (or another checkout: `root`).

    Its modules are compiled first and may be cached, as an installed wheel's are: with
    PYTHONDONTWRITEBYTECODE set (as on our build machines) every start compiled all of
    dcmview again, ~0.1 s that no installed copy pays."""
    subprocess.run([python, "-m", "compileall", "-q", str(root / "dcmview")], check=True)
    return Program(
        "ours",
        (python, "-m", "dcmview"),
        env={"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": ""},
        cwd=root,
    )


def original(binary: Path) -> Program:
    """The Rust binary of ``dcmview-py`` (never the Python wrapper: its pid must be the server)."""
    return Program("original", (str(binary),), env={"DCMVIEW_VSCODE_BYPASS": "1"})


def programs(
    parser: argparse.ArgumentParser, reference: Path | None, mine: Program
) -> list[Program]:
    """``mine``, and the original when ``--reference`` names its binary (else a note)."""
    chosen = [mine]
    if reference is None:
        print("no --reference: measuring ours only", file=sys.stderr, flush=True)
        return chosen
    if not os.access(reference, os.X_OK):
        parser.error(f"--reference {reference} is not an executable file")
    return [*chosen, original(reference.resolve())]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Reply:
    """One HTTP response, fully read."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class Client:
    """A keep-alive HTTP/1.1 client for one server (reconnects once if the server closed it)."""

    def __init__(self, port: int, token: str = TOKEN) -> None:
        self.port = port
        self.auth = {"Authorization": f"Bearer {token}"}
        self._conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Reply:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self._conn.request("GET", path, headers=self.auth)
                resp = self._conn.getresponse()
                body = resp.read()
                headers = {k.lower(): v for k, v in resp.getheaders()}
                return Reply(resp.status, headers, body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, path: str) -> dict:
        import json

        reply = self.get(path)
        if reply.status != 200:
            raise RuntimeError(f"GET {path} answered {reply.status}: {reply.body[:200]!r}")
        return json.loads(reply.body)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Server:
    """One running server; use as a context manager (stops the process on exit)."""

    def __init__(self, program: Program, paths: list[Path]) -> None:
        self.program = program
        self.port = free_port()
        env = {**os.environ, **program.env, "DCMVIEW_TOKEN": TOKEN}
        self.lines: list[tuple[float, str]] = []
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            program.command(self.port, paths),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=program.cwd,
        )
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._pump, args=(stream,), daemon=True).start()
        self.client = Client(self.port)
        self.url = f"http://127.0.0.1:{self.port}/#token={TOKEN}"
        self._peak = 0
        threading.Thread(target=self._sample, daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self.lines.append((time.perf_counter(), line.rstrip("\n")))

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            time.sleep(0.05)  # let the readers catch the last lines
            raise RuntimeError(
                f"{self.program.name} exited with {self.proc.returncode}:\n{self.output[-2000:]}"
            )

    def wait_health(self, timeout: float = 30.0) -> float:
        """Seconds from spawn until ``GET /api/health`` first answers 200 (fresh connections)."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/api/health", headers=self.client.auth)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            finally:
                conn.close()
            self._check_alive()
            time.sleep(0.002)
        raise TimeoutError(f"{self.program.name}: /api/health not 200 within {timeout} s")

    def wait_loaded(self, timeout: float = 120.0) -> float:
        """Seconds from spawn until the ``dcmview: loaded ...`` line (the scan is over)."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            for stamp, line in list(self.lines):
                if line.startswith(LOADED_LINE):
                    return stamp - self.started
            self._check_alive()
            time.sleep(0.002)
        raise TimeoutError(f"{self.program.name}: no 'loaded' line within {timeout} s")

    def file_index(self, path: Path) -> int:
        """The index the server gave `path` (the two programs order files differently)."""
        target = str(path)
        for f in self.client.json("/api/files")["files"]:
            if f["path"] == target or os.path.realpath(f["path"]) == os.path.realpath(target):
                return int(f["index"])
        raise KeyError(f"{self.program.name} does not list {path}")

    def memory(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in bytes, summed over the server and any child processes; the HWM
        part also counts children that have exited since (see :meth:`_sample`)."""
        rss = hwm = 0
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            fields = _status(pid)
            rss += fields.get("VmRSS", 0)
            hwm += fields.get("VmHWM", 0)
        return rss, max(hwm, self._peak)

    def _sample(self) -> None:
        """Every 20 ms, the summed VmHWM of the live processes: a worker process that exits
        takes its own high-water mark with it, so the peak is kept here."""
        while self.proc.poll() is None:
            hwm = 0
            for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
                hwm += _status(pid).get("VmHWM", 0)
            self._peak = max(self._peak, hwm)
            time.sleep(0.02)

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _status(pid: int) -> dict[str, int]:
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return fields


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
