"""Run the real ``dcmview`` command in a subprocess and talk to it over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

URL_LINE = re.compile(r"server running at (\S+)")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class ApiClient:
    """``get`` and ``put_json`` over a ``request(method, path, body, headers, token)``: the
    calls the tests make of the API, whichever door it is reached by (see tests/transports.py)."""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: bool = True,
    ) -> Reply:
        raise NotImplementedError

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def put_json(self, path: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(payload).encode()
        return self.request(
            "PUT", path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
        )


class DcmviewProcess(ApiClient):
    """``python -m dcmview --no-browser ARGS`` with its output collected line by line."""

    def __init__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        new_session: bool = False,
    ):
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dcmview", "--no-browser", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=full_env,
            cwd=cwd,
            start_new_session=new_session,  # its own process group, as a terminal gives it
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for t in self._readers:
            t.start()
        self.url: str | None = None
        self.token: str | None = None
        self.host = "127.0.0.1"
        self.port = 0

    @staticmethod
    def _pump(stream: Any, sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.stdout + self.stderr)

    def wait_line(self, *words: str, timeout: float = 30) -> str:
        """The first stdout line holding every one of ``words`` (it may come after the API says
        the scan is complete: the server publishes the list, then prints its summary)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stdout):
                if all(word in line for word in words):
                    return line
            time.sleep(0.02)
        raise TimeoutError(f"no line with {words} within {timeout} s:\n{self.output}")

    def wait_url(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stdout):
                m = URL_LINE.search(line)
                if m:
                    self.url = m.group(1)
                    parts = urlsplit(self.url)
                    self.host = parts.hostname or "127.0.0.1"
                    self.port = parts.port or 80
                    frag = parts.fragment
                    self.token = frag.split("token=", 1)[1] if "token=" in frag else None
                    return self.url
            if self.proc.poll() is not None:
                raise RuntimeError(f"dcmview exited with {self.proc.returncode}:\n{self.output}")
            time.sleep(0.02)
        raise TimeoutError(f"no URL printed within {timeout} s:\n{self.output}")

    def wait_scan(self, timeout: float = 60) -> dict[str, Any]:
        self.wait_url(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.get("api/health").json()
            if health["scan_complete"]:
                return health
            time.sleep(0.02)
        raise TimeoutError("scan did not complete")

    def wait_layers(self, timeout: float = 60) -> list[dict[str, Any]]:
        """The layer list, once read (just after the scan: ``/api/layers`` answers 503 before)."""
        self.wait_scan(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.get("api/layers")
            if reply.status == 200:
                return reply.json()
            time.sleep(0.02)
        raise TimeoutError("the layers were not read")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: bool = True,
    ) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        all_headers = dict(headers or {})
        if token and self.token and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {self.token}"
        conn.request(method, "/" + path.lstrip("/"), body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        conn.close()
        return reply

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        for t in self._readers:
            t.join(2)
        return code

    def wait_exit(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        for t in self._readers:
            t.join(2)
        return code

    def __enter__(self) -> DcmviewProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.stop()


def run_cli(
    *args: str, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m dcmview --no-browser ARGS`` to completion, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "dcmview", "--no-browser", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def rss_bytes(pid: int) -> int:
    """A process's resident memory (VmRSS) in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS line")
