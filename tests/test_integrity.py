"""A whole session never writes to its inputs: same bytes, same directory listing."""

from __future__ import annotations

import os
from pathlib import Path

from . import dicomgen as gen
from .conftest import checksums


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_full_session_leaves_inputs_untouched(tmp_path: Path, serve) -> None:
    root = tmp_path / "inputs"
    root.mkdir()
    gen.write_ct_series(root, count=2)
    gen.write_multiframe(root, frames=3, rows=16, columns=16)
    gen.write_syntax(root, "1.2.840.10008.1.2.4.90", name="j2k.dcm")
    csv = root / "rois.csv"
    csv.write_text(
        "anon_dicom_path,num_ROI,ROI_coords,ROI_frames,reader\n"
        'multiframe.dcm,1,"[[1,1,4,4]]","[[0,2]]",alice\n'
    )
    for p in root.iterdir():
        p.chmod(0o444)
    root.chmod(0o555)
    before, listing = checksums(root), _listing(root)
    cache = tmp_path / "cache"
    proc = serve(
        "--port",
        "0",
        "--annotations",
        str(csv),
        str(root),
        env={"XDG_CACHE_HOME": str(cache)},
        cwd=str(tmp_path),
    )
    files = proc.get("api/files").json()["files"]
    for f in files:
        proc.get(f"api/file/{f['index']}/tags")
        for frame in range(f["frame_count"]):
            assert proc.get(f"api/file/{f['index']}/frame/{frame}").status == 200
            assert proc.get(f"api/file/{f['index']}/frame/{frame}/raw").status == 200
        reply = proc.put_json(f"api/file/{f['index']}/annotations", {"roi_coords": [[0, 0, 2, 2]]})
        assert reply.status == 200
    assert "alice" in proc.get("api/annotations/export.csv").body.decode()
    proc.put_json("api/file/0/annotations", {"roi_coords": []})
    assert proc.stop() == 0
    root.chmod(0o755)
    assert checksums(root) == before
    assert _listing(root) == listing
    assert not any(name.startswith("dcmview") for name in os.listdir(tmp_path) if name != "inputs")
