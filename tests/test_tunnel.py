"""``--tunnel`` against a real OpenSSH server on loopback that the test starts itself."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from . import dicomgen as gen

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH = shutil.which("ssh")
AVAILABLE = bool(os.path.exists(SSHD) and SSH and shutil.which("ssh-keygen"))
MISSING = "OpenSSH server/client not installed (apt-get install openssh-server openssh-client)"
if not AVAILABLE and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the tunnel tests: {MISSING}")
pytestmark = pytest.mark.skipif(not AVAILABLE, reason=MISSING)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    root.mkdir()
    gen.write_ct_series(root, count=1)
    return root


@pytest.fixture
def sshd(tmp_path: Path):
    """An sshd on a free loopback port and a PATH whose ``ssh`` knows the host as 'loginhost'."""
    d = tmp_path / "ssh"
    d.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True
        )
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = _free_port()
    config = d / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPidFile {d / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nPermitRootLogin yes\nAllowTcpForwarding yes\n"
        "GatewayPorts no\nLogLevel ERROR\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)
    server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    (d / "ssh_config").write_text(
        f"Host loginhost\n  HostName 127.0.0.1\n  Port {port}\n"
        f"  User {os.environ.get('USER', 'root')}\n"
        f"  IdentityFile {d / 'client_key'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
        f"Host deadhost\n  HostName 127.0.0.1\n  Port {_free_port()}\n"
    )
    bindir = d / "bin"
    bindir.mkdir()
    wrapper = bindir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {SSH} -F {d / "ssh_config"} "$@"\n')
    wrapper.chmod(0o755)
    yield {"path": f"{bindir}:{os.environ['PATH']}"}
    server.terminate()
    server.wait(10)


def _ssh_children(remote_port: int) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            cmd
            and cmd[0].endswith(b"ssh")
            and f"{remote_port}:127.0.0.1:".encode() in b" ".join(cmd)
        ):
            pids.append(int(pid))
    return pids


def _wait_line(proc, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proc.stdout + proc.stderr:
            if text in line:
                return line
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} not printed:\n{proc.output}")


def test_tunnel_forwards_and_ends_with_the_server(folder: Path, sshd, serve) -> None:
    remote = _free_port()
    proc = serve(
        "--port",
        "0",
        "--tunnel",
        "--tunnel-host",
        "loginhost",
        "--tunnel-port",
        str(remote),
        str(folder),
        env={"PATH": sshd["path"]},
    )
    line = _wait_line(proc, "tunnel up")
    assert f"ssh -L {remote}:localhost:{remote} loginhost" in line
    with urllib.request.urlopen(f"http://127.0.0.1:{remote}/api/health", timeout=10) as resp:
        assert resp.status == 200
    req = urllib.request.Request(
        f"http://127.0.0.1:{remote}/api/files", headers={"Authorization": f"Bearer {proc.token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        import json

        listing = json.loads(resp.read())
    assert listing["tunnelled"] is True and listing["tunnel_host"] == "loginhost"
    assert _ssh_children(remote)
    assert proc.stop() == 0
    time.sleep(0.3)
    assert _ssh_children(remote) == []


def test_ssh_missing_keeps_serving_with_manual_instructions(
    folder: Path, serve, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = serve(
        "--port",
        "0",
        "--tunnel",
        "--tunnel-host",
        "loginhost",
        str(folder),
        env={"PATH": str(empty)},
    )
    _wait_line(proc, "--tunnel failed")
    assert "ssh was not found" in proc.output
    assert f"ssh -N -R {proc.port}:127.0.0.1:{proc.port} loginhost" in proc.output
    assert proc.get("api/files").json()["tunnelled"] is False


def test_failed_forward_falls_back(folder: Path, sshd, serve) -> None:
    proc = serve(
        "--port",
        "0",
        "--tunnel",
        "--tunnel-host",
        "deadhost",
        str(folder),
        env={"PATH": sshd["path"]},
    )
    _wait_line(proc, "--tunnel failed")
    assert "Connection refused" in proc.output
    assert proc.get("api/health").status == 200
    assert proc.stop() == 0
