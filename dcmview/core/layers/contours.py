"""RTSTRUCT contours on one image: as polygons in pixel coordinates, or filled (Pillow).

Pixel coordinates put pixel centres at integers (x = column, y = row), as the API gives them.
Contours of one ROI are filled even-odd (a contour inside another of the same ROI is a hole,
as in most structure sets); where ROIs overlap, the one listed later is drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from .model import ContourSet, Label, label_dtype
from .placement import ContourMatch, pixel_points


def polygons(layer: ContourSet, match: ContourMatch, labels: list[Label]) -> list[dict[str, Any]]:
    """``[{"value", "name", "points": [[x, y], ...]}]`` of the contours on one image."""
    names = {label.value: label.name for label in labels}
    out = []
    for index in match.contours:
        contour = layer.contours[index]
        points = np.round(pixel_points(contour.points, match.plane), 3) + 0.0
        out.append(
            {
                "value": contour.value,
                "name": names.get(contour.value, f"ROI {contour.value}"),
                "points": points.tolist(),
            }
        )
    return out


def filled(layer: ContourSet, match: ContourMatch, shape: tuple[int, int]) -> npt.NDArray[Any]:
    """The label map of the contours on one image: each ROI's value inside its contours."""
    top = max((c.value for c in layer.contours), default=0)
    out = np.zeros(shape, dtype=label_dtype(top))
    by_value: dict[int, list[int]] = {}
    for index in match.contours:
        by_value.setdefault(layer.contours[index].value, []).append(index)
    for value, indices in by_value.items():
        inside = np.zeros(shape, dtype=bool)
        for index in indices:
            xy = pixel_points(layer.contours[index].points, match.plane)
            mask = Image.new("1", (shape[1], shape[0]), 0)
            ImageDraw.Draw(mask).polygon([(float(x), float(y)) for x, y in xy], fill=1)
            inside ^= np.asarray(mask, dtype=bool)
        out[inside] = value
    return out
