"""The tag tree of one file as JSON-ready nodes, bounded so that no file can produce a huge answer.

Node: ``{"tag": "(0008,0005)", "vr": "CS", "keyword": "SpecificCharacterSet", "value": V}`` where V
is one of the typed values of SPEC §3 (string, number, numbers, sequence, binary, error).
"""

from __future__ import annotations

import math
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

MAX_NUMBERS = 128
MAX_SEQUENCE_ITEMS = 64
MAX_DEPTH = 8
MAX_STRING = 4096
MAX_ELEMENTS = 4000

_BINARY_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "UN", "OB or OW", "US or OW", "OB/OW"}
_INT_VRS = {"US", "SS", "UL", "SL", "UV", "SV", "IS", "US or SS"}
_FLOAT_VRS = {"FL", "FD", "DS"}


def tag_tree(
    ds: Dataset, pixel_data_length: int | None = None, pixel_vr: str = "OB"
) -> list[dict[str, Any]]:
    """File meta then dataset elements as nodes; Pixel Data (not read) reported by its length
    and ``pixel_vr`` (read at discovery: ``FileRecord.pixel_data_vr``)."""
    budget = [MAX_ELEMENTS]
    nodes: list[dict[str, Any]] = []
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        nodes.extend(_nodes(meta, 0, budget))
    nodes.extend(_nodes(ds, 0, budget))
    if pixel_data_length is not None:
        nodes.append(
            {
                "tag": "(7FE0,0010)",
                "vr": pixel_vr,
                "keyword": "PixelData",
                "value": {"type": "binary", "length": pixel_data_length},
            }
        )
    return nodes


def _nodes(ds: Dataset, depth: int, budget: list[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tag in sorted(ds.keys()):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        try:
            elem = ds[tag]
        except Exception as exc:
            out.append(_node_head_raw(tag, {"type": "error", "message": _msg(exc)}))
            continue
        out.append(_node(elem, depth, budget))
    return out


def _node_head_raw(tag: int, value: dict[str, Any]) -> dict[str, Any]:
    return {"tag": _fmt_tag(tag), "vr": "", "keyword": "", "value": value}


def _node(elem: DataElement, depth: int, budget: list[int]) -> dict[str, Any]:
    vr = str(elem.VR or "")
    node: dict[str, Any] = {"tag": _fmt_tag(int(elem.tag)), "vr": vr, "keyword": elem.keyword or ""}
    if not node["keyword"] and elem.tag.is_private:
        node["keyword"] = elem.name if elem.name != "Private tag data" else ""
    try:
        node["value"] = _value(elem, vr, depth, budget)
    except Exception as exc:
        node["value"] = {"type": "error", "message": _msg(exc)}
    return node


def _value(elem: DataElement, vr: str, depth: int, budget: list[int]) -> dict[str, Any]:
    if vr == "SQ":
        items = list(elem.value or [])
        total = len(items)
        if depth >= MAX_DEPTH:
            return {"type": "sequence", "items": [], "truncated": True, "total": total}
        kept = items[:MAX_SEQUENCE_ITEMS]
        seq: dict[str, Any] = {
            "type": "sequence",
            "items": [_nodes(item, depth + 1, budget) for item in kept],
        }
        if total > len(kept):
            seq.update(truncated=True, total=total)
        return seq
    if vr in _BINARY_VRS or elem.tag == 0x7FE00010:
        raw = elem.value
        length = (
            len(raw)
            if isinstance(raw, (bytes, bytearray))
            else int(getattr(elem, "length", 0) or 0)
        )
        return {"type": "binary", "length": length}
    value = elem.value
    if value is None or value == "":
        return {"type": "string", "value": ""}
    if vr in _INT_VRS or vr in _FLOAT_VRS:
        numbers = _as_numbers(value)
        if numbers is not None:
            if len(numbers) == 1:
                return {"type": "number", "value": numbers[0]}
            out: dict[str, Any] = {"type": "numbers", "value": numbers[:MAX_NUMBERS]}
            if len(numbers) > MAX_NUMBERS:
                out.update(truncated=True, total=len(numbers))
            return out
    if vr == "AT":
        tags = value if isinstance(value, (list, tuple)) or _is_multi(value) else [value]
        return {"type": "string", "value": "; ".join(_fmt_tag(int(t)) for t in tags)}
    text = "; ".join(str(v) for v in value) if _is_multi(value) else str(value)
    if isinstance(value, (bytes, bytearray)):
        text = value.decode("latin-1")
    if len(text) > MAX_STRING:
        return {"type": "string", "value": text[:MAX_STRING], "truncated": True, "total": len(text)}
    return {"type": "string", "value": text}


def _as_numbers(value: Any) -> list[float] | None:
    items = list(value) if _is_multi(value) or isinstance(value, (list, tuple)) else [value]
    out: list[float] = []
    for item in items:
        try:
            number = float(item)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        out.append(number)
    return out


def _is_multi(value: Any) -> bool:
    return type(value).__name__ == "MultiValue" or isinstance(value, list)


def _fmt_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _msg(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
