"""Listing the files under the given paths, in a stable order, for the scan."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence

from .fileio import kind_of

Candidate = tuple[str, str | None, str]


def iter_candidate_paths(paths: Sequence[str], recursive: bool) -> Iterator[Candidate]:
    """Yield ``(absolute path, problem, real path)`` for every file under ``paths`` in a
    stable order (the real path, links resolved, tells a file named twice).

    ``problem`` is None for a readable file, else why the path cannot be used.
    """
    for given in paths:
        path = os.path.abspath(os.path.expanduser(given))
        real = os.path.realpath(path)
        if os.path.isdir(path):
            yield from _walk(path, real, recursive)
        elif os.path.isfile(path):
            yield path, None, real
        elif os.path.exists(path):
            yield path, f"not a regular file: {kind_of(os.stat(path).st_mode)}", real
        else:
            yield path, "no such file or directory", real


def _walk(root: str, real_root: str, recursive: bool) -> Iterator[Candidate]:
    """Files under ``root`` (its subfolders too when ``recursive``), each folder's files in
    name order before its subfolders, depth first. Iterative: os.walk recurses once per level
    and a folder nested ~1,000 deep ended the scan with a RecursionError.

    Links to folders are followed, each real folder read once (a link back up the tree would
    loop). Hidden folders and Python virtual environments below ``root`` are not read, and
    reported (a home folder holds thousands of files in them, none a user means to view);
    named on the command line, they are read. Named pipes, sockets and devices are reported.

    Real paths are those of the folders, joined with the names of entries that are not links
    (``os.path.realpath`` of every file cost ~14 µs, a fifth of reading its header).
    """
    pending = [(root, real_root)]
    seen = {_identity(root)}
    while pending:
        folder, real_folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            yield folder, f"cannot list directory: {exc.strerror}", real_folder
            continue
        subfolders = []
        for entry in entries:
            real = os.path.join(real_folder, entry.name)
            try:
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                if entry.is_dir():  # a folder, or a link to one
                    if recursive:
                        skip = _skipped_folder(entry, seen)
                        if skip is not None:
                            yield entry.path, skip, real
                        else:
                            subfolders.append((entry.path, real))
                    continue
                if entry.is_file():  # the entry's type from the listing: no stat (~1.5 µs)
                    yield entry.path, None, real
                    continue
                mode = entry.stat().st_mode
            except OSError:
                yield entry.path, None, real  # a broken link: reading it says why
                continue
            problem = None if stat.S_ISREG(mode) else f"not a regular file: {kind_of(mode)}"
            yield entry.path, problem, real
        pending.extend(reversed(subfolders))


def _skipped_folder(entry: os.DirEntry[str], seen: set[tuple[int, int]]) -> str | None:
    """Why a subfolder is not read (None: read it); marks it seen."""
    if entry.name.startswith("."):
        return "hidden folder: not read (name it on the command line to read it)"
    if os.path.isfile(os.path.join(entry.path, "pyvenv.cfg")):
        return "Python virtual environment: not read (name it on the command line to read it)"
    identity = _identity(entry.path)
    if identity in seen:
        return "link to a folder that is read already (under another name, or a loop)"
    seen.add(identity)
    return None


def _identity(folder: str) -> tuple[int, int]:
    info = os.stat(folder)
    return info.st_dev, info.st_ino
