"""Why a remote read failed, in words (SPEC §11), from the exceptions the libraries raise."""

from __future__ import annotations

import asyncio

import pytest

from dcmview.core.sources import is_url
from dcmview.core.sources.failures import reason


def _raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        try:
            if cause is not None:
                raise cause
        except BaseException:
            raise exc  # noqa: B904 (chained implicitly, as the libraries do)
        raise exc
    except BaseException as caught:
        return caught


def test_a_timeout_turned_into_not_found_is_a_timeout():
    # fsspec's HTTP info() raises FileNotFoundError from whatever its HEAD and GET met.
    exc = _raised(FileNotFoundError("http://host/x.dcm"), asyncio.TimeoutError())
    assert reason(exc) == "timed out (connect 10 s, read 30 s)"


def test_plain_outcomes():
    assert reason(FileNotFoundError("s3://b/k")) == "not found (404)"
    assert reason(PermissionError("Forbidden")).startswith("access denied (403)")
    assert reason(ConnectionRefusedError(111, "Connection refused")).startswith("unreachable")
    assert reason(ValueError("odd")) == "cannot read: odd"


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("s3://bucket/prefix/", True),
        ("gs://bucket/x.dcm", True),
        ("https://example.org/a.dcm", True),
        ("dicomweb+https://h/dicom-web/studies/1.2", True),
        ("/data/study", False),
        ("study/s3:/x", False),
        ("C:\\data", False),
    ],
)
def test_urls_are_told_from_paths(text: str, url: bool):
    assert is_url(text) is url


def test_a_protocol_that_is_missing_or_unknown_is_an_entry_naming_what_to_install():
    import importlib.util

    from dcmview.core.discovery import scan

    if importlib.util.find_spec("adlfs") is not None:
        pytest.skip("adlfs is installed here: az:// is not missing")
    records, entries, scanned = scan(["az://container/x/", "nosuchprotocol://host/x.dcm"])
    assert records == [] and scanned == 2
    reasons = {e.path: e.reason for e in entries}
    assert "adlfs" in reasons["az://container/x/"]
    assert "no installed fsspec protocol" in reasons["nosuchprotocol://host/x.dcm"]


def test_a_password_in_a_url_is_refused_and_never_shown():
    from dcmview.core.discovery import scan

    url = "dicomweb+https://ann:s3cret@pacs.example.org/dicom-web/studies/1.2.3"
    records, entries, scanned = scan([url])
    assert records == [] and scanned == 1
    (entry,) = entries
    assert "s3cret" not in entry.path and "s3cret" not in entry.reason
    assert entry.path == "dicomweb+https://ann:***@pacs.example.org/dicom-web/studies/1.2.3"
    assert "password" in entry.reason
