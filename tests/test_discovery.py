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
    assert parse_filter("burned_in=YES").keyword == "BurnedInAnnotation"
    for bad in ("modality", "=CT", "flavour=salty"):
        with pytest.raises(ValueError, match="invalid filter"):
            parse_filter(bad)


def test_burned_in_filter_keeps_only_files_that_say_yes(tmp_path: Path) -> None:
    for name, value in (("yes", "YES"), ("no", "NO"), ("lower", "yes")):
        gen.write_image(
            tmp_path / f"{name}.dcm", gen.phantom(4, 4), extra={"BurnedInAnnotation": value}
        )
    gen.write_image(tmp_path / "unsaid.dcm", gen.phantom(4, 4))
    records, entries, _ = scan([str(tmp_path)], filters=[parse_filter("burned_in=YES")])
    assert sorted(Path(r.path).name for r in records) == ["lower.dcm", "yes.dcm"]
    assert {r.fields["burned_in_annotation"] for r in records} == {"YES"}
    reasons = {Path(e.path).name: e.reason for e in entries}
    assert set(reasons) == {"no.dcm", "unsaid.dcm"}
    assert reasons["no.dcm"] == "burned_in does not contain 'YES'"
    everything, _, _ = scan([str(tmp_path)])
    flags = {Path(r.path).name: r.fields["burned_in_annotation"] for r in everything}
    assert flags == {"yes.dcm": "YES", "no.dcm": "NO", "lower.dcm": "YES", "unsaid.dcm": ""}


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
    from dcmview.core.session import Session

    odd = 'O\'Brien "Jr"\\ \u00e9\u00e8 \u4e2d \u0000x'
    gen.write_ct_series(tmp_path / "a", count=2, patient_name=odd, study_description="}{],[")
    (tmp_path / "notes.txt").write_text("not dicom")
    study = Session([str(tmp_path)])
    api = Api(study)
    before = api.handle(ApiRequest("GET", "api/files")).json()
    assert before["files"] == [] and before["discovery"] == [] and not before["scan_complete"]
    study.scan()
    listing = api.handle(ApiRequest("GET", "api/files")).json()
    assert listing["files"] == [study.summary(i) for i in range(len(study.files))]
    assert len(listing["files"]) == 2
    assert listing["discovery"] == [e.as_json() for e in study.discovery]
    assert listing["skipped"] == 1 and listing["scan_complete"] is True


def _mixed_folder(root: Path) -> list[str]:
    for series, modality in enumerate(("CT", "MR", "CT")):
        gen.write_tiny_series(root / f"s{series}", count=40, modality=modality)
    gen.write_not_dicom(root)
    gen.write_empty(root)
    gen.write_truncated(root)
    (root / "s0" / "again.dcm").symlink_to(root / "s0" / "i0001.dcm")
    return [str(root), str(root / "s1" / "i0002.dcm"), str(root / "missing.dcm")]


@pytest.fixture
def parallel_scan(monkeypatch: pytest.MonkeyPatch):
    from dcmview.core import discovery
    from dcmview.core.jobs import POOL

    monkeypatch.setattr(discovery, "PARALLEL_MIN_FILES", 10)
    monkeypatch.setattr(discovery, "PARALLEL_MIN_CPUS", 1)
    monkeypatch.setattr(discovery, "_CHUNK", 7)
    POOL.start()
    assert POOL.wait_ready(60)
    yield POOL
    POOL.shutdown()


def test_a_parallel_scan_finds_exactly_what_a_serial_one_does(
    tmp_path: Path, parallel_scan
) -> None:
    inputs = _mixed_folder(tmp_path)
    serial = scan(inputs, filters=[parse_filter("modality=CT")])
    ticks: list[tuple[int, int]] = []
    parallel = scan(
        inputs, filters=[parse_filter("modality=CT")], progress=lambda *t: ticks.append(t)
    )
    assert parallel == serial
    records, entries, scanned = parallel
    # 120 slices, 3 broken files and one missing path; the link and the repeated file once.
    assert scanned == 124
    assert len(records) == 80 and {r.fields["modality"] for r in records} == {"CT"}
    filtered = [e for e in entries if e.disposition == "filtered"]
    assert len(filtered) == 41  # the MR series and the truncated file (not CT either)
    assert ticks[-1] == (scanned, len(records))
    assert [a for a, _ in ticks] == sorted(a for a, _ in ticks)


def test_a_parallel_scan_survives_its_workers_dying(tmp_path: Path, parallel_scan) -> None:
    import os
    import signal

    inputs = _mixed_folder(tmp_path)
    serial = scan(inputs)
    for pid in parallel_scan.pids():
        os.kill(pid, signal.SIGKILL)
    assert scan(inputs) == serial


def test_a_scan_pauses_the_cycle_collector_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    """The collector is off while a session scans (overlapping scans too) and on again after
    the last one, unless it was off before the first."""
    import gc
    import threading

    from dcmview.core.allocator import collector_paused
    from dcmview.core.session import Session

    gen.write_ct_series(tmp_path, count=3, size=8)
    seen: list[bool] = []
    session = Session([str(tmp_path)])
    original_scan = session._scan

    def spying(progress: object) -> None:
        seen.append(gc.isenabled())
        original_scan(progress)  # type: ignore[arg-type]

    session._scan = spying  # type: ignore[method-assign]
    was = gc.isenabled()
    gc.enable()
    try:
        session.scan()
        assert seen == [False] and gc.isenabled() and len(session.files) == 3
        entered, leave = threading.Event(), threading.Event()

        def other_scan() -> None:
            with collector_paused():
                entered.set()
                leave.wait(5)

        other = threading.Thread(target=other_scan)
        other.start()
        entered.wait(5)
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the other pause still holds
        leave.set()
        other.join(5)
        assert gc.isenabled()
        gc.disable()  # off before: it stays off
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
