"""Series and stacks (SPEC §9) of generated and real files, read by the real discovery scan.

Expected orders are computed here with numpy from the positions and orientations written,
independently of dcmview's own geometry code.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from dcmview.core.discovery import scan
from dcmview.core.model import FileRecord
from dcmview.core.series import series_list

from . import dicomgen as gen

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def _scan(folder: Path) -> tuple[list[FileRecord], list[dict[str, Any]]]:
    records, _, _ = scan([str(folder)])
    return records, series_list(records)


def _along_normal(position: Any, orientation: Any) -> float:
    o = np.asarray(orientation, dtype=float)
    n = np.cross(o[:3], o[3:])
    return float(np.dot(np.asarray(position, dtype=float), n / np.linalg.norm(n)))


def _names(records: list[FileRecord], stack: dict[str, Any]) -> list[str]:
    return [Path(records[f["file_index"]].path).name for f in stack["frames"]]


def _write_series(folder: Path, slices: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    """Write each slice (keys: name, position, orientation, instance_number, ...) into one series;
    returns the shared UIDs."""
    uids = {
        "study_uid": meta.pop("study_uid", None) or generate_uid(),
        "series_uid": generate_uid(),
    }
    for i, s in enumerate(slices):
        spec = {"seed": i, **uids, **meta, **s}
        name = spec.pop("name")
        gen.write_positioned_slice(folder / name, **spec)
    return uids


def test_geometry_wins_over_instance_numbers_and_file_names(tmp_path: Path) -> None:
    rng = random.Random(7)
    z = [rng.uniform(-200, 200) for _ in range(15)]
    names = [f"f{n:02d}.dcm" for n in rng.sample(range(15), 15)]
    instances = rng.sample(range(1, 16), 15)
    slices = [
        {"name": names[i], "position": (-100.0, -120.0, z[i]), "instance_number": instances[i]}
        for i in range(15)
    ]
    _write_series(tmp_path, slices, orientation=AXIAL, frame_of_reference_uid=generate_uid())
    records, series = _scan(tmp_path)
    assert len(series) == 1 and len(series[0]["stacks"]) == 1
    stack = series[0]["stacks"][0]
    assert stack["kind"] == "ordinary" and (stack["rows"], stack["columns"]) == (16, 16)
    expected = [names[i] for i in np.argsort([_along_normal((-100, -120, v), AXIAL) for v in z])]
    assert _names(records, stack) == expected
    assert [f["virtual_index"] for f in stack["frames"]] == list(range(15))
    assert [f["frame_index"] for f in stack["frames"]] == [0] * 15
    got = [f["position_along_normal_mm"] for f in stack["frames"]]
    assert got == pytest.approx(sorted(z), abs=1e-5)


@pytest.mark.parametrize("tilt_degrees", [0.0, 12.0, -25.0])
def test_gantry_tilt_orders_by_position_along_the_tilted_normal(
    tmp_path: Path, tilt_degrees: float
) -> None:
    t = math.radians(tilt_degrees)
    orientation = (1.0, 0.0, 0.0, 0.0, math.cos(t), math.sin(t))
    rng = random.Random(3)
    # Tilted acquisitions step along the table (z) while the plane stays tilted.
    z = [2.5 * i for i in range(10)]
    order = rng.sample(range(10), 10)
    slices = [
        {
            "name": f"s{order[i]}.dcm",
            "position": (-50.0, -60.0 + 3.0 * math.sin(t) * i, z[i]),
            "instance_number": 10 - i,
        }
        for i in range(10)
    ]
    _write_series(tmp_path, slices, orientation=orientation)
    records, series = _scan(tmp_path)
    (stack,) = series[0]["stacks"]
    distances = [_along_normal(s["position"], orientation) for s in slices]
    assert _names(records, stack) == [slices[i]["name"] for i in np.argsort(distances)]
    got = [f["position_along_normal_mm"] for f in stack["frames"]]
    assert got == pytest.approx(sorted(distances), abs=1e-5)


def test_oblique_orientation_orders_by_dot_product_with_the_normal(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    orientation = tuple(float(v) for v in (*q[:, 0], *q[:, 1]))
    positions = [tuple(float(v) for v in rng.normal(scale=80, size=3)) for _ in range(8)]
    slices = [{"name": f"o{i}.dcm", "position": p} for i, p in enumerate(positions)]
    _write_series(tmp_path, slices, orientation=orientation)
    records, series = _scan(tmp_path)
    (stack,) = series[0]["stacks"]
    # The written DS values are rounded to 16 characters: compare with what the file holds.
    distances = [_along_normal(p, orientation) for p in positions]
    assert _names(records, stack) == [f"o{i}.dcm" for i in np.argsort(distances)]


def test_two_orientations_in_one_series_make_two_stacks(tmp_path: Path) -> None:
    slices = [
        {"name": f"ax{i}.dcm", "position": (0, 0, 10.0 - i), "orientation": AXIAL} for i in range(4)
    ]
    slices += [
        {"name": f"sag{i}.dcm", "position": (5.0 * i, 0, 0), "orientation": SAGITTAL}
        for i in range(3)
    ]
    _write_series(tmp_path, slices)
    records, series = _scan(tmp_path)
    assert len(series) == 1
    stacks = series[0]["stacks"]
    assert len(stacks) == 2
    by_first = {_names(records, s)[0][:2]: _names(records, s) for s in stacks}
    assert by_first["ax"] == ["ax3.dcm", "ax2.dcm", "ax1.dcm", "ax0.dcm"]
    sag = [_along_normal((5.0 * i, 0, 0), SAGITTAL) for i in range(3)]
    assert by_first["sa"] == [f"sag{i}.dcm" for i in np.argsort(sag, kind="stable")]


def test_orientations_within_tolerance_share_a_stack(tmp_path: Path) -> None:
    near = (1.0, 0.00005, 0.0, 0.0, 0.99996, 0.00004)
    far = (1.0, 0.0005, 0.0, 0.0, 1.0, 0.0)
    slices = [
        {"name": "a.dcm", "position": (0, 0, 1.0), "orientation": AXIAL},
        {"name": "b.dcm", "position": (0, 0, 2.0), "orientation": near},
        {"name": "c.dcm", "position": (0, 0, 3.0), "orientation": far},
    ]
    _write_series(tmp_path, slices)
    records, series = _scan(tmp_path)
    stacks = [_names(records, s) for s in series[0]["stacks"]]
    assert sorted(stacks) == [["a.dcm", "b.dcm"], ["c.dcm"]]


def test_many_orientations_in_one_series_each_make_a_stack(tmp_path: Path) -> None:
    # Radial-like: 20 planes rotated about the z axis, two slices each; the second slice's
    # orientation is off by less than the tolerance, so it joins its plane's stack.
    slices = []
    for k in range(20):
        a = math.radians(9 * k)
        orientation = (math.cos(a), math.sin(a), 0.0, 0.0, 0.0, -1.0)
        nudged = (*orientation[:3], -0.00004, 0.0, -1.0)  # in the next grid cell
        for j, o in enumerate((orientation, nudged)):
            slices.append(
                {"name": f"r{k:02d}_{j}.dcm", "position": (0, 0, 3.0 * j), "orientation": o}
            )
    _write_series(tmp_path, slices)
    records, series = _scan(tmp_path)
    stacks = sorted(sorted(_names(records, s)) for s in series[0]["stacks"])
    assert stacks == [[f"r{k:02d}_0.dcm", f"r{k:02d}_1.dcm"] for k in range(20)]


def test_frame_of_reference_and_matrix_size_split_stacks(tmp_path: Path) -> None:
    for_a, for_b = generate_uid(), generate_uid()
    slices = [
        {"name": "a1.dcm", "position": (0, 0, 1), "frame_of_reference_uid": for_a},
        {"name": "a2.dcm", "position": (0, 0, 2), "frame_of_reference_uid": for_a},
        {"name": "b1.dcm", "position": (0, 0, 1), "frame_of_reference_uid": for_b},
        {"name": "big.dcm", "position": (0, 0, 3), "frame_of_reference_uid": for_a, "rows": 32},
    ]
    _write_series(tmp_path, slices)
    records, series = _scan(tmp_path)
    (one,) = series
    assert one["frame_of_reference_uids"] == [for_a, for_b]
    stacks = sorted(_names(records, s) for s in one["stacks"])
    assert stacks == [["a1.dcm", "a2.dcm"], ["b1.dcm"], ["big.dcm"]]
    big = next(s for s in one["stacks"] if _names(records, s) == ["big.dcm"])
    assert (big["rows"], big["columns"]) == (32, 16)


def test_without_geometry_instance_number_then_path(tmp_path: Path) -> None:
    slices = [
        {"name": "z.dcm", "instance_number": 2},
        {"name": "y.dcm", "instance_number": 3},
        {"name": "b.dcm", "instance_number": 1},
        {"name": "a.dcm", "instance_number": 1},
        {"name": "c.dcm", "instance_number": 10},
    ]
    _write_series(tmp_path, slices, position=None, orientation=None)
    records, series = _scan(tmp_path)
    (stack,) = series[0]["stacks"]
    assert _names(records, stack) == ["a.dcm", "b.dcm", "z.dcm", "y.dcm", "c.dcm"]
    assert [f["position_along_normal_mm"] for f in stack["frames"]] == [None] * 5
    assert [f["instance_number"] for f in stack["frames"]] == [1, 1, 2, 3, 10]


def test_duplicate_positions_keep_every_file_by_instance_then_path(tmp_path: Path) -> None:
    slices = [
        {"name": "p2.dcm", "position": (0, 0, 5.0), "instance_number": 7},
        {"name": "p1.dcm", "position": (0, 0, 5.0), "instance_number": 7},
        {"name": "p0.dcm", "position": (0, 0, 5.0), "instance_number": 3},
        {"name": "low.dcm", "position": (0, 0, -5.0), "instance_number": 9},
    ]
    _write_series(tmp_path, slices)
    records, series = _scan(tmp_path)
    (stack,) = series[0]["stacks"]
    assert _names(records, stack) == ["low.dcm", "p0.dcm", "p1.dcm", "p2.dcm"]


def test_files_without_a_series_uid_are_not_stacked_together(tmp_path: Path) -> None:
    for i in range(3):
        path = gen.write_positioned_slice(tmp_path / f"n{i}.dcm", position=(0, 0, i)).path
        ds = pydicom.dcmread(path)
        del ds.SeriesInstanceUID
        ds.save_as(path)
    _records, series = _scan(tmp_path)
    assert len(series) == 3
    assert all(len(s["stacks"]) == 1 and len(s["stacks"][0]["frames"]) == 1 for s in series)


def test_single_and_multi_frame_files_of_one_series(tmp_path: Path) -> None:
    uids = _write_series(
        tmp_path,
        [{"name": f"s{i}.dcm", "position": (0, 0, -float(i))} for i in range(3)],
    )
    gen.write_multiframe(tmp_path, frames=4, rows=16, columns=16, name="cine.dcm", **uids)
    gen.write_enhanced_ct(
        tmp_path, positions=[(0, 0, 3), (0, 0, 1), (0, 0, 2)], name="enh.dcm", **uids
    )
    gen.write_no_pixels(tmp_path, **uids)
    records, series = _scan(tmp_path)
    (one,) = series
    kinds = sorted((s["kind"], tuple(_names(records, s))) for s in one["stacks"])
    assert kinds == [
        ("multiframe", ("cine.dcm",) * 4),
        ("multiframe", ("enh.dcm",) * 3),
        ("ordinary", ("s2.dcm", "s1.dcm", "s0.dcm")),
    ]
    cine = next(s for s in one["stacks"] if _names(records, s)[0] == "cine.dcm")
    assert [f["frame_index"] for f in cine["frames"]] == [0, 1, 2, 3]
    assert [f["position_along_normal_mm"] for f in cine["frames"]] == [None] * 4
    _assert_every_frame_once(records, series)


def test_enhanced_multiframe_ordered_by_per_frame_plane_position(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    orientation = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    positions = [(float(x), 3.0, -2.0) for x in rng.permutation(np.arange(6) * 1.5 - 4)]
    gen.write_enhanced_ct(
        tmp_path, positions=positions, orientation=orientation, rescales=(1.0, -1024.0)
    )
    _records, series = _scan(tmp_path)
    (stack,) = series[0]["stacks"]
    distances = [_along_normal(p, orientation) for p in positions]
    assert stack["kind"] == "multiframe"
    assert [f["frame_index"] for f in stack["frames"]] == list(np.argsort(distances))
    got = [f["position_along_normal_mm"] for f in stack["frames"]]
    assert got == pytest.approx(sorted(distances))


def test_enhanced_multiframe_without_positions_keeps_file_order(tmp_path: Path) -> None:
    gen.write_enhanced_ct(tmp_path, positions=None, rescales=[(1, 0), (2, 0), (3, 0)])
    _records, series = _scan(tmp_path)
    (stack,) = series[0]["stacks"]
    assert [f["frame_index"] for f in stack["frames"]] == [0, 1, 2]


def test_series_and_stacks_follow_the_file_order_with_unique_ids(tmp_path: Path) -> None:
    study = generate_uid()
    for n in (2, 1):
        uids = _write_series(
            tmp_path,
            [{"name": f"x{n}_{i}.dcm", "position": (0, 0, i)} for i in range(2)],
            series_number=n,
            study_uid=study,
        )
        gen.write_multiframe(
            tmp_path, frames=2, rows=8, columns=8, name=f"m{n}.dcm", series_number=n, **uids
        )
    records, series = _scan(tmp_path)
    firsts = [min(f["file_index"] for st in s["stacks"] for f in st["frames"]) for s in series]
    assert firsts == sorted(firsts)
    assert [s["series_number"] for s in series] == [1, 2]
    ids = [s["id"] for s in series] + [st["id"] for s in series for st in s["stacks"]]
    assert len(ids) == len(set(ids))
    assert series_list(records) == series  # the same records give the same ids


def _assert_every_frame_once(records: list[FileRecord], series: list[dict[str, Any]]) -> None:
    listed = [
        (f["file_index"], f["frame_index"])
        for s in series
        for st in s["stacks"]
        for f in st["frames"]
    ]
    expected = [
        (i, f) for i, r in enumerate(records) if r.layout is not None for f in range(r.frame_count)
    ]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == expected


def test_real_files_every_frame_in_exactly_one_stack() -> None:
    files = [str(p) for p in gen.pydicom_test_files() + gen.pydicom_data_files()]
    records, _, _ = scan(files)
    series = series_list(records)
    _assert_every_frame_once(records, series)
    for s in series:
        for stack in s["stacks"]:
            frames = stack["frames"]
            assert [f["virtual_index"] for f in frames] == list(range(len(frames)))
            files_in = {f["file_index"] for f in frames}
            assert (stack["kind"] == "multiframe") == (
                records[frames[0]["file_index"]].frame_count > 1
            )
            if stack["kind"] == "multiframe":
                assert len(files_in) == 1
            for f in frames:
                r = records[f["file_index"]]
                assert (r.layout.rows, r.layout.columns) == (stack["rows"], stack["columns"])
                assert f["sop_instance_uid"] == r.fields["sop_instance_uid"]


def test_real_enhanced_ct_frames_are_ordered_along_its_normal() -> None:
    path = next(p for p in gen.pydicom_data_files() if p.name == "eCT_Supplemental.dcm")
    records, _, _ = scan([str(path)])
    (one,) = series_list(records)
    (stack,) = one["stacks"]
    # Orientation (-1,0,0,0,1,0): normal (0,0,-1); frame 0 at z=-159, frame 1 at z=-149.
    expected = [_along_normal((99.5, -301.5, z), (-1, 0, 0, 0, 1, 0)) for z in (-159, -149)]
    assert stack["kind"] == "multiframe"
    assert [f["frame_index"] for f in stack["frames"]] == list(np.argsort(expected))
    got = [f["position_along_normal_mm"] for f in stack["frames"]]
    assert got == pytest.approx(sorted(expected))
    assert one["frame_of_reference_uids"] == ["1.3.6.1.4.1.5962.1.4.10.1.1166562673.14401"]


def test_damaged_functional_groups_leave_the_file_loaded(tmp_path: Path) -> None:
    written = gen.write_enhanced_ct(
        tmp_path, positions=[(0, 0, 2), (0, 0, 1), (0, 0, 0)], windows=(40, 400)
    )
    ds = pydicom.dcmread(written.path)
    ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].ImagePositionPatient = [1, 2]
    ds.SharedFunctionalGroupsSequence[0].FrameVOILUTSequence[0].WindowWidth = -5
    ds.save_as(written.path)
    records, series = _scan(tmp_path)
    (record,) = records
    assert record.layout is not None and record.layout.default_window is None
    (stack,) = series[0]["stacks"]
    # One frame has no usable position: the frames keep their file order.
    assert [f["frame_index"] for f in stack["frames"]] == [0, 1, 2]
    assert [f["position_along_normal_mm"] for f in stack["frames"]] == [2.0, None, 0.0]
