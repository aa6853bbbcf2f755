"""URL inputs from S3 (SPEC §11) against moto's S3 server on loopback, started here.

A public (anonymous) and a credentialed bucket hold the same files: a CT series, a multi-frame
JPEG 2000 file and a large 16-bit file. Pixels are compared with the local copies; the bytes a
frame read transfers are counted at the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless

from dcmview.core.discovery import scan
from dcmview.core.errors import RemoteReadFailed
from dcmview.core.frames import decode_frame
from dcmview.core.session import Session

from . import dicomgen
from .harness import DcmviewProcess
from .remote_servers import S3Server

pytest.importorskip("s3fs")
pytest.importorskip("moto")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("s3-files")
    dicomgen.write_ct_series(folder, count=5, size=64, study_description="S3 CT")
    dicomgen.write_multiframe(
        folder, frames=6, rows=128, columns=128, transfer_syntax=JPEG2000Lossless, name="mf.dcm"
    )
    dicomgen.write_mammography(folder, rows=1500, columns=1200, name="large.dcm")
    return folder


@pytest.fixture(scope="module")
def s3(files: Path) -> Iterator[S3Server]:
    server = S3Server()
    old = {key: os.environ.get(key) for key in server.env()}
    os.environ.update(server.env())
    paths = sorted(files.glob("*.dcm"))
    server.upload("public", paths, "ct/", public=True)
    server.upload("private", paths, "ct/")
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


@pytest.mark.parametrize(("bucket", "anon"), [("public", True), ("private", False)])
def test_bucket_pixels_equal_local_copies(s3: S3Server, files: Path, bucket: str, anon: bool):
    records, entries, scanned = scan([f"s3://{bucket}/ct/"], anon=anon)
    assert entries == [] and scanned == 7
    assert sorted(r.path for r in records) == sorted(
        f"s3://{bucket}/ct/{p.name}" for p in files.glob("*.dcm")
    )
    for record in records:
        for frame in range(record.frame_count):
            assert np.array_equal(decode_frame(record, frame), _local(files, record.path, frame))


def test_progress_while_listing_then_reading(s3: S3Server):
    calls: list[tuple[int, int, dict[str, int]]] = []
    scan(["s3://private/ct/"], progress=lambda s, n, **kw: calls.append((s, n, kw)))
    assert (0, 0, {"listed": 7}) in calls  # the listing's count, before any header is read
    assert calls[-1] == (7, 7, {})


def test_header_is_one_64k_read(s3: S3Server, files: Path):
    s3.counter.reset()
    records, _, _ = scan(["s3://private/ct/"])
    reads = [r for r in s3.counter.requests if r[1].startswith("/private/ct/")]
    assert len(reads) == len(records) == 7  # one ranged read per object
    assert all(size <= 65536 for _, _, size in reads)


@pytest.mark.parametrize("name", ["large.dcm", "mf.dcm", "slice_003.dcm"])
def test_frame_read_transfers_about_its_own_size(s3: S3Server, files: Path, name: str):
    records, _, _ = scan([f"s3://private/ct/{name}"])
    (record,) = records
    frame = record.frame_count - 1
    local = pydicom.dcmread(files / name)
    if local.file_meta.TransferSyntaxUID.is_compressed:
        own = len(pydicom.encaps.get_frame(local.PixelData, frame, number_of_frames=6))
    else:
        own = record.layout.frame_bytes
    s3.counter.reset()
    decode_frame(record, frame)
    sent = s3.counter.sent
    assert own <= sent <= own + 8192 + 4096, (own, sent, s3.counter.requests)
    assert sent < os.path.getsize(files / name) or record.frame_count == 1


def test_anonymous_read_of_a_private_bucket_is_403(s3: S3Server):
    records, entries, _ = scan(["s3://private/ct/"], anon=True)
    assert records == []
    assert len(entries) == 7
    assert all("access denied (403)" in e.reason for e in entries)


def test_missing_object_and_bucket(s3: S3Server):
    _, entries, scanned = scan(["s3://public/ct/nothing.dcm", "s3://no-such-bucket/x/"])
    assert scanned == 2
    assert [e.reason for e in entries] == ["not found (404)", "not found (404)"]
    assert {e.path for e in entries} == {"s3://public/ct/nothing.dcm", "s3://no-such-bucket/x/"}


def test_unreachable_endpoint_is_an_entry_not_a_hang(s3: S3Server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nobody there
    _, entries, _ = scan(["s3://elsewhere/ct/"])
    assert len(entries) == 1 and entries[0].reason.startswith("unreachable")


def test_object_removed_after_the_scan_is_a_502(s3: S3Server, files: Path):
    s3.upload("private", [files / "slice_001.dcm"], "gone/")
    records, _, _ = scan(["s3://private/gone/"])
    s3.client().delete_object(Bucket="private", Key="gone/slice_001.dcm")
    with pytest.raises(RemoteReadFailed) as caught:
        decode_frame(records[0], 0)
    assert caught.value.status == 502 and "not found" in caught.value.message


def test_mixed_local_and_url_inputs_with_tags_and_annotations(s3: S3Server, files: Path):
    session = Session([str(files / "slice_001.dcm"), "s3://public/ct/"], anon=True)
    session.scan()
    paths = [r.path for r in session.files]
    assert session.discovery == []
    assert str(files / "slice_001.dcm") in paths and "s3://public/ct/mf.dcm" in paths
    index = paths.index("s3://public/ct/slice_002.dcm")
    tags = {node["keyword"]: node for node in session.tags(index)}
    assert tags["StudyDescription"]["value"]["value"] == "S3 CT"
    assert tags["PixelData"]["value"] == {"type": "binary", "length": 64 * 64 * 2}
    session.set_annotations(
        {"s3://public/ct/slice_002.dcm": {"num_roi": 1, "roi_coords": [[1, 2, 10, 12]]}}
    )
    assert session.annotations_by_path()["s3://public/ct/slice_002.dcm"]["num_roi"] == 1
    session.close()


def test_cli_reads_a_public_bucket_with_anon(s3: S3Server, tmp_path: Path):
    # Nothing is written to disk: the temp folder, home and cache the server sees stay empty.
    places = {name: tmp_path / name for name in ("tmp", "home", "cache")}
    for folder in places.values():
        folder.mkdir()
    env = {
        **s3.env(),
        "TMPDIR": str(places["tmp"]),
        "HOME": str(places["home"]),
        "XDG_CACHE_HOME": str(places["cache"]),
    }
    with DcmviewProcess("--anon", "s3://public/ct/", env=env) as server:
        server.wait_scan()
        listing = server.get("api/files").json()
        assert len(listing["files"]) == 7 and listing["discovery"] == []
        index = next(f["index"] for f in listing["files"] if f["path"].endswith("mf.dcm"))
        raw = server.get(f"api/file/{index}/frame/2/raw")
        assert raw.status == 200 and len(raw.body) == 128 * 128 * 2
        assert "loaded 7 DICOM file(s)" in server.wait_line("loaded")
        for item in listing["files"]:
            assert server.get(f"api/file/{item['index']}/frame/0").status == 200
        assert server.get(f"api/file/{index}/tags").status == 200
    assert all(not any(folder.rglob("*")) for folder in places.values())


def test_cli_reports_a_refused_bucket_on_its_startup_line(s3: S3Server):
    with DcmviewProcess("--anon", "s3://private/ct/", env=s3.env()) as server:
        code = server.wait_exit()
        assert code == 1
        assert "7 access denied (403)" in server.output


def test_https_style_url_of_one_object(s3: S3Server, files: Path):
    """fsspec's HTTP file system (the https:// path) against the same server, object by URL."""
    url = f"{s3.endpoint}/public/ct/mf.dcm"
    s3.counter.reset()
    records, entries, _ = scan([url])
    assert entries == [] and [r.path for r in records] == [url]
    header_reads = [size for method, _, size in s3.counter.requests if method == "GET"]
    assert header_reads and max(header_reads) <= 65536
    for frame in range(6):
        assert np.array_equal(decode_frame(records[0], frame), _local(files, url, frame))


def test_widget_viewer_takes_urls(s3: S3Server):
    import dcmview

    viewer = dcmview.Viewer(["s3://public/ct/"], anon=True)
    try:
        assert len(viewer.files) == 7
        assert all(f["path"].startswith("s3://public/ct/") for f in viewer.files)
    finally:
        viewer.close()


def test_cli_answers_502_for_a_frame_whose_object_went_away(s3: S3Server, files: Path):
    s3.upload("private", [files / "slice_004.dcm"], "later-gone/")
    with DcmviewProcess("s3://private/later-gone/", env=s3.env()) as server:
        server.wait_scan()
        s3.client().delete_object(Bucket="private", Key="later-gone/slice_004.dcm")
        answer = server.get("api/file/0/frame/0/raw")
        assert answer.status == 502
        assert answer.json()["code"] == "remote_read_failed"
        assert "not found" in answer.json()["error"]
        assert server.get("api/health").status == 200  # still serving


class _Silent:
    """A server that accepts connections and never answers: every read on it is in flight
    until its timeout (30 s)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.accepted.append(self.sock.accept()[0])

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.mark.parametrize("kind", ["s3", "dicomweb", "http"])
def test_ctrl_c_stops_at_once_with_reads_in_flight(s3: S3Server, kind: str):
    silent = _Silent()
    base = f"http://127.0.0.1:{silent.port}"
    url = {
        "s3": "s3://bucket/prefix/",
        "dicomweb": f"dicomweb+{base}/dicom-web/studies/1.2.3",
        "http": f"{base}/x.dcm",
    }[kind]
    try:
        with DcmviewProcess(url, env={**s3.env(), "AWS_ENDPOINT_URL": base}) as server:
            server.wait_url()
            deadline = time.monotonic() + 10
            while not silent.accepted and time.monotonic() < deadline:
                time.sleep(0.05)
            assert silent.accepted, "no read reached the server"
            assert server.stop(timeout=10) == 0
            # The scan stopped at once: nothing had to be abandoned after the stop deadline.
            assert "abandoned" not in server.output
    finally:
        silent.close()


def test_view_handle_serves_urls_mixed_with_local_files(s3: S3Server, files: Path):
    import dcmview

    local = str(files / "large.dcm")
    with dcmview.view([local, "s3://public/ct/"], browser=False, block=False, anon=True) as handle:
        assert handle.wait_ready(60)
        handle.series()  # waits for the scan
        request = urllib.request.Request(f"http://127.0.0.1:{handle.port}/api/files")
        request.add_header("Authorization", f"Bearer {handle.token}")
        with urllib.request.urlopen(request, timeout=30) as answer:
            paths = {f["path"] for f in json.loads(answer.read())["files"]}
        assert local in paths and "s3://public/ct/slice_003.dcm" in paths and len(paths) == 8


def test_annotations_csv_matches_urls_as_given(s3: S3Server, tmp_path: Path):
    from dcmview.core.session import open_session

    csv_path = tmp_path / "rois.csv"
    csv_path.write_text(
        "anon_dicom_path,num_ROI,ROI_coords,ROI_frames\n"
        's3://public/ct/slice_002.dcm,1,"[[1,2,10,12]]",\n'
        's3://public/ct/mf.dcm,1,"[[3,4,20,30]]","[[5]]"\n'
        # a URL is matched as written: not as a local path, nor under another bucket
        's3://private/ct/slice_002.dcm,1,"[[1,1,2,2]]",\n'
        'ct/slice_003.dcm,1,"[[1,1,2,2]]",\n'
        's3:/public/ct/slice_004.dcm,1,"[[1,1,2,2]]",\n'  # as a path it would normalise alike
    )
    session = open_session(["s3://public/ct/"], annotations=csv_path, anon=True)
    session.scan()
    found = session.annotations_by_path()
    assert set(found) == {"s3://public/ct/slice_002.dcm", "s3://public/ct/mf.dcm"}
    assert found["s3://public/ct/mf.dcm"]["roi_frames"] == [[5]]
    exported = tmp_path / "out.csv"
    session.write_export(exported)
    text = exported.read_text()
    assert "s3://public/ct/slice_002.dcm" in text and "s3://private/ct/slice_002.dcm" in text
    session.close()


def test_an_object_named_by_two_inputs_is_listed_once(s3: S3Server):
    records, entries, _ = scan(["s3://public/ct/", "s3://public/ct/mf.dcm", "s3://public/ct/"])
    assert entries == [] and len(records) == 7


def test_the_terminal_progress_line_shows_the_listing(s3: S3Server):
    import io

    from dcmview.server.launch import _Progress

    out = io.StringIO()
    scan(["s3://public/ct/"], anon=True, progress=_Progress(out))
    assert out.getvalue().startswith("\rdcmview: listing... 0 object(s) found")


def test_fragments_without_an_offset_table_are_walked(s3: S3Server, files: Path, tmp_path: Path):
    """No Basic Offset Table: the frame index walks the fragments (by ranged reads, once)."""
    from pydicom.encaps import encapsulate, generate_frames

    ds = pydicom.dcmread(files / "mf.dcm")
    frames = list(generate_frames(ds.PixelData, number_of_frames=6))
    ds.PixelData = encapsulate(frames, has_bot=False)
    ds.save_as(tmp_path / "nobot.dcm")
    s3.upload("private", [tmp_path / "nobot.dcm"], "nobot/")
    (record,), _, _ = scan(["s3://private/nobot/"])
    expected = ds.pixel_array
    for frame in (5, 0, 3):
        assert np.array_equal(decode_frame(record, frame), expected[frame])


def test_an_object_replaced_after_the_scan_is_refused_not_mixed(s3: S3Server, tmp_path: Path):
    """Replaced by one of the same size: its reads ask for the listed version (If-Match)."""
    from dcmview.core.errors import FileChanged

    (first,) = dicomgen.write_ct_series(tmp_path / "a", count=1, size=32)
    s3.upload("private", [first.path], "replaced/")
    (record,), _, _ = scan(["s3://private/replaced/"])
    data = bytearray(first.path.read_bytes())
    data[-1] ^= 0xFF  # the last pixel's high byte: same size, other content
    s3.client().put_object(Bucket="private", Key=f"replaced/{first.path.name}", Body=bytes(data))
    with pytest.raises(FileChanged) as caught:
        decode_frame(record, 0)
    assert caught.value.status == 409 and "changed after it was listed" in caught.value.message


def test_filters_apply_to_url_inputs(s3: S3Server):
    from dcmview.core.filters import parse_filter

    records, entries, _ = scan(
        ["s3://public/ct/"], anon=True, filters=[parse_filter("modality=XA")]
    )
    assert [r.path for r in records] == ["s3://public/ct/mf.dcm"]
    assert len(entries) == 6 and {e.disposition for e in entries} == {"filtered"}


def test_no_recursive_reads_the_top_level_of_a_prefix_only(s3: S3Server, files: Path):
    s3.upload("private", [files / "slice_001.dcm"], "nested/")
    s3.upload("private", [files / "slice_002.dcm"], "nested/deeper/")
    deep, _, _ = scan(["s3://private/nested/"])
    top, _, _ = scan(["s3://private/nested/"], recursive=False)
    assert sorted(r.path for r in deep) == [
        "s3://private/nested/deeper/slice_002.dcm",
        "s3://private/nested/slice_001.dcm",
    ]
    assert [r.path for r in top] == ["s3://private/nested/slice_001.dcm"]


def test_a_masked_session_hides_the_identifiers_of_url_inputs(s3: S3Server, files: Path):
    from dcmview.core.discovery import read_record
    from dcmview.core.session import open_session

    local, _, _ = read_record(str(sorted(files.glob("*.dcm"))[0]))
    assert local is not None
    real_id = local.fields["patient_id"]
    assert len(real_id) >= 3
    session = open_session(["s3://public/ct/"], anon=True, mask=True)
    session.scan()
    assert session.files and all(r.identifiers for r in session.files)
    published = session.listing.files.text(b'"end":0}')
    assert real_id.encode() not in published
    shown = {session.summary(i)["patient_id"] for i in range(len(session.files))}
    assert shown and all(name.startswith("Patient ") for name in shown), shown
