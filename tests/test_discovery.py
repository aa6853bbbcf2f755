"""Discovery: filters, labels, order, duplicates, skipped files with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcmview.core.discovery import scan
from dcmview.core.filters import parse_filter

from . import dicomgen as gen


def test_filter_aliases_and_keywords() -> None:
    assert parse_filter("modality=CT").keyword == "Modality"
    assert parse_filter("study_uid=1.2").keyword == "StudyInstanceUID"
    assert parse_filter("bodypartexamined=chest").keyword == "BodyPartExamined"
    for bad in ("modality", "=CT", "flavour=salty"):
        with pytest.raises(ValueError, match="invalid filter"):
            parse_filter(bad)


def test_order_is_study_series_instance_then_path(tmp_path: Path) -> None:
    study = "1.2.826.0.1.3680043.8.498.1"
    for n, series in ((3, 2), (1, 1), (2, 2)):
        gen.write_image(
            tmp_path / f"z{n}.dcm",
            gen.phantom(4, 4),
            instance_number=n,
            study_uid=study,
            series_uid=f"{study}.{series}",
            series_number=series,
        )
    records, _, _ = scan([str(tmp_path)])
    assert [Path(r.path).name for r in records] == ["z1.dcm", "z2.dcm", "z3.dcm"]


def test_duplicates_and_symlinks_are_read_once(tmp_path: Path) -> None:
    written = gen.write_multiframe(tmp_path, frames=1, rows=4, columns=4)
    (tmp_path / "link.dcm").symlink_to(written.path)
    records, _, scanned = scan([str(tmp_path), str(written.path)])
    assert len(records) == 1 and scanned == 1


def test_broken_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    gen.write_not_dicom(tmp_path)
    gen.write_empty(tmp_path)
    gen.write_truncated(tmp_path)
    records, entries, scanned = scan([str(tmp_path)])
    reasons = {Path(e.path).name: e.reason for e in entries}
    assert "not a DICOM file" in reasons["notes.dcm"]
    assert "empty.dcm" in reasons
    # A truncated pixel value still has a readable header: listed, and its frames fail later.
    assert [Path(r.path).name for r in records] == ["truncated.dcm"]
    assert scanned == 3


def test_label_falls_back_to_the_file_name(tmp_path: Path) -> None:
    gen.write_image(
        tmp_path / "anon.dcm", gen.phantom(4, 4), patient_id="", modality="", study_date=""
    )
    records, _, _ = scan([str(tmp_path)])
    assert records[0].label == "anon.dcm"


def test_the_file_list_json_holds_every_summary_exactly(tmp_path: Path) -> None:
    from dcmview.api import Api, ApiRequest
    from dcmview.core.study import Study

    odd = 'O\'Brien "Jr"\\ \u00e9\u00e8 \u4e2d \u0000x'
    gen.write_ct_series(tmp_path / "a", count=2, patient_name=odd, study_description="}{],[")
    (tmp_path / "notes.txt").write_text("not dicom")
    study = Study([str(tmp_path)])
    api = Api(study)
    before = api.handle(ApiRequest("GET", "api/files")).json()
    assert before["files"] == [] and before["discovery"] == [] and not before["scan_complete"]
    study.scan()
    listing = api.handle(ApiRequest("GET", "api/files")).json()
    assert listing["files"] == [study.summary(i) for i in range(len(study.files))]
    assert len(listing["files"]) == 2
    assert listing["discovery"] == [e.as_json() for e in study.discovery]
    assert listing["skipped"] == 1 and listing["scan_complete"] is True
