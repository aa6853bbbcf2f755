"""Rectangular boxes of one image: API payload validation and the canonical payload.

Annotations (ROIs, SPEC §5) and redactions (SPEC §12) share the payload
``{"num_roi", "roi_coords", "roi_frames"}`` and its rules; this module checks a payload against
the image it belongs to, whole, so that a store can refuse a bad one before anything changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from dcmview.core.embed_csv import Box, CellError, boxes, frame_lists, integer
from dcmview.core.errors import InvalidAnnotation, PayloadTooLarge

# Far above any real reading (EMBED's busiest image has a handful of boxes); it bounds the work
# and memory of one PUT, whose body limit alone would let ~60,000 boxes through.
MAX_ROIS_PER_FILE = 10_000

_PAYLOAD_KEYS = ("num_roi", "roi_coords", "roi_frames")


@dataclass(frozen=True)
class ImageShape:
    """What an ROI is checked against: pixel rows and columns, and the number of frames."""

    rows: int
    columns: int
    frame_count: int


@dataclass(frozen=True)
class Roi:
    """A box with exclusive max edges (``ymax == rows`` is valid) and its frames (``()``: all)."""

    ymin: int
    xmin: int
    ymax: int
    xmax: int
    frames: tuple[int, ...] = ()

    @property
    def box(self) -> Box:
        """The box in payload order ``(ymin, xmin, ymax, xmax)``."""
        return (self.ymin, self.xmin, self.ymax, self.xmax)


@dataclass(frozen=True)
class LoadedFile:
    """One file of the session registry as the store needs it (``shape`` None: no pixels)."""

    index: int
    path: str
    shape: ImageShape | None


# A file without pixel data takes no ROI; checking against an empty image says so in one place.
NO_PIXELS = ImageShape(rows=0, columns=0, frame_count=0)


def parse_payload(
    body: object, shape: ImageShape, *, all_frames_only: bool = False
) -> tuple[Roi, ...]:
    """Validate a whole PUT body and return its ROIs in canonical form.

    ``body`` is ``{"num_roi"?: int, "roi_coords": [[ymin, xmin, ymax, xmax], ...],
    "roi_frames"?: [[f, ...], ...]}``. Reversed corners are normalised, frame lists de-duplicated
    and sorted; a per-ROI ``[]`` means all frames, and a missing, null or empty ``roi_frames``
    means all frames for every ROI. With ``all_frames_only`` (redactions) every frame list must
    be ``[]``. Raises :class:`InvalidAnnotation` naming the ROI ("ROI 2") and the rule broken.
    """
    if not isinstance(body, dict):
        raise InvalidAnnotation(
            'the body must be a JSON object like {"roi_coords": [[ymin, xmin, ymax, xmax]]}'
        )
    unknown = sorted(str(key) for key in body if key not in _PAYLOAD_KEYS)
    if unknown:
        raise InvalidAnnotation(
            f"unknown field {', '.join(unknown)}; expected num_roi, roi_coords, roi_frames"
        )
    if "roi_coords" not in body:
        raise InvalidAnnotation("roi_coords is missing; send [] to remove every ROI")
    count_sent = body["roi_coords"]
    if isinstance(count_sent, (list, tuple)) and len(count_sent) > MAX_ROIS_PER_FILE:
        raise PayloadTooLarge(
            f"roi_coords has {len(count_sent):,} boxes; a file holds at most"
            f" {MAX_ROIS_PER_FILE:,} ROIs"
        )
    try:
        coords = boxes(body["roi_coords"])
    except CellError as exc:
        raise InvalidAnnotation(f"roi_coords: {exc}") from None
    try:
        raw_frames = body.get("roi_frames")
        frames = () if raw_frames is None else frame_lists(raw_frames)
    except CellError as exc:
        raise InvalidAnnotation(f"roi_frames: {exc}") from None
    if frames and len(frames) != len(coords):
        raise InvalidAnnotation(
            f"roi_frames has {len(frames)} lists but roi_coords has {len(coords)} boxes;"
            " give one frame list per ROI ([] for all frames)"
        )
    if body.get("num_roi") is not None:
        try:
            count = integer(body["num_roi"], "num_roi")
        except CellError as exc:
            raise InvalidAnnotation(str(exc)) from None
        if count != len(coords):
            raise InvalidAnnotation(
                f"num_roi is {count} but roi_coords has {len(coords)} boxes; they must agree"
            )
    if all_frames_only:
        for n, listed in enumerate(frames, 1):
            if listed:
                raise InvalidAnnotation(
                    f"ROI {n}: a redaction box covers every frame of the file;"
                    " its frame list must be [] (or leave roi_frames out)"
                )
    return rois_of(coords, frames, shape)


def to_payload(rois: Sequence[Roi]) -> dict[str, object]:
    """The canonical API payload of ``rois``: one frame list per ROI, ``[]`` for all frames."""
    return {
        "num_roi": len(rois),
        "roi_coords": [list(roi.box) for roi in rois],
        "roi_frames": [list(roi.frames) for roi in rois],
    }


def etag_of(payload: dict[str, object]) -> str:
    """A strong, quoted ETag of a canonical payload: equal content gives an equal tag."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:16] + '"'


def rois_of(
    coords: Sequence[Box], frames: Sequence[Sequence[int]], shape: ImageShape
) -> tuple[Roi, ...]:
    """Check boxes (and frames, empty for all) against an image; messages name ROI n."""
    return tuple(
        _roi(box, frames[n] if frames else (), shape, f"ROI {n + 1}")
        for n, box in enumerate(coords)
    )


def _roi(box: Box, frames: Sequence[int], shape: ImageShape, label: str) -> Roi:
    if shape.rows <= 0 or shape.columns <= 0:
        raise InvalidAnnotation(f"{label}: this file has no pixel data, so it cannot hold ROIs")
    ymin, ymax = sorted((box[0], box[2]))
    xmin, xmax = sorted((box[1], box[3]))
    for name, value in (("ymin", ymin), ("xmin", xmin)):
        if value < 0:
            raise InvalidAnnotation(f"{label}: {name} is {value}; coordinates cannot be negative")
    if ymin == ymax or xmin == xmax:
        raise InvalidAnnotation(
            f"{label} has zero {'height' if ymin == ymax else 'width'};"
            " ymin < ymax and xmin < xmax are required"
        )
    if ymax > shape.rows:
        raise InvalidAnnotation(
            f"{label}: ymax {ymax} is outside the image; ymax is at most rows ({shape.rows})"
        )
    if xmax > shape.columns:
        raise InvalidAnnotation(
            f"{label}: xmax {xmax} is outside the image; xmax is at most columns ({shape.columns})"
        )
    for frame in frames:
        if not 0 <= frame < shape.frame_count:
            raise InvalidAnnotation(
                f"{label}: frame {frame} does not exist; frames are 0 to {shape.frame_count - 1}"
            )
    return Roi(ymin, xmin, ymax, xmax, tuple(sorted(set(frames))))


def if_match_ok(header: str | None, etag: str) -> bool:
    if header is None:
        return True
    for tag in (part.strip() for part in header.split(",")):
        if tag == "*":
            return True
        # If-Match uses strong comparison (RFC 9110 13.1.1): a weak tag never matches.
        if tag.startswith("W/"):
            continue
        if (tag if tag.startswith('"') else f'"{tag}"') == etag:
            return True
    return False
