"""Display shutters (SPEC §12): read from generated files, as masks, in display PNGs (through
the three doors of the API), never in ``/raw``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels.utils import pack_bits

from dcmview.core.discovery import read_record
from dcmview.core.shutters import (
    Shutter,
    display_colour,
    image_mask,
    lab_to_srgb,
    read_shutter,
    shutter_mask,
)

from . import dicomgen as gen
from .transports import DOORS, door

ROWS, COLUMNS = 48, 64
GREY_VALUE = 52428  # P-value 0.8 of white: 204 in 8 bits


def circular(row: int = 24, column: int = 32, radius: int = 15, **more: Any) -> dict[str, Any]:
    return {
        "ShutterShape": "CIRCULAR",
        "CenterOfCircularShutter": [row, column],
        "RadiusOfCircularShutter": radius,
        **more,
    }


def rectangular(left: int, right: int, upper: int, lower: int) -> dict[str, Any]:
    return {
        "ShutterShape": "RECTANGULAR",
        "ShutterLeftVerticalEdge": left,
        "ShutterRightVerticalEdge": right,
        "ShutterUpperHorizontalEdge": upper,
        "ShutterLowerHorizontalEdge": lower,
    }


def polygonal(vertices: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "ShutterShape": "POLYGONAL",
        "VerticesOfThePolygonalShutter": [v for vertex in vertices for v in vertex],
    }


def write_bitmap(path: Path, plane: np.ndarray, origin: tuple[int, int]) -> Path:
    """An image with a bitmap shutter: overlay plane 6000 (its set bits shuttered)."""
    written = write(path, {"ShutterShape": "BITMAP", "ShutterOverlayGroup": 0x6000})
    ds = pydicom.dcmread(written)
    for elem, vr, value in (
        (0x0010, "US", plane.shape[0]),
        (0x0011, "US", plane.shape[1]),
        (0x0040, "CS", "G"),
        (0x0050, "SS", list(origin)),
        (0x0100, "US", 1),
        (0x0102, "US", 0),
        (0x3000, "OW", pack_bits(plane.astype(np.uint8))),
    ):
        ds.add_new(0x60000000 | elem, vr, value)
    ds.save_as(written)
    return written


def write(path: Path, shutter: dict[str, Any], **kw: Any) -> Path:
    return gen.write_image(path, gen.phantom(ROWS, COLUMNS), extra=shutter, **kw)


def shutter_of(path: Path) -> Shutter | None:
    record, _, reason = read_record(str(path))
    assert record is not None, reason
    return record.shutter


def centres() -> tuple[np.ndarray, np.ndarray]:
    """1-based row and column numbers of every pixel, (rows, 1) and (1, columns)."""
    return np.arange(1, ROWS + 1)[:, None], np.arange(1, COLUMNS + 1)[None, :]


# -- reading and masks ---------------------------------------------------------------------
def test_circular_shutter_hides_pixels_farther_than_the_radius(tmp_path: Path) -> None:
    shutter = shutter_of(write(tmp_path / "c.dcm", circular(20, 30, 12)))
    assert shutter == Shutter(shapes=("CIRCULAR",), circle=(20, 30, 12))
    r, c = centres()
    expected = (r - 20) ** 2 + (c - 30) ** 2 > 144
    assert np.array_equal(shutter_mask(shutter, ROWS, COLUMNS), expected)


def test_rectangular_shutter_keeps_its_edges_visible(tmp_path: Path) -> None:
    shutter = shutter_of(write(tmp_path / "r.dcm", rectangular(5, 40, 3, 30)))
    assert shutter is not None and shutter.rectangle == (5, 40, 3, 30)
    hidden = shutter_mask(shutter, ROWS, COLUMNS)
    # rows 3..30 and columns 5..40 (1-based, inclusive) are visible: [2:30, 4:40] 0-based
    visible = np.zeros((ROWS, COLUMNS), dtype=bool)
    visible[2:30, 4:40] = True
    assert np.array_equal(hidden, ~visible)


def test_polygonal_shutter_keeps_the_inside_of_the_polygon(tmp_path: Path) -> None:
    # a right triangle: (row, column) vertices, the right angle at the top left
    shutter = shutter_of(write(tmp_path / "p.dcm", polygonal([(5, 5), (5, 45), (45, 5)])))
    assert shutter is not None and shutter.polygon == ((5, 5), (5, 45), (45, 5))
    hidden = shutter_mask(shutter, ROWS, COLUMNS)
    assert not hidden[10 - 1, 10 - 1] and not hidden[6 - 1, 40 - 1]
    assert hidden[40 - 1, 40 - 1] and hidden[2 - 1, 2 - 1] and hidden[20 - 1, 60 - 1]
    # below the hypotenuse (row + column > 50) is outside
    r, c = centres()
    far = (r + c > 52) | (r < 5) | (c < 5)
    assert hidden[far].all()
    assert not hidden[(r + c < 48) & (r > 5) & (c > 5)].any()


def _ray_cast(vertices: list[tuple[int, int]], row: float, column: float) -> bool:
    """Inside by the even-odd rule, one point at a time (written apart from the module)."""
    inside = False
    for (r1, c1), (r2, c2) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        spans = (r1 <= row < r2) or (r2 <= row < r1)
        if spans and column < c1 + (row - r1) * (c2 - c1) / (r2 - r1):
            inside = not inside
    return inside


def test_concave_polygon_follows_the_even_odd_rule(tmp_path: Path) -> None:
    star = [(3, 32), (18, 38), (20, 60), (28, 42), (45, 50), (34, 32), (45, 10), (28, 22), (20, 4)]
    shutter = shutter_of(write(tmp_path / "star.dcm", polygonal(star)))
    assert shutter is not None
    hidden = shutter_mask(shutter, ROWS, COLUMNS)
    expected = np.array(
        [[not _ray_cast(star, r + 1, c + 1) for c in range(COLUMNS)] for r in range(ROWS)]
    )
    assert np.array_equal(hidden, expected)
    assert 0.1 < (~hidden).mean() < 0.6  # a real shape, neither nothing nor everything


def test_polygon_with_too_many_vertices_is_not_drawn(tmp_path: Path) -> None:
    vertices = [(1 + i % 2, 1 + i) for i in range(1025)]
    assert shutter_of(write(tmp_path / "many.dcm", polygonal(vertices))) is None


def test_several_shapes_hide_what_is_outside_any_of_them(tmp_path: Path) -> None:
    both = {**rectangular(1, 40, 1, ROWS), **circular(24, 32, 20)}
    both["ShutterShape"] = ["RECTANGULAR", "CIRCULAR"]
    shutter = shutter_of(write(tmp_path / "rc.dcm", both))
    assert shutter is not None and shutter.shapes == ("RECTANGULAR", "CIRCULAR")
    r, c = centres()
    expected = ((r - 24) ** 2 + (c - 32) ** 2 > 400) | (c > 40)
    assert np.array_equal(shutter_mask(shutter, ROWS, COLUMNS), expected)


def test_bitmap_shutter_hides_the_set_bits_of_its_overlay(tmp_path: Path) -> None:
    plane = np.zeros((10, 12), dtype=bool)
    plane[2:5, 3:9] = True
    path = write_bitmap(tmp_path / "b.dcm", plane, origin=(11, 21))
    shutter = shutter_of(path)
    assert shutter is not None and shutter.shapes == ("BITMAP",) and shutter.overlay_group == 0x6000
    hidden = image_mask(shutter, ROWS, COLUMNS, lambda: pydicom.dcmread(path))
    expected = np.zeros((ROWS, COLUMNS), dtype=bool)
    expected[10 + 2 : 10 + 5, 20 + 3 : 20 + 9] = True
    assert np.array_equal(hidden, expected)


def _shutter_item(**attributes: Any) -> Dataset:
    inner = Dataset()
    for keyword, value in attributes.items():
        setattr(inner, keyword, value)
    item = Dataset()
    item.FrameDisplayShutterSequence = [inner]
    return item


@pytest.mark.parametrize("where", ["shared", "per-frame alike", "per-frame differing"])
def test_enhanced_multiframe_shutter_comes_from_its_functional_groups(
    tmp_path: Path, where: str
) -> None:
    written = gen.write_enhanced_ct(tmp_path, positions=None, rows=ROWS, columns=COLUMNS)
    ds = pydicom.dcmread(written.path)
    if where == "shared":
        ds.SharedFunctionalGroupsSequence[0].update(_shutter_item(**circular(20, 30, 12)))
    else:
        for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
            radius = 12 + (i if where == "per-frame differing" else 0)
            item.update(_shutter_item(**circular(20, 30, radius)))
    ds.save_as(written.path)
    shutter = shutter_of(written.path)
    if where == "per-frame differing":
        assert shutter is None
    else:
        assert shutter == Shutter(shapes=("CIRCULAR",), circle=(20, 30, 12))


@pytest.mark.parametrize(
    "attributes",
    [
        {"ShutterShape": "CIRCULAR"},  # no centre, no radius
        {"ShutterShape": "RECTANGULAR", "ShutterLeftVerticalEdge": 3},
        {"ShutterShape": "POLYGONAL", "VerticesOfThePolygonalShutter": [1, 1, 5, 5]},
        {"ShutterShape": "BITMAP", "ShutterOverlayGroup": 0x7000},
    ],
)
def test_a_shape_without_usable_geometry_shutters_nothing(
    tmp_path: Path, attributes: dict[str, Any]
) -> None:
    assert shutter_of(write(tmp_path / "x.dcm", attributes)) is None


def test_shutter_colour_is_the_presentation_value_or_the_cielab_colour() -> None:
    grey = Shutter(shapes=("CIRCULAR",), circle=(1, 1, 1), presentation_value=GREY_VALUE)
    assert display_colour(grey, colour_image=False) == (204, 204, 204)
    assert display_colour(grey, colour_image=True) == (204, 204, 204)
    assert display_colour(Shutter(shapes=("CIRCULAR",)), colour_image=True) == (0, 0, 0)
    white, black = (65535, 32896, 32896), (0, 32896, 32896)
    assert lab_to_srgb(white) == (255, 255, 255) and lab_to_srgb(black) == (0, 0, 0)
    # sRGB red is L* 54.29, a* 80.80, b* 69.89 in D50 (Bradford)
    red = (round(54.29 * 65535 / 100), *(round((v + 128) * 65535 / 255) for v in (80.80, 69.89)))
    assert all(
        abs(got - want) <= 2 for got, want in zip(lab_to_srgb(red), (255, 0, 0), strict=True)
    )
    coloured = Shutter(shapes=("CIRCULAR",), lab=red, presentation_value=0)
    assert display_colour(coloured, colour_image=True)[0] >= 253
    assert display_colour(coloured, colour_image=False) == (0, 0, 0)


def test_read_shutter_of_a_header_without_one_is_none() -> None:
    ds = pydicom.Dataset()
    ds.Rows = 4
    assert read_shutter(ds) is None


# -- through the API ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shutters")
    write(root / "circle.dcm", circular(ShutterPresentationValue=GREY_VALUE), patient_id="C")
    write(root / "plain.dcm", {}, patient_id="P")
    gen.write_image(
        root / "colour.dcm",
        gen.colour_phantom(ROWS, COLUMNS),
        photometric="RGB",
        patient_id="RGB",
        extra=circular(ShutterPresentationColorCIELabValue=[65535, 32896, 32896]),
    )
    return root


@pytest.fixture(scope="module", params=DOORS)
def server(request: pytest.FixtureRequest, folder: Path):
    """The API through one of its doors (each with a session of its own)."""
    with door(request.param, [str(folder)]) as client:
        yield client


@pytest.fixture(scope="module")
def index_of(server):
    files = server.get("api/files").json()["files"]
    by_name = {Path(f["path"]).name: f["index"] for f in files}
    return lambda name: by_name[name]


def _picture(reply) -> np.ndarray:
    assert reply.status == 200, reply.body[:300]
    assert reply.header("Content-Type") == "image/png"
    return np.asarray(Image.open(io.BytesIO(reply.body)))


def _outside() -> np.ndarray:
    r, c = centres()
    return (r - 24) ** 2 + (c - 32) ** 2 > 15**2


def test_summary_names_the_shutter_shapes(server, index_of) -> None:
    files = server.get("api/files").json()["files"]
    assert files[index_of("circle.dcm")]["shutter_shapes"] == ["circular"]
    assert files[index_of("plain.dcm")]["shutter_shapes"] == []


def test_display_png_shows_the_shutter_value_outside_a_circle(server, index_of) -> None:
    i = index_of("circle.dcm")
    shown = _picture(server.get(f"api/file/{i}/frame/0"))
    under = _picture(server.get(f"api/file/{i}/frame/0?shutter=off"))
    outside = _outside()
    assert (shown[outside] == 204).all()
    assert np.array_equal(shown[~outside], under[~outside])
    # the image under the shutter is the image: not the shutter value everywhere
    assert (under[outside] != 204).any()


def test_colour_display_png_shows_the_cielab_colour_outside(server, index_of) -> None:
    i = index_of("colour.dcm")
    shown = _picture(server.get(f"api/file/{i}/frame/0"))
    under = _picture(server.get(f"api/file/{i}/frame/0?shutter=off"))
    assert shown.shape == (ROWS, COLUMNS, 3)
    assert (shown[_outside()] == 255).all()
    assert np.array_equal(shown[~_outside()], under[~_outside()])


def test_raw_samples_never_carry_the_shutter(server, index_of, folder: Path) -> None:
    i = index_of("circle.dcm")
    reply = server.get(f"api/file/{i}/frame/0/raw")
    assert reply.status == 200
    stored = pydicom.dcmread(folder / "circle.dcm").pixel_array
    assert reply.body == stored.astype("<u2").tobytes()


def test_shutter_picture_is_opaque_exactly_where_shuttered(server, index_of) -> None:
    i = index_of("circle.dcm")
    rgba = _picture(server.get(f"api/file/{i}/shutter"))
    assert rgba.shape == (ROWS, COLUMNS, 4)
    assert np.array_equal(rgba[..., 3] == 255, _outside())
    assert (rgba[..., 3] == 0).sum() == (~_outside()).sum()
    assert (rgba[_outside()][:, :3] == 204).all()


def test_a_file_without_a_shutter_has_no_shutter_picture(server, index_of) -> None:
    reply = server.get(f"api/file/{index_of('plain.dcm')}/shutter")
    assert reply.status == 404 and reply.json()["code"] == "no_shutter"


def test_shutter_query_takes_on_or_off_only(server, index_of) -> None:
    reply = server.get(f"api/file/{index_of('circle.dcm')}/frame/0?shutter=maybe")
    assert reply.status == 400 and reply.json()["code"] == "invalid_query"
    assert "shutter" in reply.json()["error"]
