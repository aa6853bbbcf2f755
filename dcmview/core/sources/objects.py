"""Files in object storage or on web servers, through fsspec: ``s3://`` (s3fs), ``gs://``
(gcsfs), ``https://`` (fsspec's HTTP file system, aiohttp) and any other installed protocol.

Credentials are each protocol's usual ones (AWS variables and profiles, gcloud, ...); ``anon``
reads public buckets without any; a custom S3 endpoint comes from ``AWS_ENDPOINT_URL`` (read by
botocore itself). Headers are read as one ranged read of the first 64 KiB each, many in flight
(fsspec's ``cat_ranges`` runs them concurrently on its event loop); more bytes only when the
header is longer. Frames are read from a file object whose reads are byte-range requests.
Nothing is written to disk.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from ..errors import RemoteReadFailed
from ..filters import Filter
from ..header_reader import FIRST_READ, Header, _NeedMore, parse_header
from ..model import DiscoveryEntry, FileRecord, Remote
from . import failures
from .ranged import Guarded
from .waiting import Stopped, failed, interruptible, run_all, ticker

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem
    from pydicom.dataset import Dataset

Outcome = tuple[FileRecord | None, DiscoveryEntry | None]
Listed = tuple[str, int | None, str | None]  # an object: its path, size and version
# Headers read per cat_ranges call, and calls at once: many requests in flight (fsspec runs a
# call's reads concurrently), while the headers of a finished call are parsed.
_BATCH = 64
_BATCHES_IN_FLIGHT = 2
# A frame's file reads ahead this much past what is asked (small: a frame transfers about
# its own size); a header's reads, by the first-read size.
FRAME_BLOCK = 8192
# The package each common protocol needs, for the error that names what to install.
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs"}
_PACKAGES.update(http="aiohttp", https="aiohttp")
INSTALL_HINT = "pip install 'dcmview[remote]'"


class Unavailable(Exception):
    """The URL's protocol cannot be used here; ``str()`` says what to install."""


class _ListingFailed(Exception):
    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def storage_options(protocol: str, anon: bool) -> dict[str, Any]:
    """fsspec options for ``protocol``: the timeouts of SPEC §11 and ``--anon``; listings are
    not kept by fsspec (the records hold what is needed; a bucket's listing can be large)."""
    return {**_protocol_options(protocol, anon), "use_listings_cache": False}


def _protocol_options(protocol: str, anon: bool) -> dict[str, Any]:
    if protocol in ("s3", "s3a"):
        config = {
            "connect_timeout": failures.CONNECT_TIMEOUT,
            "read_timeout": failures.READ_TIMEOUT,
            "retries": {"max_attempts": 2, "mode": "standard"},
            # botocore's default pool of 10 connections would cap the reads in flight.
            "max_pool_connections": 2 * _BATCH,
        }
        # botocore reads AWS_ENDPOINT_URL itself; naming it here keys fsspec's instance cache
        # by it too (a changed endpoint must not reuse a client of the old one).
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return {"anon": anon, "config_kwargs": config, "endpoint_url": endpoint or None}
    if protocol in ("gs", "gcs"):
        # gcsfs reads STORAGE_EMULATOR_HOST itself; naming it keys fsspec's instance cache.
        endpoint = os.environ.get("STORAGE_EMULATOR_HOST") or None
        return {**({"token": "anon"} if anon else {}), "endpoint_url": endpoint}
    if protocol in ("http", "https"):
        import aiohttp

        timeout = aiohttp.ClientTimeout(
            total=None, connect=failures.CONNECT_TIMEOUT, sock_read=failures.READ_TIMEOUT
        )
        return {"client_kwargs": {"timeout": timeout}}
    return {"anon": True} if anon else {}


def filesystem(url: str, anon: bool) -> tuple[AbstractFileSystem, str]:
    """The fsspec file system of ``url`` (fsspec caches instances) and the path within it."""
    protocol = url.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise Unavailable(f"reading {protocol}:// URLs needs fsspec: {INSTALL_HINT}") from None
    try:
        fsspec.get_filesystem_class(protocol)
        options = storage_options(protocol, anon)
    except ImportError as exc:
        package = _PACKAGES.get(protocol)
        if package is None:  # fsspec's own message names what to install
            raise Unavailable(f"reading {protocol}:// URLs: {exc}") from None
        raise Unavailable(f"reading {protocol}:// URLs needs {package}: {INSTALL_HINT}") from None
    except ValueError:
        raise Unavailable(f"no installed fsspec protocol reads {protocol}:// URLs") from None
    if protocol in ("gs", "gcs"):
        # gcsfs logs each failed request with a traceback ("out of retries"); without a
        # handler Python prints it on stderr, before the startup line that says the same in
        # one line. Its records still reach handlers an application configured.
        logger = logging.getLogger("gcsfs")
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
    if protocol in ("gs", "gcs"):
        fs, path = _gcs(url, options)
    else:
        fs, path = fsspec.core.url_to_fs(url, **options)
    if protocol in ("s3", "s3a"):
        # s3fs tries a failed call 5 times over botocore's own attempts: a server that
        # stopped answering would hold a read for minutes. Once more, by botocore, is enough.
        fs.retries = 1
    return fs, cast(str, path)


def _gcs(url: str, options: dict[str, Any]) -> tuple[AbstractFileSystem, str]:
    """gcsfs's JSON-API file system. Its default class first asks a gRPC API for each
    bucket's layout (for zonal buckets), which an emulator never answers (a minute of retries
    per bucket, again on every read: a failed lookup is not kept) and an anonymous reader of a
    public bucket is likely refused; ranged reads of objects need only the JSON API."""
    from gcsfs.core import GCSFileSystem

    endpoint = options.get("endpoint_url")
    if endpoint:
        # ``endpoint_url`` must be an http(s) URL; STORAGE_EMULATOR_HOST may be host:port.
        endpoint = str(endpoint)
        options = {
            **options,
            "endpoint_url": endpoint if "://" in endpoint else f"http://{endpoint}",
        }
    fs = GCSFileSystem(**options)
    return fs, cast(str, GCSFileSystem._strip_protocol(url))


def scan(
    url: str,
    recursive: bool,
    anon: bool,
    filters: Sequence[Filter],
    progress: Callable[..., None] | None,
) -> tuple[list[Outcome], int]:
    """List the objects under ``url`` and read their headers: ``(outcomes, objects)``."""
    try:
        return _scan(url, recursive, anon, filters, progress)
    except Stopped as stop:  # the session is ending: say so as progress did
        raise stop.cause from None


def _scan(
    url: str,
    recursive: bool,
    anon: bool,
    filters: Sequence[Filter],
    progress: Callable[..., None] | None,
) -> tuple[list[Outcome], int]:
    try:
        fs, root = filesystem(url, anon)
        objects = _list(fs, root, recursive, progress)
    except Unavailable as exc:
        return [(None, DiscoveryEntry(url, "skipped", str(exc)))], 1
    except _ListingFailed as exc:
        return [(None, DiscoveryEntry(url, "skipped", failures.reason(exc.cause)))], 1
    remote = Remote("fsspec", anon)
    batches = [objects[i : i + _BATCH] for i in range(0, len(objects), _BATCH)]
    per_batch: list[list[Outcome]] = [[] for _ in batches]
    counts = [0, 0]  # headers read, loaded

    def parse(index: int, firsts: Any) -> None:
        """A batch's first reads, parsed here while the next batches are read."""
        error = failed(firsts)
        batch = batches[index]
        if error is not None:  # the whole batch failed (the server went away)
            firsts = [error] * len(batch)
        for (key, size, version), first in zip(batch, firsts, strict=True):
            found = replace(remote, version=version)
            per_batch[index].append(_outcome(fs, key, size, first, found, filters))
        counts[0] += len(batch)
        counts[1] += sum(1 for record, _ in per_batch[index] if record is not None)
        if progress is not None:
            progress(*counts)

    reads = [_first_reads(fs, batch) for batch in batches]
    tick = None if progress is None else (lambda: ticker(progress, *counts)())
    run_all(reads, _BATCHES_IN_FLIGHT, tick, parse)
    return [outcome for outcomes in per_batch for outcome in outcomes], len(objects)


def _first_reads(fs: AbstractFileSystem, batch: list[Listed]) -> partial[Any]:
    """The first 64 KiB of each object of ``batch``, read concurrently (an error per object
    that failed)."""
    ends = [min(size, FIRST_READ) if size is not None else FIRST_READ for _, size, _ in batch]
    keys = [key for key, _, _ in batch]
    return partial(fs.cat_ranges, keys, [0] * len(batch), ends, on_error="return")


def _list(
    fs: AbstractFileSystem, root: str, recursive: bool, progress: Callable[..., None] | None
) -> list[Listed]:
    """``(path, size, version)`` of every object at or under ``root``, in name order.
    Failures of the listing are :class:`_ListingFailed` (what ``progress`` raises, to stop,
    passes through).

    ``find`` lists a bucket prefix flat (S3: one paginated listing for the whole tree), about
    three times faster than walking it folder by folder; progress is told before and after.
    """
    if progress is not None:
        progress(0, 0, listed=0)

    def listing() -> dict[str, dict[str, Any]]:
        info = fs.info(root)
        if info.get("type") != "directory":
            return {root: {**info, "name": root}}
        if recursive:
            return cast(dict[str, dict[str, Any]], fs.find(root, detail=True))
        return {meta["name"]: meta for meta in fs.ls(root, detail=True)}

    tick = None if progress is None else ticker(progress, 0, 0, listed=0)
    try:
        listed = interruptible(listing, tick)
    except Exception as exc:  # what tick raises (Stopped) is no Exception: it passes
        raise _ListingFailed(exc) from exc
    found = [
        (meta["name"], meta.get("size"), _version(meta))
        for meta in listed.values()
        if meta.get("type", "file") == "file"
    ]
    if progress is not None:
        progress(0, 0, listed=len(found))
    return sorted(found)


def _version(meta: dict[str, Any]) -> str | None:
    """The object's version as its listing gives it (S3's ETag), to read that version only."""
    etag = meta.get("ETag") or meta.get("etag")
    return str(etag) if etag else None


def _outcome(
    fs: AbstractFileSystem,
    key: str,
    size: int | None,
    first: bytes | BaseException,
    remote: Remote,
    filters: Sequence[Filter],
) -> Outcome:
    from pydicom.errors import InvalidDicomError

    from ..discovery import _inspect, unmet_filter
    from ..records import _reason, identifiers_of

    url = fs.unstrip_protocol(key)
    try:
        if isinstance(first, BaseException):
            raise first
        if size is None:
            size = int(fs.size(key))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = _header(fs, key, url, size, first)
    except InvalidDicomError:
        return None, DiscoveryEntry(url, "skipped", "not a DICOM file (no DICM prefix)")
    except (OSError, TimeoutError) as exc:
        return None, DiscoveryEntry(url, "skipped", failures.reason(exc))
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("aiohttp", "botocore", "requests"):
            return None, DiscoveryEntry(url, "skipped", failures.reason(exc))
        return None, DiscoveryEntry(url, "skipped", f"unreadable DICOM header: {_reason(exc)}")
    try:
        record, values, problem = _inspect(url, header)
    except Exception as exc:
        return None, DiscoveryEntry(url, "skipped", f"invalid header: {_reason(exc)}")
    if record is None or values is None:
        return None, DiscoveryEntry(url, "skipped", problem or "not an image")
    unmet = unmet_filter(values.dataset(), filters)
    if unmet is not None:
        return None, DiscoveryEntry(url, "filtered", unmet)
    # Identifiers for --mask are kept for every remote file: reading them is nothing beside
    # the network.
    found = identifiers_of(values)
    return replace(record, size=size, remote=remote, identifiers=found), None


def _header(fs: AbstractFileSystem, key: str, url: str, size: int, data: bytes) -> Header:
    """The header from its first bytes ``data``, reading more only when it is longer; pydicom
    reads the files the scanning reader hands over (over ranged reads too)."""
    header = None
    while True:
        try:
            header = parse_header(data, size, cast(BinaryIO, url))
        except _NeedMore as more:
            if len(data) < size:
                want = min(size, max(more.upto, 2 * len(data)))
                data += fs.cat_file(key, start=len(data), end=want)
                continue
        break
    if header is not None:
        return header
    import pydicom

    with _open(fs, key, size, FIRST_READ) as fp:
        ds = pydicom.dcmread(fp, stop_before_pixels=True)
        offset = fp.tell()
        return Header(ds, offset, fp.read(12), size)


def _open(
    fs: AbstractFileSystem, key: str, size: int | None, block: int, version: str | None = None
) -> Guarded:
    raw = fs.open(key, "rb", block_size=block, cache_type="readahead", size=size)
    if version is not None and isinstance(getattr(raw, "read_kw", None), dict):
        # s3fs reads with If-Match only when it asked for the size itself; the size comes
        # from the listing here, so the listing's ETag is asked for: an object replaced since
        # (even by one of the same size) is refused (412) instead of read as a mix.
        raw.read_kw = {**raw.read_kw, "IfMatch": version}
    return Guarded(raw)


def open_record(record: FileRecord, block: int = FRAME_BLOCK) -> BinaryIO:
    """``record``'s object open for ranged reads; failures are :class:`RemoteReadFailed`."""
    try:
        assert record.remote is not None
        fs, key = filesystem(record.path, record.remote.anon)
        return cast(BinaryIO, _open(fs, key, record.size, block, record.remote.version))
    except Unavailable as exc:
        raise RemoteReadFailed(str(exc)) from None
    except Exception as exc:
        raise RemoteReadFailed(f"cannot read {record.path}: {failures.reason(exc)}") from None


def header(record: FileRecord) -> Dataset:
    """The header of an object (for the tag tree), read again by ranged reads."""
    import pydicom

    with open_record(record, FIRST_READ) as fp:
        return pydicom.dcmread(fp, stop_before_pixels=True)
