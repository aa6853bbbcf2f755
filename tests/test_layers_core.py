"""Layers in the core (SPEC §10): readers over real files, placement by geometry.

Every placement test computes where a value must land independently (from the patient
coordinates written into the files), then asks the session's layer store.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from dcmview.core.layers.model import LayerError
from dcmview.core.session import Session

from . import layergen as lg


def _session(*paths: Path, overlays: tuple[str, ...] = ()) -> Session:
    session = Session([str(p) for p in paths], overlays=list(overlays))
    session.scan()
    return session


def _frame(session: Session, layer_id: str, virtual: int) -> np.ndarray | None:
    frame = session.layers().frame(layer_id, virtual)
    if frame is None:
        return None
    return np.frombuffer(frame.body, dtype=frame.dtype).reshape(frame.rows, frame.columns)


def _only(session: Session) -> dict:
    listing = session.layers().listing()
    assert len(listing) == 1, listing
    return listing[0]


@pytest.fixture
def ct(tmp_path: Path) -> list[Path]:
    return lg.write_ct(tmp_path / "study" / "ct", count=5, rows=32, columns=32)


def test_seg_segments_land_on_their_slices_with_their_colours(tmp_path: Path, ct: list[Path]):
    mask = np.zeros((5, 32, 32), np.uint8)
    mask[1:4, 10:20, 5:8] = 1
    mask[2, 20:25, 20:26] = 2
    lg.write_seg(tmp_path / "study" / "seg.dcm", ct, mask)
    session = _session(tmp_path / "study")
    try:
        layer = _only(session)
        assert layer["kind"] == "labels" and layer["source"] == "seg"
        assert layer["stack_id"] is not None and layer["problem"] is None
        assert layer["labels"] == [
            {"value": 1, "name": "Liver", "color": "#ff0000"},
            {"value": 2, "name": "Lesion", "color": "#00ff00"},
        ]
        stack = session.layers().stack(layer["stack_id"])
        by_path = {session.files[f].path: v for v, (f, _) in enumerate(stack.frames)}
        for i, path in enumerate(ct):
            got = _frame(session, layer["id"], by_path[str(path)])
            if not mask[i].any():  # highdicom stores no frame for an empty slice
                assert got is None or not got.any()
                continue
            assert got is not None and got.dtype == np.uint8
            np.testing.assert_array_equal(got, mask[i])
    finally:
        session.close()


def test_fractional_seg_counts_from_half(tmp_path: Path, ct: list[Path]):
    values = np.zeros((5, 32, 32), np.float32)
    values[2, 4:8, 4:8] = 0.75
    values[2, 10:12, 10:12] = 0.25
    lg.write_seg(tmp_path / "study" / "frac.dcm", ct, values, fractional=True)
    session = _session(tmp_path / "study")
    try:
        layer = _only(session)
        stack = session.layers().stack(layer["stack_id"])
        virtual = next(
            v for v, (f, _) in enumerate(stack.frames) if session.files[f].path == str(ct[2])
        )
        got = _frame(session, layer["id"], virtual)
        assert got is not None
        assert got[4:8, 4:8].all() and not got[10:12, 10:12].any()
        assert int(got.sum()) == 16
    finally:
        session.close()


def test_seg_of_a_series_not_loaded_is_listed_with_the_reason(tmp_path: Path, ct: list[Path]):
    mask = np.zeros((5, 32, 32), np.uint8)
    mask[2, 1:3, 1:3] = 1
    alone = tmp_path / "alone"
    alone.mkdir()
    lg.write_seg(alone / "seg.dcm", ct, mask, labels=(("Liver", None),))
    session = _session(alone)
    try:
        layer = _only(session)
        assert layer["stack_id"] is None
        series = pydicom.dcmread(ct[0]).SeriesInstanceUID
        assert series in layer["problem"] and "not loaded" in layer["problem"]
        assert [f["path"] for f in [session.summary(0)]] == [str(alone / "seg.dcm")]
    finally:
        session.close()


@pytest.mark.parametrize(
    "affine_ras",
    [
        # LPS axes of the CT (x = column, y = row, z = slice) as RAS: x and y flipped.
        np.array([[-0.7, 0, 0, 0], [0, -0.7, 0, 0], [0, 0, 2.5, 0], [0, 0, 0, 1]]),
        # Stored the other way round along every axis (a radiological flip of i and j, k down).
        np.array(
            [[0.7, 0, 0, -0.7 * 31], [0, 0.7, 0, -0.7 * 31], [0, 0, -2.5, 10.0], [0, 0, 0, 1]]
        ),
        # Axes transposed: i runs along the CT's rows, j along its columns.
        np.array([[0, -0.7, 0, 0], [-0.7, 0, 0, 0], [0, 0, 2.5, 0], [0, 0, 0, 1]]),
    ],
    ids=["ras-of-lps", "flipped", "transposed"],
)
def test_nifti_voxel_lands_on_the_pixel_of_its_patient_coordinate(
    tmp_path: Path, ct: list[Path], affine_ras: np.ndarray
):
    data = np.zeros((32, 32, 5), np.uint8)
    i, j, k = 3, 20, 1
    data[i, j, k] = 7
    path = lg.write_nifti(tmp_path / "mask.nii.gz", data, affine_ras)
    x_ras, y_ras, z = (affine_ras @ [i, j, k, 1])[:3]
    x, y = -x_ras, -y_ras  # LPS
    # The CT: slice s at z = 2.5 s, pixel (row, column) at (y / 0.7, x / 0.7).
    want_slice, row, column = round(z / 2.5), round(y / 0.7), round(x / 0.7)
    session = _session(tmp_path / "study", overlays=(str(path),))
    try:
        layer = _only(session)
        assert layer["problem"] is None and layer["labels"][0]["value"] == 7
        stack = session.layers().stack(layer["stack_id"])
        for virtual, (index, _) in enumerate(stack.frames):
            got = _frame(session, layer["id"], virtual)
            if session.files[index].path == str(ct[want_slice]):
                assert got is not None
                assert list(zip(*np.nonzero(got), strict=True)) == [(row, column)]
                assert got[row, column] == 7
            else:
                assert got is None or not got.any()
    finally:
        session.close()


def test_nifti_off_the_stack_says_so_and_draws_nothing(tmp_path: Path, ct: list[Path]):
    far = np.diag([-0.7, -0.7, 2.5, 1.0])
    far[2, 3] = 500.0  # 500 mm above the CT
    path = lg.write_nifti(tmp_path / "far.nii", np.ones((32, 32, 5), np.uint8), far)
    session = _session(tmp_path / "study", overlays=(str(path),))
    try:
        layer = _only(session)
        assert layer["stack_id"] is None and "affine" in layer["problem"]
        assert layer["matched_frames"] == 0
    finally:
        session.close()


def test_slice_between_layer_slices_gets_nothing(tmp_path: Path):
    """A NIfTI with slices 5 mm apart over a CT with slices 2.5 mm apart: a CT slice within half
    a NIfTI spacing (2.5 mm) of a NIfTI slice gets it; one beyond the last NIfTI slice by more
    than that gets nothing, never the last slice."""
    ct = lg.write_ct(tmp_path / "study", count=12, rows=8, columns=8, step=2.5)
    affine = np.diag([-0.7, -0.7, 5.0, 1.0])
    data = np.zeros((8, 8, 3), np.uint8)
    for k in range(3):
        data[:, :, k] = k + 1
    path = lg.write_nifti(tmp_path / "thick.nii", data, affine)
    session = _session(tmp_path / "study", overlays=(str(path),))
    try:
        layer = _only(session)
        stack = session.layers().stack(layer["stack_id"])
        seen = {}
        for virtual, (index, _) in enumerate(stack.frames):
            got = _frame(session, layer["id"], virtual)
            z = 2.5 * ct.index(Path(session.files[index].path))
            seen[z] = None if got is None else int(got[0, 0])
        assert seen[0.0] == 1 and seen[5.0] == 2 and seen[10.0] == 3
        assert seen[2.5] in (1, 2) and seen[12.5] == 3  # within half a spacing (2.5 mm)
        assert seen[15.0] is None and seen[27.5] is None  # beyond: nothing, not slice 3
    finally:
        session.close()


def test_rtdose_is_scaled_to_grid_units_on_its_planes(tmp_path: Path):
    folder = tmp_path / "dose"
    lg.ct_for_rtdose(folder)
    dose = pydicom.dcmread(lg.TEST_FILES / "rtdose.dcm", force=True)
    expected = dose.pixel_array * float(dose.DoseGridScaling)
    session = _session(folder)
    try:
        layer = _only(session)
        assert layer["kind"] == "heatmap" and layer["source"] == "rtdose"
        assert layer["units"] == "relative"  # the file says DoseUnits RELATIVE
        assert layer["value_range"] == pytest.approx([expected.min(), expected.max()])
        stack = session.layers().stack(layer["stack_id"])
        for virtual in (0, 7, 14):
            got = _frame(session, layer["id"], virtual)
            assert got is not None and got.dtype == np.float32
            # Image pixel (r, c) lies in dose pixel ((r + 1.5) // 4, (c + 1.5) // 4).
            want = np.repeat(np.repeat(expected[virtual], 4, axis=0), 4, axis=1)
            np.testing.assert_allclose(got, want, rtol=1e-6)
        assert stack.shape == (15, 40, 40)
    finally:
        session.close()


def test_rtstruct_contours_are_polygons_in_pixels_and_filled_frames(tmp_path: Path):
    folder = tmp_path / "rs"
    lg.ct_for_rtstruct(folder)
    session = _session(folder)
    try:
        layer = _only(session)
        assert layer["kind"] == "contours" and layer["source"] == "rtstruct"
        assert layer["labels"] == [{"value": 1, "name": "patient", "color": "#dca078"}]
        store = session.layers()
        stack = store.stack(layer["stack_id"])
        first = store.contours(layer["id"], 0)  # z = -200: one contour
        assert len(first) == 1 and first[0]["value"] == 1 and first[0]["name"] == "patient"
        ds = pydicom.dcmread(lg.TEST_FILES / "rtstruct.dcm", force=True)
        points = np.array(ds.ROIContourSequence[0].ContourSequence[0].ContourData, float)
        x, y = points[0::3], points[1::3]
        want = np.stack([(x + 252) / 8, (y + 252) / 8], axis=1)
        np.testing.assert_allclose(first[0]["points"], want, atol=1e-3)
        filled = _frame(session, layer["id"], 0)
        assert filled is not None
        inside = np.nonzero(filled)
        assert inside[1].min() == round(want[:, 0].min()) and inside[0].max() == round(
            want[:, 1].max()
        )
        assert stack.shape[0] == 3
    finally:
        session.close()


def test_overlay_plane_is_a_labels_layer_of_its_file():
    session = _session(lg.TEST_FILES / "examples_overlay.dcm")
    try:
        layer = _only(session)
        assert layer["source"] == "overlay" and layer["kind"] == "labels"
        ds = pydicom.dcmread(lg.TEST_FILES / "examples_overlay.dcm")
        got = _frame(session, layer["id"], 0)
        assert got is not None
        np.testing.assert_array_equal(got, ds.overlay_array(0x6000))
        raw, _ = session.raw(0, 0)  # /raw is the image alone
        np.testing.assert_array_equal(raw[1].array(raw[0]), ds.pixel_array)
    finally:
        session.close()


def test_parametric_map_carries_its_values_and_units(tmp_path: Path, ct: list[Path]):
    values = np.linspace(0, 3e-3, 5 * 32 * 32, dtype=np.float32).reshape(5, 32, 32)
    lg.write_pmap(tmp_path / "study" / "adc.dcm", ct, values)
    session = _session(tmp_path / "study")
    try:
        layer = _only(session)
        assert layer["source"] == "pmap" and layer["kind"] == "heatmap"
        assert layer["units"] == "mm2/s"
        stack = session.layers().stack(layer["stack_id"])
        for virtual, (index, _) in enumerate(stack.frames):
            got = _frame(session, layer["id"], virtual)
            i = ct.index(Path(session.files[index].path))
            np.testing.assert_allclose(got, values[i], rtol=1e-6)
    finally:
        session.close()


def test_broken_overlay_file_is_listed_with_a_message(tmp_path: Path, ct: list[Path]):
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"not a nifti file at all")
    session = _session(tmp_path / "study", overlays=(str(bad),))
    try:
        layer = _only(session)
        assert layer["stack_id"] is None and "bad.nii" in layer["problem"]
    finally:
        session.close()


def test_read_array_names_both_shapes():
    from dcmview.core.layers.arrays import read_array

    with pytest.raises(LayerError, match=r"\(3, 64, 64\).*\(5, 64, 64\)"):
        read_array(np.zeros((3, 64, 64), np.uint8), "m", (5, 64, 64), "stack-0")


def test_multiframe_overlay_lands_on_its_frames_only(tmp_path: Path):
    from pydicom.pixels import pack_bits

    from . import dicomgen as gen

    written = gen.write_multiframe(tmp_path, frames=4, rows=16, columns=20, name="mf.dcm")
    ds = pydicom.dcmread(written.path)
    bits = np.zeros((2, 8, 10), np.uint8)
    bits[0, 1, 2] = 1  # on image frame 2 (1-based), at image pixel (3 + 1, 5 + 2)
    bits[1, 7, 9] = 1  # on image frame 3
    ds.add_new(0x60000010, "US", 8)  # Overlay Rows
    ds.add_new(0x60000011, "US", 10)  # Overlay Columns
    ds.add_new(0x60000015, "IS", 2)  # Number of Frames in Overlay
    ds.add_new(0x60000022, "LO", "lesion marks")  # Overlay Description
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [4, 6])  # Overlay Origin (row, column), 1-based
    ds.add_new(0x60000051, "US", 2)  # Image Frame Origin, 1-based
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", pack_bits(bits.ravel()))
    ds.save_as(written.path)
    session = _session(written.path)
    try:
        layer = _only(session)
        assert layer["name"] == "lesion marks" and layer["source"] == "overlay"
        stack = session.layers().stack(layer["stack_id"])
        got = {}
        for virtual, (_, frame) in enumerate(stack.frames):
            plane = _frame(session, layer["id"], virtual)
            got[frame] = None if plane is None else list(zip(*np.nonzero(plane), strict=True))
        assert got == {0: None, 1: [(4, 7)], 2: [(10, 14)], 3: None}
    finally:
        session.close()


def test_sparse_seg_claims_only_its_own_slices(tmp_path: Path):
    """A SEG storing only two frames 9.5 mm apart (over a CT whose last slice is 7 mm past the
    others) draws on those two CT slices only: the CT slice 2.5 mm from a stored frame gets
    nothing: the SEG's slice thickness (2.5 mm) counts, never the gap between its frames."""
    ct = lg.write_ct(tmp_path / "study", count=4, rows=16, columns=16)
    moved = pydicom.dcmread(ct[3])
    moved.ImagePositionPatient = [0.0, 0.0, 12.0]
    moved.save_as(ct[3])
    mask = np.zeros((4, 16, 16), np.uint8)
    mask[1, 5:7, 5:7] = 2
    mask[3, 2:4, 2:4] = 1
    lg.write_seg(tmp_path / "study" / "seg.dcm", ct, mask)
    session = _session(tmp_path / "study")
    try:
        layer = _only(session)
        stack = session.layers().stack(layer["stack_id"])
        for virtual, (index, _) in enumerate(stack.frames):
            i = ct.index(Path(session.files[index].path))
            got = _frame(session, layer["id"], virtual)
            if mask[i].any():
                np.testing.assert_array_equal(got, mask[i])
            else:
                assert got is None, f"CT slice {i} got a slice of the SEG"
    finally:
        session.close()


def test_sparse_volume_without_stated_spacing_takes_the_images_spacing():
    """Two stored slices 10 mm apart over images 2.5 mm apart, no thickness stated: each stored
    slice lands on its own image only (within 1.25 mm), not on the images between them."""
    from dcmview.core.layers.model import AffineVolume
    from dcmview.core.layers.placement import ImagePlane, StackInfo, place

    affine = np.array([[0, 0, 1.0, 0], [0, 1.0, 0, 0], [10.0, 0, 0, 0], [0, 0, 0, 1]])
    volume = AffineVolume("1.2.3", np.ones((2, 4, 4), np.uint8), affine, sparse=True)
    planes = tuple(
        ImagePlane(np.array([0.0, 0.0, 2.5 * i]), np.eye(3)[0], np.eye(3)[1], (1.0, 1.0))
        for i in range(6)
    )
    stack = StackInfo("stack-0", "s", "1.2.3", 4, 4, tuple((i, 0) for i in range(6)), planes)
    matched = [m is not None for m in place(volume, stack)]
    assert matched == [True, False, False, False, True, False]
    dense = AffineVolume("1.2.3", np.ones((2, 4, 4), np.uint8), affine)
    assert [m is not None for m in place(dense, stack)] == [True, True, True, True, True, True]


def test_a_tilted_layer_is_not_drawn_where_it_leaves_the_image_plane():
    """A volume tilted by 2° (within the parallel tolerance) over 100-pixel images 1 mm apart:
    across the image its plane drifts by 3.5 mm, more than half a slice: nothing is drawn."""
    from dcmview.core.layers.model import AffineVolume
    from dcmview.core.layers.placement import ImagePlane, StackInfo, place

    tilt = np.radians(2.0)
    column = np.array([np.cos(tilt), 0.0, np.sin(tilt)])  # along x, rising in z
    affine = np.eye(4)
    affine[:3, 0] = [0, 0, 1.0]  # slices along z, 1 mm apart
    affine[:3, 1] = [0, 1.0, 0]
    affine[:3, 2] = column
    volume = AffineVolume("1.2.3", np.ones((5, 100, 100), np.uint8), affine)
    planes = tuple(
        ImagePlane(np.array([0.0, 0.0, float(i)]), np.eye(3)[0], np.eye(3)[1], (1.0, 1.0))
        for i in range(5)
    )
    stack = StackInfo("stack-0", "s", "1.2.3", 100, 100, tuple((i, 0) for i in range(5)), planes)
    assert place(volume, stack) == [None] * 5
    small = StackInfo("stack-1", "s", "1.2.3", 10, 10, stack.frames, planes)  # 0.3 mm drift
    assert all(m is not None for m in place(volume, small))
