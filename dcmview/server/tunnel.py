"""``--tunnel``: a reverse SSH forward from a login host to this server (for compute nodes).

``ssh -N -R <tunnel_port>:127.0.0.1:<port> -- <host>`` makes the login host's loopback port
reach this server; from a laptop one then forwards that port as usual. If ssh is missing or the
forward fails, dcmview keeps serving and prints what to run by hand.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import subprocess
import sys
import threading

_UP_MARKERS = ("remote forward success", "all expected forwarding replies received")


def ssh_command(host: str, remote_port: int, local_port: int, ssh: str = "ssh") -> list[str]:
    """The ssh invocation of SPEC §2 (``-v`` only so that we can see the forward come up)."""
    return [
        ssh,
        "-v",
        "-N",
        "-o", "ExitOnForwardFailure=yes",
        "-o", "ServerAliveInterval=10",
        "-o", "BatchMode=yes",
        "-o", "ConnectTimeout=15",
        "-R", f"{remote_port}:127.0.0.1:{local_port}",
        "--", host,
    ]  # fmt: skip


class Tunnel:
    """One ssh child process holding a reverse forward; ``start()`` says whether it came up."""

    def __init__(self, host: str, remote_port: int, local_port: int) -> None:
        self.host = host
        self.remote_port = remote_port or local_port
        self.local_port = local_port
        self.proc: subprocess.Popen[str] | None = None
        self.failure = ""
        self._up = threading.Event()
        self._forwarding = False  # ssh said the forward is up
        self._lines: list[str] = []

    def start(self, timeout: float = 20.0) -> bool:
        """Run ssh and wait until the forward is up, it fails, or ``timeout`` passes."""
        ssh = shutil.which("ssh")
        if ssh is None:
            self.failure = "ssh was not found on PATH"
            return False
        try:
            self.proc = subprocess.Popen(
                ssh_command(self.host, self.remote_port, self.local_port, ssh),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        except OSError as exc:
            self.failure = f"ssh could not be started: {exc.strerror}"
            return False
        reader = threading.Thread(target=self._read, daemon=True, name="dcmview-ssh")
        reader.start()
        self._up.wait(timeout)
        if self._forwarding and self.proc.poll() is None:
            return True
        self.failure = self._why()
        self.stop()
        return False

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            if len(self._lines) < 200:
                self._lines.append(line.rstrip())
            if any(marker in line for marker in _UP_MARKERS):
                self._forwarding = True
                self._up.set()
        # ssh ended (its stderr closes just before it exits: reaped first, or start() could
        # find it still running and call a failed forward up); wake start() to say why
        self.proc.wait()
        self._up.set()

    def _why(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            return "the forward did not come up in time"
        errors = [ln for ln in self._lines if not ln.startswith("debug") and ln.strip()]
        detail = errors[-1] if errors else "ssh exited"
        return f"ssh failed: {detail}"

    def wait(self) -> int | None:
        """Block until ssh exits; its exit code."""
        return self.proc.wait() if self.proc is not None else None

    def stop(self) -> None:
        """End the ssh child (SIGTERM, then SIGKILL)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def manual_instructions(host: str, remote_port: int, local_port: int) -> list[str]:
    """What to run by hand when the automatic tunnel cannot be made."""
    return [
        f"on this machine: ssh -N -R {remote_port}:127.0.0.1:{local_port} {host}",
        f"then on your computer: ssh -L {remote_port}:localhost:{remote_port} {host}",
    ]


def _die_with_parent() -> None:
    """In the ssh child: receive SIGTERM when dcmview dies, even if it is killed outright.

    Linux sends it when the *thread* that spawned the child ends, so the spawning thread must
    live as long as the tunnel (see ``Server._start_tunnel``).
    """
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
