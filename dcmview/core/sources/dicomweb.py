"""A study or series on a DICOMweb server, through dicomweb-client (SPEC §11).

``dicomweb+http(s)://host/path/studies/<StudyUID>[/series/<SeriesUID>]``: QIDO-RS lists the
instances, WADO-RS metadata (one request per series) gives their headers and tags, WADO-RS
frames gives one frame's bytes. Frames are asked for in the transfer syntax the server stores
(``transfer-syntax=*``: no transcoding, which a server may not do), and the syntax is taken from
the answer's content type, which dicomweb-client reads but does not return: a response hook of
its requests session keeps it for the calling thread.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import RemoteReadFailed
from ..filters import Filter
from ..model import DiscoveryEntry, FileRecord, Remote
from . import DICOMWEB_PREFIX, failures
from .waiting import Stopped, failed, interruptible, run_all, ticker

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

Outcome = tuple[FileRecord | None, DiscoveryEntry | None]
_STUDY, _SERIES, _SOP = "0020000D", "0020000E", "00080018"
# Transfer Syntax UID (file meta) and Available Transfer Syntax UID, as DICOM JSON keys.
_SYNTAX_TAG, _AVAILABLE = "00020010", "00083002"
_SYNTAX = re.compile(r"transfer-syntax=\"?([0-9.]+)", re.IGNORECASE)
_EXPLICIT_LE = "1.2.840.10008.1.2.1"
_NATIVE = frozenset({"1.2.840.10008.1.2", _EXPLICIT_LE})
# Series whose metadata is fetched at once.
_PARALLEL = 8
INSTALL_HINT = "pip install 'dcmview[remote]'"


@dataclass(frozen=True)
class Target:
    """What a DICOMweb URL names: the service root and a study, maybe a series or instance."""

    base: str
    study: str
    series: str | None = None
    instance: str | None = None

    def url(self, series: str, instance: str) -> str:
        study = f"{DICOMWEB_PREFIX}{self.base}/studies/{self.study}"
        return f"{study}/series/{series}/instances/{instance}"


def parse(url: str) -> Target:
    """The parts of a ``dicomweb+...`` URL; ValueError when it names no study."""
    rest = url[len(DICOMWEB_PREFIX) :]
    base, sep, path = rest.partition("/studies/")
    parts = [p for p in path.split("/") if p]
    if not sep or not parts:
        raise ValueError("a DICOMweb URL names a study: dicomweb+https://host/path/studies/<UID>")
    named = dict(zip(parts[1::2], parts[2::2], strict=False))
    return Target(base.rstrip("/"), parts[0], named.get("series"), named.get("instances"))


_local = threading.local()
# The transfer syntax of each series' frames as answers told it (servers that do not give it
# in metadata); bounded by clearing, it is only a hint.
_LEARNED: dict[str, str] = {}
_LEARNED_MAX = 4096
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _remember(response: Any, *args: Any, **kwargs: Any) -> Any:
    _local.content_type = response.headers.get("Content-Type", "")
    return response


def client(base: str) -> Any:
    """One dicomweb-client per service root (its requests session pools connections)."""
    with _clients_lock:
        found = _clients.get(base)
        if found is None:
            try:
                import requests
                from dicomweb_client.api import DICOMwebClient
            except ImportError:
                raise RemoteReadFailed(
                    f"reading DICOMweb URLs needs dicomweb-client: {INSTALL_HINT}"
                ) from None
            session = requests.Session()
            session.hooks["response"].append(_remember)
            timeout = (failures.CONNECT_TIMEOUT, failures.READ_TIMEOUT)
            found = DICOMwebClient(base, session=session, timeout=timeout)
            # Its default retries an unreachable server for ~30 s: once more, soon, is enough.
            found.set_http_retry_params(max_attempts=2, wait_exponential_multiplier=100)
            _clients[base] = found
        return found


def scan(
    url: str, filters: Sequence[Filter], progress: Callable[..., None] | None
) -> tuple[list[Outcome], int]:
    """List the instances of the study or series ``url`` names and read their metadata."""
    try:
        return _scan(url, filters, progress)
    except Stopped as stop:  # the session is ending: say so as progress did
        raise stop.cause from None


def _scan(
    url: str, filters: Sequence[Filter], progress: Callable[..., None] | None
) -> tuple[list[Outcome], int]:
    tick = None if progress is None else ticker(progress, 0, 0, listed=0)
    try:
        target = parse(url)
        web = client(target.base)
        found = interruptible(
            lambda: web.search_for_instances(
                study_instance_uid=target.study,
                series_instance_uid=target.series,
                # The standard's place for it at listing time (servers that keep it answer).
                fields=[_AVAILABLE],
                get_remaining=True,
            ),
            tick,
        )
    except RemoteReadFailed as exc:
        return [(None, DiscoveryEntry(url, "skipped", exc.message))], 1
    except ValueError as exc:
        return [(None, DiscoveryEntry(url, "skipped", str(exc)))], 1
    except Exception as exc:
        return [(None, DiscoveryEntry(url, "skipped", failures.reason(exc)))], 1
    if not found:
        return [(None, DiscoveryEntry(url, "skipped", "not found (no instance listed)"))], 1
    series = sorted({_uid(item, _SERIES) for item in found} - {""})
    told = {_uid(item, _SOP): item[_AVAILABLE] for item in found if item.get(_AVAILABLE)}
    if progress is not None:
        progress(0, 0, listed=len(found))
    per_series: list[list[Outcome]] = [[] for _ in series]
    counts = [0, 0]  # instances read, loaded

    def done(index: int, metadata: Any) -> None:
        error = failed(metadata)
        if error is not None:
            where = f"{DICOMWEB_PREFIX}{target.base}/studies/{target.study}/series/{series[index]}"
            per_series[index] = [(None, DiscoveryEntry(where, "skipped", failures.reason(error)))]
        else:
            wanted = [
                m for m in metadata if not target.instance or _uid(m, _SOP) == target.instance
            ]
            per_series[index] = [_outcome(target, item, filters, told) for item in wanted]
        counts[0] += len(per_series[index])
        counts[1] += sum(1 for record, _ in per_series[index] if record is not None)
        if progress is not None:
            progress(*counts)

    calls = [_metadata_call(web, target.study, uid) for uid in series]
    tick = None if progress is None else (lambda: ticker(progress, *counts)())
    run_all(calls, _PARALLEL, tick, done)
    outcomes = [outcome for group in per_series for outcome in group]
    return outcomes, max(len(found), len(outcomes))


def _metadata_call(web: Any, study: str, series: str) -> Callable[[], Any]:
    return lambda: web.retrieve_series_metadata(study, series)


def _outcome(
    target: Target, item: dict[str, Any], filters: Sequence[Filter], told: dict[str, Any]
) -> Outcome:
    from ..discovery import unmet_filter
    from ..header_values import DatasetValues
    from ..records import _reason, _record, identifiers_of, pixel_layout

    url = target.url(_uid(item, _SERIES), _uid(item, _SOP))
    if _SYNTAX_TAG not in item and _AVAILABLE not in item and _uid(item, _SOP) in told:
        item = {**item, _AVAILABLE: told[_uid(item, _SOP)]}  # QIDO-RS said it
    try:
        ds = dataset(item)
        values = DatasetValues(ds)
        layout, problem, extent = None, None, None
        if "Rows" in ds:
            try:
                layout = pixel_layout(values)
                extent = (0, layout.frame_bytes * layout.frame_count)
            except Exception as exc:
                problem = f"unusable pixel description: {_reason(exc)}"
                extent = (0, 0)
        vr = "OW" if layout is not None and layout.bits_allocated > 8 else "OB"
        record = _record(url, values, layout, problem, extent, vr if extent else None)
    except Exception as exc:
        return None, DiscoveryEntry(url, "skipped", f"invalid metadata: {_reason(exc)}")
    unmet = unmet_filter(ds, filters)
    if unmet is not None:
        return None, DiscoveryEntry(url, "filtered", unmet)
    found = identifiers_of(values)
    return replace(record, remote=Remote("dicomweb"), identifiers=found), None


def dataset(item: dict[str, Any]) -> Dataset:
    """A DICOM JSON (metadata) object as a pydicom dataset; bulk data is not fetched. The
    transfer syntax, when the server gives it (group 0002 or Available Transfer Syntax), is
    kept; else it stays unknown (no Transfer Syntax UID: an empty ``transfer_syntax_uid``)
    and each frame's answer tells it (Orthanc's metadata and QIDO-RS do not give it)."""
    from pydicom.dataset import Dataset, FileMetaDataset

    meta = {k: v for k, v in item.items() if k.startswith("0002")}
    body = {k: v for k, v in item.items() if not k.startswith("0002")}
    ds = Dataset.from_json(body, bulk_data_uri_handler=lambda *args: None)
    ds.file_meta = FileMetaDataset(Dataset.from_json(meta)) if meta else FileMetaDataset()
    available = item.get(_AVAILABLE, {}).get("Value")
    if "TransferSyntaxUID" not in ds.file_meta and available:
        ds.file_meta.TransferSyntaxUID = available[0]
    return ds


def header(record: FileRecord) -> Dataset:
    """A record's metadata (WADO-RS), for the tag tree."""
    target = parse(record.path)
    assert target.series and target.instance
    try:
        items = client(target.base).retrieve_instance_metadata(
            target.study, target.series, target.instance
        )
    except RemoteReadFailed:
        raise
    except Exception as exc:
        raise RemoteReadFailed(f"cannot read the metadata: {failures.reason(exc)}") from None
    return dataset(items)


def frame(record: FileRecord, index: int) -> tuple[bytes, str]:
    """Frame ``index`` (from 0) as the server stores it, and its transfer syntax UID."""
    target = parse(record.path)
    assert target.series and target.instance
    try:
        parts = client(target.base).retrieve_instance_frames(
            target.study,
            target.series,
            target.instance,
            frame_numbers=[index + 1],
            media_types=(("application/octet-stream", "*"),),
        )
    except RemoteReadFailed:
        raise
    except Exception as exc:
        raise RemoteReadFailed(f"frame {index} cannot be read: {failures.reason(exc)}") from None
    if len(parts) != 1:
        raise RemoteReadFailed(f"frame {index}: the server answered {len(parts)} parts, not 1")
    data = bytes(parts[0])
    match = _SYNTAX.search(getattr(_local, "content_type", "") or "")
    if match is not None:
        with _clients_lock:
            if len(_LEARNED) >= _LEARNED_MAX:
                _LEARNED.clear()
            _LEARNED[_series_key(record.path)] = match.group(1)
        return data, match.group(1)
    layout = record.layout
    if layout is not None and len(data) == layout.frame_bytes:
        return data, _EXPLICIT_LE
    if not record.transfer_syntax_uid:
        raise RemoteReadFailed(
            f"frame {index}: the server did not say its transfer syntax (neither in the "
            "metadata nor in the answer's content type)"
        )
    return data, record.transfer_syntax_uid


def learned_syntax(record: FileRecord) -> str | None:
    """The transfer syntax a frame of ``record``'s series came in, once one was read here:
    what decides whether its next frames are decoded in the worker processes."""
    with _clients_lock:
        return _LEARNED.get(_series_key(record.path))


def _series_key(url: str) -> str:
    return url.rsplit("/instances/", 1)[0]


def _uid(item: dict[str, Any], tag: str) -> str:
    values = item.get(tag, {}).get("Value") or [""]
    return str(values[0])
