"""Opening input files so that nothing can hang or change under us.

A named pipe (FIFO) among the inputs, or a served file replaced by one, used to block ``open()``
forever: the scan never completed and every decode thread that touched it was lost. Here a path
is opened non-blocking (opening a FIFO then returns at once), and the descriptor's own ``fstat``
(not the path's: it may be swapped between the two) decides whether it is a regular file.

A file loaded at discovery is also compared with what discovery saw (size and modification
time): a file rewritten while served would otherwise give pixels of neither version.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from .errors import FileChanged
from .model import FileRecord

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFile(OSError):
    """The path names something other than a regular file; ``str()`` says what."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words ("a named pipe (FIFO)", ...)."""
    return next((name for test, name in _KINDS if test(mode)), "an unknown kind of file")


def open_regular(path: str) -> tuple[BinaryIO, os.stat_result]:
    """Open ``path`` read-only, without ever blocking on a FIFO or device: ``(file, fstat)``.

    Raises :class:`NotRegularFile` for anything but a regular file, OSError as ``open`` does.
    """
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"not a regular file: {kind_of(info.st_mode)}")
        os.set_blocking(fd, True)  # no meaning for regular files; plain reads from here on
        return os.fdopen(fd, "rb"), info
    except BaseException:
        os.close(fd)
        raise


def open_record(record: FileRecord) -> BinaryIO:
    """Open a loaded file, refusing it (:class:`FileChanged`, a 409) when it is no longer the
    regular file of the size and modification time that discovery read.

    A remote record (object storage, a web server) opens as a file of byte-range reads."""
    if record.remote is not None:
        from .sources import open_remote

        return open_remote(record)
    try:
        fp, info = open_regular(record.path)
    except NotRegularFile as exc:
        raise FileChanged(f"the file was replaced after it was loaded: {exc}") from None
    except FileNotFoundError:
        raise FileChanged("the file was removed after it was loaded") from None
    if (record.size is not None and info.st_size != record.size) or (
        record.mtime_ns is not None and info.st_mtime_ns != record.mtime_ns
    ):
        fp.close()
        raise FileChanged(
            "the file changed on disk after it was loaded (its size or modification time "
            "differ); restart dcmview to load the new version"
        )
    return fp
