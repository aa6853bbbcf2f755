"""DICOMweb inputs (SPEC §11) against Orthanc with its DICOMweb plugin, started here.

The same kinds of files as the S3 tests are uploaded (a CT series, a multi-frame JPEG 2000
file); frames must equal local decoding, tags come from WADO-RS metadata.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000Lossless, generate_uid

from dcmview.core.discovery import scan
from dcmview.core.errors import RemoteReadFailed
from dcmview.core.frames import decode_frame
from dcmview.core.session import Session

from . import dicomgen
from .harness import DcmviewProcess
from .remote_servers import Orthanc, orthanc_available

pytest.importorskip("dicomweb_client")
pytestmark = pytest.mark.skipif(
    not orthanc_available() and os.environ.get("CI") != "true",
    reason="Orthanc with the DICOMweb plugin is not installed (Debian: orthanc orthanc-dicomweb)",
)
STUDY = generate_uid()
CT_SERIES = generate_uid()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dicomweb-files")
    dicomgen.write_ct_series(
        folder, count=5, size=64, study_uid=STUDY, series_uid=CT_SERIES, study_description="WEB"
    )
    dicomgen.write_multiframe(
        folder,
        frames=6,
        rows=128,
        columns=128,
        transfer_syntax=JPEG2000Lossless,
        name="mf.dcm",
        study_uid=STUDY,
    )
    return folder


@pytest.fixture(scope="module")
def orthanc(files: Path) -> Iterator[Orthanc]:
    server = Orthanc()
    server.upload(sorted(files.glob("*.dcm")))
    yield server
    server.stop()


def _by_sop(files: Path) -> dict[str, Path]:
    return {str(pydicom.dcmread(p).SOPInstanceUID): p for p in files.glob("*.dcm")}


def test_study_frames_equal_local_decoding(orthanc: Orthanc, files: Path):
    records, entries, scanned = scan([orthanc.study_url(STUDY)])
    assert entries == [] and scanned == 6 and len(records) == 6
    local = _by_sop(files)
    for record in records:
        assert record.path.startswith(f"dicomweb+{orthanc.url}/dicom-web/studies/{STUDY}/series/")
        ds = pydicom.dcmread(local[record.fields["sop_instance_uid"]])
        expected = ds.pixel_array
        assert record.frame_count == int(ds.get("NumberOfFrames", 1) or 1)
        for frame in range(record.frame_count):
            want = expected[frame] if record.frame_count > 1 else expected
            assert np.array_equal(decode_frame(record, frame), want)


def test_one_series_in_instance_order(orthanc: Orthanc):
    records, entries, _ = scan([orthanc.study_url(STUDY, CT_SERIES)])
    assert entries == []
    assert [r.fields["instance_number"] for r in records] == [1, 2, 3, 4, 5]
    assert {r.fields["series_instance_uid"] for r in records} == {CT_SERIES}


def test_tags_come_from_metadata(orthanc: Orthanc):
    session = Session([orthanc.study_url(STUDY, CT_SERIES)])
    session.scan()
    tags = {node["keyword"]: node for node in session.tags(0)}
    assert tags["StudyDescription"]["value"] == {"type": "string", "value": "WEB"}
    assert tags["Rows"]["value"] == {"type": "number", "value": 64.0}
    assert tags["StudyInstanceUID"]["value"]["value"] == STUDY
    assert tags["PixelData"]["value"] == {"type": "binary", "length": 64 * 64 * 2}
    session.close()


def test_unknown_study_and_unreachable_server_are_entries(orthanc: Orthanc):
    missing = orthanc.study_url("1.2.3.4.5")
    nobody = "dicomweb+http://127.0.0.1:9/dicom-web/studies/1.2.3"
    records, entries, _ = scan([missing, nobody])
    assert records == []
    reasons = {e.path: e.reason for e in entries}
    assert reasons[missing].startswith("not found")
    assert reasons[nobody].startswith("unreachable")


def test_url_without_a_study_is_an_entry():
    _, entries, _ = scan(["dicomweb+http://127.0.0.1:9/dicom-web"])
    assert "names a study" in entries[0].reason


def test_frame_of_a_deleted_instance_is_a_502(orthanc: Orthanc, files: Path, tmp_path: Path):
    study = generate_uid()
    (written,) = dicomgen.write_ct_series(tmp_path, count=1, size=16, study_uid=study)
    orthanc.upload([written.path])
    records, _, _ = scan([orthanc.study_url(study)])
    orthanc.delete_study(study)
    with pytest.raises(RemoteReadFailed) as caught:
        decode_frame(records[0], 0)
    assert caught.value.status == 502 and "not found" in caught.value.message


def test_cli_serves_a_dicomweb_study(orthanc: Orthanc):
    with DcmviewProcess(orthanc.study_url(STUDY)) as server:
        server.wait_scan()
        listing = server.get("api/files").json()
        assert len(listing["files"]) == 6
        index = next(f["index"] for f in listing["files"] if f["frame_count"] == 6)
        info = server.get(f"api/file/{index}/info").json()
        assert (info["rows"], info["columns"]) == (128, 128)
        raw = server.get(f"api/file/{index}/frame/5/raw")
        assert raw.status == 200 and len(raw.body) == 128 * 128 * 2
        png = server.get(f"api/file/{index}/frame/5")
        assert png.status == 200 and png.body[:4] == b"\x89PNG"


def test_jpeg2000_frames_go_to_the_workers_once_the_syntax_is_known(orthanc: Orthanc, files: Path):
    from dcmview.core import decoding
    from dcmview.core.sources import dicomweb

    dicomweb._LEARNED.clear()  # what earlier tests taught this process
    session = Session([orthanc.study_url(STUDY)])
    session.scan()
    index = next(i for i, r in enumerate(session.files) if r.frame_count == 6)
    record = session.files[index]
    expected = pydicom.dcmread(files / "mf.dcm").pixel_array
    assert not decoding.wanted(record)  # the metadata did not say: JPEG 2000 is not known yet
    for frame in range(6):
        (body, description), _ = session.raw(index, frame)
        assert np.array_equal(description.array(body), expected[frame])
        # The first answer named JPEG 2000: the next frames decode in worker processes.
        assert decoding.wanted(record)
    session.close()


def test_a_syntax_the_server_does_not_give_is_unknown_not_wrong(orthanc: Orthanc, files: Path):
    """Orthanc gives the transfer syntax neither in WADO-RS metadata nor in QIDO-RS (asked for
    Available Transfer Syntax UID): the listing and /info say unknown, frames still decode."""
    session = Session([orthanc.study_url(STUDY)])
    session.scan()
    index = next(i for i, r in enumerate(session.files) if r.frame_count == 6)
    assert session.files[index].transfer_syntax_uid == ""
    info = session.info(index)
    assert (info["transfer_syntax"], info["transfer_syntax_uid"]) == ("unknown", "")
    summary = session.summary(index)
    assert summary["transfer_syntax_uid"] == "" and summary["pixels_supported"] is True
    expected = pydicom.dcmread(files / "mf.dcm").pixel_array
    (body, description), _ = session.raw(index, 3)
    assert np.array_equal(description.array(body), expected[3])
    session.close()


def test_a_syntax_given_at_listing_time_is_used(files: Path):
    """A server that answers QIDO-RS with Available Transfer Syntax UID (0008,3002), or puts
    the file meta in its metadata: the record has the real syntax before any frame is read."""
    from dcmview.core.sources.dicomweb import Target, _outcome

    ds = pydicom.dcmread(files / "mf.dcm", stop_before_pixels=True)
    item = ds.to_json_dict()
    sop = str(ds.SOPInstanceUID)
    target = Target("http://127.0.0.1:9/dicom-web", str(ds.StudyInstanceUID))
    told = {sop: {"vr": "UI", "Value": [JPEG2000Lossless]}}
    (record, _), (unknown, _) = _outcome(target, item, [], told), _outcome(target, item, [], {})
    assert record is not None and record.transfer_syntax_uid == JPEG2000Lossless
    assert not record.syntax_from_frames and record.layout.encapsulated
    assert unknown is not None and unknown.transfer_syntax_uid == "" and unknown.syntax_from_frames
    with_meta = {**item, "00020010": {"vr": "UI", "Value": [JPEG2000Lossless]}}
    (from_meta, _) = _outcome(target, with_meta, [], {})
    assert from_meta is not None and from_meta.transfer_syntax_uid == JPEG2000Lossless
