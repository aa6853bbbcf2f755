"""The Unix socket a server listens on (``--unix-socket``; the JupyterLab launcher's way in).

A path that is taken is refused with one line: a live socket belongs to another server, and a
file, folder or symlink is not ours to delete. Only a socket nobody listens on (left by a
server that was killed) is replaced.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat

from tornado.netutil import bind_unix_socket

from ..core.session import EXIT_NO_FILES, EXIT_USAGE, SessionError


def bind_unix(path: str) -> socket.socket:
    """Listen on a new Unix socket at ``path`` (mode 0600).

    Something already there is never removed, except a socket nobody listens on (left by a
    server that was killed): a live socket belongs to another server, and anything else
    (a file, a folder, a symlink) is not ours to delete.
    """
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise SessionError(f"cannot listen on {path}: {exc.strerror}", EXIT_NO_FILES) from exc
    if info is not None:
        if not stat.S_ISSOCK(info.st_mode):
            kind = (
                "a symlink"
                if stat.S_ISLNK(info.st_mode)
                else "a folder"
                if stat.S_ISDIR(info.st_mode)
                else "a file"
            )
            raise SessionError(
                f"cannot listen on {path}: it is {kind}, not a socket; choose another path",
                EXIT_USAGE,
            )
        if _socket_alive(path):
            raise SessionError(
                f"cannot listen on {path}: another server is listening there", EXIT_NO_FILES
            )
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # stale: its server is gone
    try:
        return bind_unix_socket(path, mode=0o600)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SessionError(f"cannot listen on {path}: {reason}", EXIT_NO_FILES) from exc


def _socket_alive(path: str) -> bool:
    """False only when nobody listens at ``path`` (refused); any other answer means in use."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2)
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError:
        return True  # e.g. not ours to connect to: leave it alone
    finally:
        probe.close()
    return True
