"""Where input files live: this machine, object storage or web servers (fsspec), or a DICOMweb
server (SPEC §11). One typed interface for the core, so that discovery, frames and the tag tree
do not care where bytes come from:

- :func:`is_url` tells a URL input from a local path;
- :func:`scan_urls` lists URL inputs and reads their headers (many reads in flight), giving the
  same ``(record, discovery entry)`` outcomes as the local scan;
- :func:`open_remote` opens a remote record as a read-only, seekable file whose reads are
  byte-range requests (a frame reads only its own bytes);
- :func:`remote_header` gives a remote record's header for the tag tree;
- :func:`dicomweb_frame` gives a DICOMweb frame's bytes and their transfer syntax.

Local files keep their own fast path (:mod:`..discovery`, :mod:`..fileio`): nothing here is
imported for them, and the protocol packages (fsspec, s3fs, gcsfs, aiohttp, dicomweb-client)
are imported only when a URL needs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

from ..filters import Filter
from ..model import DiscoveryEntry, FileRecord

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

# scheme://... ; a Windows drive ("C:\\") or a plain path never matches.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
DICOMWEB_PREFIX = "dicomweb+"

Outcome = tuple[FileRecord | None, DiscoveryEntry | None]
Progress = Callable[..., None]


def is_url(text: str) -> bool:
    """True when ``text`` is a URL input (``s3://``, ``https://``, ``dicomweb+http://``...)."""
    return bool(_URL.match(text))


def is_dicomweb(url: str) -> bool:
    return url.lower().startswith(DICOMWEB_PREFIX)


def scan_urls(
    urls: Sequence[str],
    *,
    recursive: bool,
    anon: bool,
    filters: Sequence[Filter],
    progress: Progress | None = None,
) -> tuple[list[Outcome], int]:
    """List every URL input and read the headers found: ``(outcomes, objects scanned)``.

    ``progress(scanned, loaded)`` is called while listing and reading (it may raise to stop),
    with ``listed=N`` while listing. A URL that cannot be listed is one ``skipped`` entry
    saying why; an object named twice (by two URL inputs) is listed once.
    """
    outcomes: list[Outcome] = []
    scanned = 0
    for url in dict.fromkeys(urls):
        if _has_password(url):
            outcomes.append((None, DiscoveryEntry(_without_password(url), "skipped", _PASSWORD)))
            scanned += 1
            continue
        if is_dicomweb(url):
            from .dicomweb import scan as scan_dicomweb

            found, count = scan_dicomweb(url, filters, _offset(progress, scanned, outcomes))
        else:
            from . import objects

            found, count = objects.scan(
                url, recursive, anon, filters, _offset(progress, scanned, outcomes)
            )
        outcomes.extend(found)
        scanned += count
    return _once(outcomes), scanned


# Paths are shown in the file list, and written to exported CSVs and recovery files.
_PASSWORD = (
    "a password in a URL would be shown and saved with every file path: give credentials "
    "the protocol's usual way (environment, configuration files)"
)


def _has_password(url: str) -> bool:
    return urlsplit(url).password is not None


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _once(outcomes: list[Outcome]) -> list[Outcome]:
    seen: set[str] = set()
    unique: list[Outcome] = []
    for record, entry in outcomes:
        path = record.path if record is not None else entry.path if entry is not None else ""
        if path not in seen:
            seen.add(path)
            unique.append((record, entry))
    return unique


def after(progress: Progress, scanned: int, outcomes: list[Outcome]) -> Progress:
    """``progress`` for what is scanned after the URL inputs: counting their objects too."""
    loaded = sum(1 for record, _ in outcomes if record is not None)
    return lambda s, n, **listing: progress(scanned + s, loaded + n, **listing)


def _offset(progress: Progress | None, scanned: int, done: list[Outcome]) -> Progress | None:
    """``progress`` counting what earlier URLs found too."""
    if progress is None:
        return None
    loaded = sum(1 for record, _ in done if record is not None)
    return lambda s, n, **listing: progress(scanned + s, loaded + n, **listing)


def open_remote(record: FileRecord) -> BinaryIO:
    """``record``'s object open for ranged reads (fsspec records only)."""
    from . import objects

    return objects.open_record(record)


def remote_header(record: FileRecord) -> Dataset:
    """The header of a remote record (everything before Pixel Data), for the tag tree."""
    assert record.remote is not None
    if record.remote.kind == "dicomweb":
        from .dicomweb import header

        return header(record)
    from . import objects

    return objects.header(record)


def dicomweb_frame(record: FileRecord, frame: int) -> tuple[bytes, str]:
    """Frame ``frame`` (from 0) of a DICOMweb record: its bytes and transfer syntax UID."""
    from .dicomweb import frame as dicomweb_frame_of

    return dicomweb_frame_of(record, frame)


def dicomweb_syntax(record: FileRecord) -> str | None:
    """The transfer syntax a DICOMweb record's series was served in, once known here."""
    from .dicomweb import learned_syntax

    return learned_syntax(record)
