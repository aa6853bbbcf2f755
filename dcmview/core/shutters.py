"""Display shutters: the parts of an image the file says not to show (PS3.3 C.7.6.11 Display
Shutter, C.7.6.15 Bitmap Display Shutter).

A file names up to three shapes (rectangular, circular, polygonal) and, with the bitmap module,
an overlay plane whose set bits are shuttered. Every shape says what stays visible; a pixel
outside ANY of them is shuttered, and shows the Shutter Presentation Value (a grey P-value) or
the Shutter Presentation Color CIELab Value instead of the image. Black when the file gives
neither.

Functions here are pure: :func:`read_shutter` turns a header into a :class:`Shutter` (kept on
the file's record), :func:`shutter_mask` turns that into a boolean mask, :func:`display_colour`
says what the shuttered pixels show. The caller hands in the bitmap overlay when there is one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

RECTANGULAR = "RECTANGULAR"
CIRCULAR = "CIRCULAR"
POLYGONAL = "POLYGONAL"
BITMAP = "BITMAP"
# More vertices than any real shutter has: such a polygon is not drawn (each vertex costs a
# pass over the rows its edge spans).
MAX_VERTICES = 1024
# Shared and Per-Frame Functional Groups Sequences (enhanced multi-frame files).
_SHARED = 0x52009229
_PER_FRAME = 0x52009230


@dataclass(frozen=True)
class Shutter:
    """The display shutter of one image; positions are DICOM's: 1-based rows and columns.

    Only the shapes whose attributes are usable are kept (a shape named without its geometry
    shutters nothing: showing too much is the safer mistake for a viewer).
    """

    shapes: tuple[str, ...]
    # left, right, upper, lower: the visible columns left..right and rows upper..lower
    rectangle: tuple[int, int, int, int] | None = None
    # centre row, centre column, radius (pixels): visible where the pixel centre is within
    circle: tuple[int, int, int] | None = None
    # (row, column) vertices: visible inside the polygon (even-odd rule on pixel centres)
    polygon: tuple[tuple[int, int], ...] | None = None
    # Group (0x6000..0x601E) of the overlay plane whose set bits are shuttered.
    overlay_group: int | None = None
    # Shutter Presentation Value: a grey P-value, 0 (black) to 65535 (white).
    presentation_value: int | None = None
    # Shutter Presentation Color CIELab Value as the file encodes it (three 16-bit numbers).
    lab: tuple[int, int, int] | None = None

    @property
    def labels(self) -> list[str]:
        """The shapes in lower case, for people ("circular", "bitmap")."""
        return [shape.lower() for shape in self.shapes]


def read_shutter(ds: Any) -> Shutter | None:
    """The display shutter of a header, or None when it names no usable shape.

    An enhanced multi-frame file keeps it in the Frame Display Shutter functional group: the
    shared one, or a per-frame one that every frame has alike. Frames with shutters of their
    own are not shuttered (one shutter per file is what the API and the viewer carry).
    """
    from .header_values import has_element

    if has_element(ds, "ShutterShape"):
        return _read_module(ds)
    if not (
        has_element(ds, "SharedFunctionalGroupsSequence")
        or has_element(ds, "PerFrameFunctionalGroupsSequence")
    ):
        return None  # (most files: the scan asks this of every one)
    try:
        shared = _items(ds.get(_SHARED))[:1]
        if shared:
            found = _frame_shutter(shared[0])
            if found is not None:
                return found
        per_frame = [_frame_shutter(item) for item in _items(ds.get(_PER_FRAME))]
    except Exception:  # a damaged sequence: no shutter rather than no file
        return None
    first = per_frame[0] if per_frame else None
    return first if first is not None and all(s == first for s in per_frame) else None


def _items(found: Any) -> list[Any]:
    """The items of a sequence (``ds.get`` gives its element by tag, its value by keyword)."""
    value = getattr(found, "value", found)
    if isinstance(value, list) or type(value).__name__ == "Sequence":
        return list(value)
    return []


def _frame_shutter(item: Any) -> Shutter | None:
    """The shutter of one functional groups item (Frame Display Shutter Sequence)."""
    from .header_values import has_element

    inner = _items(item.get("FrameDisplayShutterSequence"))
    return _read_module(inner[0]) if inner and has_element(inner[0], "ShutterShape") else None


def _read_module(ds: Any) -> Shutter | None:
    """The Display Shutter (and Bitmap Display Shutter) attributes of ``ds``."""
    from .header_values import header_value

    named = {str(s).strip().upper() for s in _list(header_value(ds, "ShutterShape"))}
    shapes: list[str] = []
    rectangle = circle = polygon = group = None
    if RECTANGULAR in named:
        edges = [
            _int(header_value(ds, keyword))
            for keyword in (
                "ShutterLeftVerticalEdge",
                "ShutterRightVerticalEdge",
                "ShutterUpperHorizontalEdge",
                "ShutterLowerHorizontalEdge",
            )
        ]
        if all(e is not None for e in edges):
            left, right, upper, lower = (int(e) for e in edges if e is not None)
            rectangle = (left, right, upper, lower)
            shapes.append(RECTANGULAR)
    if CIRCULAR in named:
        centre = _ints(header_value(ds, "CenterOfCircularShutter"))
        radius = _int(header_value(ds, "RadiusOfCircularShutter"))
        if centre is not None and len(centre) == 2 and radius is not None and radius >= 0:
            circle = (centre[0], centre[1], radius)
            shapes.append(CIRCULAR)
    if POLYGONAL in named:
        vertices = _ints(header_value(ds, "VerticesOfThePolygonalShutter"))
        count = len(vertices) // 2 if vertices is not None else 0
        if vertices is not None and 3 <= count <= MAX_VERTICES and len(vertices) % 2 == 0:
            polygon = tuple(zip(vertices[0::2], vertices[1::2], strict=True))
            shapes.append(POLYGONAL)
    if BITMAP in named:
        group = _int(header_value(ds, "ShutterOverlayGroup"))
        if group is not None and 0x6000 <= group <= 0x601E and group % 2 == 0:
            shapes.append(BITMAP)
        else:
            group = None
    if not shapes:
        return None
    value = _int(header_value(ds, "ShutterPresentationValue"))
    lab = _ints(header_value(ds, "ShutterPresentationColorCIELabValue"))
    return Shutter(
        shapes=tuple(shapes),
        rectangle=rectangle,
        circle=circle,
        polygon=polygon,
        overlay_group=group,
        presentation_value=None if value is None else min(max(value, 0), 65535),
        lab=(lab[0], lab[1], lab[2]) if lab is not None and len(lab) == 3 else None,
    )


def shutter_mask(
    shutter: Shutter, rows: int, columns: int, bitmap: np.ndarray | None = None, scale: int = 1
) -> np.ndarray:
    """A (rows, columns) boolean array, True where the image is shuttered.

    ``bitmap`` is the overlay plane of a bitmap shutter placed on the image grid (see
    :func:`place_overlay`); None shutters nothing for that shape. ``scale`` > 1: the grid is
    a reduced picture whose pixels each cover scale x scale pixels of the image (each takes
    the shutter of the centre of its block).
    """
    # DICOM rows and columns count from 1: the centre of pixel i (from 0) is at i + 1
    r = (np.arange(rows, dtype=np.float64) + 0.5) * scale + 0.5
    c = (np.arange(columns, dtype=np.float64) + 0.5) * scale + 0.5
    hidden = np.zeros((rows, columns), dtype=bool)
    if shutter.rectangle is not None:
        left, right, upper, lower = shutter.rectangle
        hidden |= ((r < upper) | (r > lower))[:, None] | ((c < left) | (c > right))[None, :]
    if shutter.circle is not None:
        cr, cc, radius = shutter.circle
        hidden |= ((r - cr) ** 2)[:, None] + ((c - cc) ** 2)[None, :] > radius**2
    if shutter.polygon is not None:
        hidden |= ~_inside_polygon(shutter.polygon, r, c)
    if bitmap is not None:
        hidden |= bitmap.astype(bool)[scale // 2 :: scale, scale // 2 :: scale][:rows, :columns]
    return hidden


def image_mask(
    shutter: Shutter, rows: int, columns: int, header: Callable[[], Any], scale: int = 1
) -> np.ndarray:
    """:func:`shutter_mask` of an image (a reduced picture of it when ``scale`` > 1), its
    bitmap overlay read from ``header()`` when the shutter has one (the scan keeps only the
    overlay's group, not its bits)."""
    bitmap = None
    if shutter.overlay_group is not None:
        bitmap = read_overlay(header(), shutter.overlay_group, rows * scale, columns * scale)
    return shutter_mask(shutter, rows, columns, bitmap, scale)


def _inside_polygon(vertices: tuple[tuple[int, int], ...], r: np.ndarray, c: np.ndarray) -> Any:
    """Pixel centres inside the polygon by the even-odd rule: a ray from each pixel towards
    larger columns crosses the edges an odd number of times."""
    inside = np.zeros((len(r), len(c)), dtype=bool)
    for (r1, c1), (r2, c2) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        if r1 == r2:
            continue  # a horizontal edge is crossed by no ray
        # only the rows the edge spans (r is increasing): a polygon costs its edges' heights
        first, stop = np.searchsorted(r, min(r1, r2)), np.searchsorted(r, max(r1, r2))
        rows = r[first:stop]
        at = c1 + (rows - r1) * (c2 - c1) / (r2 - r1)  # the edge's column on each row
        inside[first:stop] ^= c[None, :] < at[:, None]
    return inside


def place_overlay(
    overlay: np.ndarray, origin: tuple[int, int], rows: int, columns: int
) -> np.ndarray:
    """An overlay plane (its own rows and columns, Overlay Origin 1-based row and column of its
    first pixel) on the image grid; the parts outside the image are dropped."""
    placed = np.zeros((rows, columns), dtype=bool)
    top, left = origin[0] - 1, origin[1] - 1
    plane = np.asarray(overlay).astype(bool)
    if plane.ndim == 3:  # a multi-frame overlay: its first frame
        plane = plane[0]
    r0, c0 = max(top, 0), max(left, 0)
    r1 = min(top + plane.shape[0], rows)
    c1 = min(left + plane.shape[1], columns)
    if r1 > r0 and c1 > c0:
        placed[r0:r1, c0:c1] = plane[r0 - top : r1 - top, c0 - left : c1 - left]
    return placed


def read_overlay(ds: Any, group: int, rows: int, columns: int) -> np.ndarray | None:
    """The bitmap shutter's overlay plane of group ``group`` on the image grid, or None when
    the header holds no usable one."""
    try:
        plane = ds.overlay_array(group)
    except Exception:
        return None
    element = ds.get((group << 16) | 0x0050)  # Overlay Origin: row, column of its first pixel
    origin = _ints(element.value if element is not None else None)
    if origin is None or len(origin) != 2:
        origin = [1, 1]
    return place_overlay(plane, (origin[0], origin[1]), rows, columns)


def display_colour(shutter: Shutter, colour_image: bool) -> tuple[int, int, int]:
    """The 8-bit sRGB that shuttered pixels show.

    A grey image shows the Shutter Presentation Value (else the CIELab colour's grey); a colour
    image the CIELab colour (else the grey value). Black when the file gives neither.
    """
    grey = None
    if shutter.presentation_value is not None:
        grey = round(shutter.presentation_value * 255 / 65535)
    rgb = lab_to_srgb(shutter.lab) if shutter.lab is not None else None
    if colour_image and rgb is not None:
        return rgb
    if grey is None and rgb is not None:
        grey = round(0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2])
    g = grey or 0
    return (g, g, g)


def apply_shutter(image: np.ndarray, hidden: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """A copy of the display image (uint8 grey or RGB) with the shuttered pixels set to the
    shutter's colour (a grey image takes its first component: :func:`display_colour` gives
    grey images a grey)."""
    out = np.array(image, copy=True)
    out[hidden] = rgb if out.ndim == 3 else rgb[0]
    return out


def shutter_rgba(hidden: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """The shutter as a picture to lay over the image: its colour, opaque where shuttered and
    transparent elsewhere, (rows, columns, 4) uint8."""
    out = np.zeros((*hidden.shape, 4), dtype=np.uint8)
    out[hidden] = (*rgb, 255)
    return out


# CIELab (D50, as DICOM's PCS) -> XYZ -> Bradford to D65 -> linear sRGB.
_D50 = (0.9642, 1.0, 0.8251)
_XYZ_D50_TO_SRGB = np.array(
    [
        [3.1338561, -1.6168667, -0.4906146],
        [-0.9787684, 1.9161415, 0.0334540],
        [0.0719453, -0.2289914, 1.4052427],
    ]
)


def lab_to_srgb(encoded: tuple[int, int, int]) -> tuple[int, int, int]:
    """A DICOM-encoded CIELab value (PS3.3 C.10.7.1.1: L* 0..100 and a*, b* -128..127 scaled
    to 0..65535) as 8-bit sRGB."""
    lightness = encoded[0] * 100 / 65535
    a = encoded[1] * 255 / 65535 - 128
    b = encoded[2] * 255 / 65535 - 128
    fy = (lightness + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def inverse(t: float) -> float:
        return t**3 if t > 6 / 29 else 3 * (6 / 29) ** 2 * (t - 4 / 29)

    xyz = np.array([w * inverse(f) for w, f in zip(_D50, (fx, fy, fz), strict=True)])
    linear = np.clip(_XYZ_D50_TO_SRGB @ xyz, 0, 1)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    r, g, bl = (round(float(v) * 255) for v in srgb)
    return (r, g, bl)


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return list(value)
    return [value]


def _int(value: Any) -> int | None:
    items = _list(value)
    if len(items) != 1:
        return None
    try:
        return int(float(items[0]))
    except (TypeError, ValueError, OverflowError):
        return None


def _ints(value: Any) -> list[int] | None:
    items = _list(value)
    try:
        return [int(float(v)) for v in items] if items else None
    except (TypeError, ValueError, OverflowError):
        return None
