"""File names that are not valid UTF-8 (POSIX paths are bytes) round-trip through the API JSON,
the export CSV and the recovery file, and import(export(S)) == S."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dcmview.core.annotations import AnnotationStore, ImageShape, LoadedFile
from dcmview.core.embed_csv import parse_csv

from . import dicomgen as gen
from .harness import DcmviewProcess
from .test_recovery import saved_paths

LATIN1_NAME = b"caf\xe9.dcm"  # "café.dcm" written by a Latin-1 system: not UTF-8


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    root.mkdir()
    gen.write_ct_series(root, count=1)
    os.rename(root / "slice_001.dcm", os.path.join(os.fsencode(root), LATIN1_NAME))
    return root


def test_export_and_reimport_keep_a_path_that_is_not_utf8(tmp_path: Path) -> None:
    path = os.fsdecode(os.path.join(os.fsencode(tmp_path), LATIN1_NAME))
    files = [LoadedFile(0, path, ImageShape(64, 64, 1))]
    first = AnnotationStore(files)
    first.put(0, {"roi_coords": [[1, 2, 3, 4]], "roi_frames": [[0]]})
    exported = first.export_csv().encode("utf-8", "surrogateescape")
    assert os.path.join(os.fsencode(tmp_path), LATIN1_NAME) in exported
    document = parse_csv(exported, name="export.csv", directory=str(tmp_path))
    assert [row.path for row in document.rows] == [path]
    second = AnnotationStore(files, document)
    assert second.rois(0) == first.rois(0)
    assert second.export_csv().encode("utf-8", "surrogateescape") == exported


def test_a_server_serves_exports_and_recovers_a_path_that_is_not_utf8(
    folder: Path, tmp_path: Path
) -> None:
    raw_path = os.path.join(os.fsencode(folder), LATIN1_NAME)
    cache = tmp_path / "cache"
    with DcmviewProcess("--port", "0", str(folder), env={"XDG_CACHE_HOME": str(cache)}) as proc:
        proc.wait_scan()
        listed = proc.get("api/files").json()["files"]
        assert [os.fsencode(f["path"]) for f in listed] == [raw_path]
        assert proc.put_json("api/file/0/annotations", {"roi_coords": [[1, 1, 5, 5]]}).status == 200
        export = proc.get("api/annotations/export.csv")
        assert export.status == 200
        assert raw_path in export.body and b"[[1,1,5,5]]" in export.body
        changed = {"roi_coords": [[2, 2, 6, 6]]}
        assert proc.put_json("api/file/0/annotations", changed).status == 200
        assert proc.stop() == 0
    [recovery] = saved_paths(proc)
    assert raw_path in recovery.read_bytes() and b"[[2,2,6,6]]" in recovery.read_bytes()
    # The recovery file loads back onto the same file.
    with DcmviewProcess("--port", "0", "--annotations", str(recovery), str(folder)) as again:
        again.wait_scan()
        assert again.get("api/file/0/annotations").json()["roi_coords"] == [[2, 2, 6, 6]]
