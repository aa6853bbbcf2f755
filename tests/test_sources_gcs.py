"""URL inputs from Google Cloud Storage (SPEC §11) against a GCS emulator on loopback.

The emulator (``gcp-storage-emulator``, the JSON API gcsfs speaks) runs in a thread here, in
memory; gcsfs reaches it through ``STORAGE_EMULATOR_HOST``. A bucket holds a CT series and a
multi-frame JPEG 2000 file; pixels are compared with the local copies and the bytes of header
reads are counted at the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless

from dcmview.core.discovery import scan
from dcmview.core.errors import RemoteReadFailed
from dcmview.core.frames import decode_frame

from . import dicomgen
from .harness import DcmviewProcess
from .remote_servers import GcsServer

pytest.importorskip("gcsfs")
pytest.importorskip("gcp_storage_emulator")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gcs-files")
    dicomgen.write_ct_series(folder, count=5, size=64, study_description="GCS CT")
    dicomgen.write_multiframe(
        folder, frames=6, rows=128, columns=128, transfer_syntax=JPEG2000Lossless, name="mf.dcm"
    )
    return folder


@pytest.fixture(scope="module")
def gcs(files: Path) -> Iterator[GcsServer]:
    server = GcsServer()
    old = {key: os.environ.get(key) for key in server.env()}
    os.environ.update(server.env())
    server.upload("bucket", sorted(files.glob("*.dcm")), "ct/")
    yield server
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


def _local(files: Path, url: str, frame: int) -> np.ndarray:
    ds = pydicom.dcmread(files / url.rsplit("/", 1)[1])
    arr = ds.pixel_array
    return arr[frame] if int(ds.get("NumberOfFrames", 1) or 1) > 1 else arr


@pytest.mark.parametrize("anon", [True, False])
def test_bucket_pixels_equal_local_copies(gcs: GcsServer, files: Path, anon: bool):
    records, entries, scanned = scan(["gs://bucket/ct/"], anon=anon)
    assert entries == [] and scanned == 6
    assert sorted(r.path for r in records) == sorted(
        f"gs://bucket/ct/{p.name}" for p in files.glob("*.dcm")
    )
    for record in records:
        for frame in range(record.frame_count):
            assert np.array_equal(decode_frame(record, frame), _local(files, record.path, frame))


def test_header_is_one_64k_read(gcs: GcsServer):
    gcs.counter.reset()
    records, _, _ = scan(["gs://bucket/ct/"], anon=True)
    reads = [r for r in gcs.counter.requests if r[0] == "GET"]
    downloads = [r for r in reads if r[1].startswith("/download/storage/v1/b/bucket/o/")]
    assert len(downloads) == len(records) == 6, reads  # one ranged read per object
    assert all(0 < size <= 65536 for _, _, size in downloads)


def test_frame_read_transfers_about_its_own_size(gcs: GcsServer, files: Path):
    (record,), _, _ = scan(["gs://bucket/ct/mf.dcm"], anon=True)
    local = pydicom.dcmread(files / "mf.dcm")
    own = len(pydicom.encaps.get_frame(local.PixelData, 5, number_of_frames=6))
    gcs.counter.reset()
    decode_frame(record, 5)
    sent = gcs.counter.sent
    assert own <= sent <= own + 8192 + 4096, (own, sent, gcs.counter.requests)
    assert sent < os.path.getsize(files / "mf.dcm")


def test_missing_object_and_bucket(gcs: GcsServer):
    _, entries, scanned = scan(["gs://bucket/ct/nothing.dcm", "gs://no-such-bucket/x/"])
    assert scanned == 2
    assert [e.reason for e in entries] == ["not found (404)", "not found (404)"]
    assert [e.path for e in entries] == ["gs://bucket/ct/nothing.dcm", "gs://no-such-bucket/x/"]


def test_object_removed_after_the_scan_is_a_502(gcs: GcsServer, files: Path):
    gcs.upload("bucket", [files / "slice_001.dcm"], "gone/")
    records, _, _ = scan(["gs://bucket/gone/"])
    gcs.delete("bucket", "gone/slice_001.dcm")
    with pytest.raises(RemoteReadFailed) as caught:
        decode_frame(records[0], 0)
    assert caught.value.status == 502 and "not found" in caught.value.message


def test_cli_serves_a_bucket_prefix(gcs: GcsServer):
    with DcmviewProcess("--anon", "gs://bucket/ct/", env=gcs.env()) as server:
        server.wait_scan()
        listing = server.get("api/files").json()
        assert len(listing["files"]) == 6 and listing["discovery"] == []
        assert all(f["path"].startswith("gs://bucket/ct/") for f in listing["files"])
        index = next(f["index"] for f in listing["files"] if f["path"].endswith("mf.dcm"))
        raw = server.get(f"api/file/{index}/frame/4/raw")
        assert raw.status == 200 and len(raw.body) == 128 * 128 * 2
        for item in listing["files"]:
            assert server.get(f"api/file/{item['index']}/frame/0").status == 200
        tags = server.get(f"api/file/{index}/tags")
        assert tags.status == 200


def test_cli_reports_an_unreachable_endpoint_in_one_line(gcs: GcsServer):
    # gcsfs retries a refused connection five times (about 30 s: its own fixed count).
    with DcmviewProcess(
        "gs://elsewhere/ct/", env={"STORAGE_EMULATOR_HOST": "http://127.0.0.1:9"}
    ) as server:
        assert server.wait_exit(timeout=90) == 1
        assert "1 unreachable" in server.output
        assert "Traceback" not in server.output  # gcsfs's logged failures are not printed
