"""Recovery CSVs: unexported ROI edits kept on disk so that no way of stopping loses them.

While a session holds edits that were never exported, :class:`RecoveryFile` keeps one CSV of
them up to date (debounced, written atomically with mode 0600) and removes it once the edits are
exported. A folder that cannot be written (read-only, full, ``XDG_CACHE_HOME`` naming a file)
is skipped for the next one: the user's cache, a private folder in the temp dir, the working
directory. When none works the caller prints the CSV instead (see :meth:`RecoveryFile.final`).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import pathlib
import stat
import tempfile
import threading
from collections.abc import Callable, Sequence

# Edits arriving faster than this are written together: at most one write a second, and a
# kill -9 loses at most about this much work.
DEBOUNCE_SECONDS = 1.0


def recovery_directory() -> pathlib.Path:
    """The per-user folder for recovery CSVs: ``($XDG_CACHE_HOME or ~/.cache)/dcmview/recovery``."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value must be ignored.
    base = pathlib.Path(cache) if os.path.isabs(cache) else pathlib.Path.home() / ".cache"
    return base / "dcmview" / "recovery"


def candidate_directories() -> list[pathlib.Path]:
    """Where a recovery CSV may go, best first: the user cache, the temp dir, the working dir."""
    folders = []
    # Each may be unknowable: no HOME, no usable temp dir, a working directory since removed.
    with contextlib.suppress(OSError, RuntimeError, KeyError):
        folders.append(recovery_directory())
    uid = os.getuid() if hasattr(os, "getuid") else 0
    with contextlib.suppress(OSError):
        folders.append(pathlib.Path(tempfile.gettempdir()) / f"dcmview-recovery-{uid}")
    with contextlib.suppress(OSError):
        folders.append(pathlib.Path(os.getcwd()))
    return folders


def file_name(stem: str = "dcmview-annotations") -> str:
    """A new recovery file name: timestamped and with the process id, so sessions never clash."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return f"{stem}-{stamp}-{os.getpid()}.csv"


def write_private(target: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically with mode 0600 (temp file, fsync, replace)."""
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=".dcmview-recovery-", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise


def save(
    data: bytes, name: str, folders: Sequence[pathlib.Path]
) -> tuple[pathlib.Path | None, list[str]]:
    """Write ``data`` as ``name`` in the first folder that takes it.

    Returns the path written (None when every folder failed) and one reason per folder that
    failed, for the message the user sees.
    """
    failures: list[str] = []
    for folder in folders:
        try:
            _private_folder(folder)
            target = folder / name
            write_private(target, data)
        except OSError as exc:
            failures.append(f"{folder}: {exc.strerror or exc}")
            continue
        return target, failures
    return None, failures


def _private_folder(folder: pathlib.Path) -> None:
    """Create ``folder`` (mode 0700) if needed and check that it is a folder we may use."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(20, "not a folder", str(folder))
    # Our folder in the shared temp dir must be ours alone: one made by someone else would
    # hand them the edits (or let them swap the file).
    ours = not hasattr(os, "getuid") or (info.st_uid == os.getuid() and not info.st_mode & 0o077)
    if folder.name.startswith("dcmview-recovery-") and not ours:
        raise PermissionError(13, "owned by or open to another user", str(folder))


class RecoveryFile:
    """One session's recovery CSV, kept in step with its unexported edits.

    ``snapshot`` returns the CSV bytes of the unexported edits, or None when there are none
    (nothing edited, or everything exported). :meth:`changed` is called after every edit or
    export; the file is then rewritten (or removed) at most ``delay`` seconds later, in a timer
    thread. ``announce`` is told each new path once, ``warn`` the reasons once when no folder
    takes the edits (until one does again); ``folders`` gives the places to try (the default,
    :func:`candidate_directories`, is read at each write).
    """

    def __init__(
        self,
        snapshot: Callable[[], bytes | None],
        *,
        announce: Callable[[pathlib.Path], None] | None = None,
        warn: Callable[[Sequence[str]], None] | None = None,
        folders: Callable[[], Sequence[pathlib.Path]] = candidate_directories,
        delay: float = DEBOUNCE_SECONDS,
        stem: str = "dcmview-annotations",
    ) -> None:
        self._snapshot = snapshot
        self._announce = announce
        self._warn = warn
        self._folders = folders
        self._delay = delay
        self._name = file_name(stem)
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._closed = False
        self.path: pathlib.Path | None = None  # the file on disk now, if any
        self.failures: list[str] = []  # why the last write found no folder

    def changed(self) -> None:
        """Schedule a rewrite (edits) or a removal (export) soon, unless one is pending."""
        with self._lock:
            if self._closed or self._timer is not None:
                return
            self._timer = threading.Timer(self._delay, self._fire)
            self._timer.daemon = True
            self._timer.name = "dcmview-recovery"
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
        with contextlib.suppress(Exception):  # a timer thread has nobody to report to
            self.sync()

    def sync(self) -> pathlib.Path | None:
        """Bring the file in step now: write the edits, or remove the file when there are none.

        Returns the path holding the edits, or None (no edits, or no folder could be written:
        then :attr:`failures` says why).
        """
        with self._lock:
            data = self._snapshot()
            if data is None:
                self._remove()
                return None
            folders = list(self._folders())
            if self.path is not None and self.path.parent in folders:
                # Stay where we are while that still works: one file per session.
                folders.remove(self.path.parent)
                folders.insert(0, self.path.parent)
            written, failures = save(data, self._name, folders)
            warn = written is None and not self.failures
            self.failures = failures if written is None else []
            fresh = written is not None and written != self.path
            if fresh and self.path is not None:
                with contextlib.suppress(OSError):
                    self.path.unlink()  # the edits moved to another folder
            if written is not None:
                self.path = written
        if warn and self._warn is not None:
            self._warn(failures)
        if fresh and written is not None and self._announce is not None:
            self._announce(written)
        return written

    def final(self) -> pathlib.Path | None:
        """Stop the timer and write the last state now (the session is ending)."""
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        return self.sync()

    def _remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.path = None
