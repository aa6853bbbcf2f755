"""EMBED-style ROI CSV at the level of syntax: bytes to rows, and rows back to CSV text.

Nothing here knows about images: a row is checked for shape (integers, four numbers per box,
counts that agree) but not against the file it names. :mod:`dcmview.core.annotations` matches
rows to loaded files and checks bounds.

Paths are bytes on POSIX and a file name need not be valid UTF-8. Such a name is a ``str`` with
surrogate escapes in Python (``os.fsdecode``); the CSV holds its original bytes, and the path
column alone may hold bytes that are not UTF-8, so ``import(export(S)) == S`` for every path.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

PATH_COLUMN = "anon_dicom_path"
COUNT_COLUMN = "num_ROI"
COORDS_COLUMN = "ROI_coords"
FRAMES_COLUMN = "ROI_frames"
EXPORT_HEADER = (PATH_COLUMN, COUNT_COLUMN, COORDS_COLUMN, FRAMES_COLUMN)

MAX_FIELD_BYTES = 128 * 1024
MAX_DATA_ROWS = 250_000

Box = tuple[int, int, int, int]
_T = TypeVar("_T")
FrameLists = tuple[tuple[int, ...], ...]

_BOX_FIELDS = ("ymin", "xmin", "ymax", "xmax")
_FORMULA_STARTS = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# What surrogateescape makes of bytes that are not UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
# A list of lists is all ROI data ever needs; deeper nesting is refused before any parser
# sees it, so a hostile cell cannot exhaust the parser's recursion.
_MAX_DEPTH = 2


class CsvError(ValueError):
    """A problem in an annotations CSV; ``line`` is the 1-based physical line (0 when none)."""

    def __init__(self, message: str, line: int = 0, source: str = "annotations CSV") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.source = source

    def __str__(self) -> str:
        where = f"{self.source} line {self.line}" if self.line else self.source
        return f"{where}: {self.message}"


class CellError(ValueError):
    """A value without the shape of ROI data; the message names the ROI and the rule."""


@dataclass(frozen=True)
class CsvRow:
    """One data row: the path as written, its boxes (as written) and the kept cells."""

    line: int
    path: str
    coords: tuple[Box, ...]
    frames: FrameLists | None  # None: every ROI of the row covers all frames
    extra: tuple[str, ...]


@dataclass(frozen=True)
class CsvDocument:
    """A parsed CSV: its file name, absolute directory, kept column names and rows."""

    name: str
    directory: str
    columns: tuple[str, ...]
    rows: tuple[CsvRow, ...]


@dataclass(frozen=True)
class _Layout:
    width: int
    path: int
    coords: int
    count: int | None
    frames: int | None
    kept: tuple[int, ...]


def escape_cell(text: str) -> str:
    """Make a text cell safe from spreadsheet formula evaluation, reversibly.

    A cell starting with ``= + - @``, tab or CR gets a leading ``'`` unless it is a plain number;
    a cell already starting with ``'`` followed by one of those or ``'`` gets another, so that
    :func:`unescape_cell` can always strip exactly one.
    """
    first, second = text[:1], text[1:2]
    if first in _FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    if first == "'" and (second in _FORMULA_STARTS or second == "'"):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell`: strip one ``'`` when a formula character or ``'`` follows."""
    second = text[1:2]
    if text[:1] == "'" and (second in _FORMULA_STARTS or second == "'"):
        return text[1:]
    return text


def integer(value: object, what: str) -> int:
    """Return ``value`` as an int; integral floats pass, bools, fractions and strings do not."""
    if isinstance(value, bool):
        raise CellError(f"{what} is a boolean ({value}); it must be an integer")
    if isinstance(value, numbers.Integral):  # int, and numpy integers from Python callers
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise CellError(f"{what} is {value!r}, not an integer")
    if isinstance(value, str):
        raise CellError(f"{what} is the string {_show(value)}; it must be an integer")
    raise CellError(f"{what} is {_show(value)}, not an integer")


def boxes(value: object) -> tuple[Box, ...]:
    """Check a list of ``[ymin, xmin, ymax, xmax]`` boxes (lists or tuples) and return tuples."""
    result: list[Box] = []
    for n, item in enumerate(_sequence(value, "a list of [ymin, xmin, ymax, xmax] boxes"), 1):
        if not isinstance(item, (list, tuple)):
            raise CellError(f"ROI {n} is {_show(item)}; each ROI is a box [ymin, xmin, ymax, xmax]")
        if len(item) != 4:
            raise CellError(
                f"ROI {n} has {len(item)} numbers; each box has exactly 4: [ymin, xmin, ymax, xmax]"
            )
        y0, x0, y1, x1 = (
            integer(v, f"ROI {n} {k}") for v, k in zip(item, _BOX_FIELDS, strict=True)
        )
        result.append((y0, x0, y1, x1))
    return tuple(result)


def frame_lists(value: object) -> FrameLists:
    """Check a list of per-ROI frame-index lists and return tuples (values not yet bounded)."""
    result: list[tuple[int, ...]] = []
    for n, item in enumerate(_sequence(value, "a list of frame lists, one per ROI"), 1):
        if not isinstance(item, (list, tuple)):
            raise CellError(
                f"ROI {n} frames are {_show(item)}; each ROI needs a list of frame indices"
                " ([] for all frames)"
            )
        result.append(tuple(integer(f, f"ROI {n} frame") for f in item))
    return tuple(result)


def parse_literal(text: str, column: str) -> object | None:
    """Parse a cell written as JSON or as a Python literal; ``None`` for an empty cell.

    Only data is parsed, never code: quotes and deep nesting are refused first, then
    ``json.loads`` or ``ast.literal_eval`` (never ``eval``) reads the rest.
    """
    stripped = text.strip()
    if not stripped:
        return None
    if stripped in ("()", "[]"):
        return []
    if '"' in stripped or "'" in stripped:
        raise CellError(f"{column} holds quoted text; it must hold only integers")
    depth = 0
    for char in stripped:
        if char in "([{":
            depth += 1
            if depth > _MAX_DEPTH:
                raise CellError(f"{column} is nested too deeply; expected a list of lists")
        elif char in ")]}":
            depth -= 1
    try:
        # JSON never contains parentheses, so the EMBED tuple form goes straight to the
        # literal parser instead of failing in JSON first.
        if "(" not in stripped:
            try:
                return json.loads(stripped)
            except ValueError:
                pass
        return ast.literal_eval(stripped)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise CellError(
            f"{column} is neither JSON nor a Python literal list, e.g. [[10, 20, 110, 220]]"
        ) from None


def parse_count(text: str) -> int | None:
    """Parse a ``num_ROI`` cell: ``None`` when empty, else an integer (``2.0`` counts as 2)."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        if not _PLAIN_NUMBER.fullmatch(stripped):
            raise ValueError(stripped)
        number: object = int(stripped) if stripped.lstrip("+-").isdigit() else float(stripped)
    except ValueError:
        raise CellError(f"{COUNT_COLUMN} is {_show(stripped)}, not an integer") from None
    return integer(number, COUNT_COLUMN)


def read_csv(path: str | os.PathLike[str]) -> CsvDocument:
    """Read an annotations CSV (read-only) and parse it with :func:`parse_csv`."""
    name = os.path.basename(os.fspath(path)) or os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise CsvError(f"cannot be read ({exc.strerror or exc})", 0, name) from None
    directory = os.path.dirname(os.path.abspath(path))
    return parse_csv(data, name=name, directory=directory)


def parse_csv(data: bytes, *, name: str, directory: str) -> CsvDocument:
    """Parse CSV bytes (UTF-8, optional BOM, any line ending) into a :class:`CsvDocument`.

    Raises :class:`CsvError` with the physical line where the offending record starts.
    """
    text, strict_error = _decode(data)
    records = _records(text, name)
    header = next(records, None)
    if header is None:
        raise CsvError(f"is empty; the first line must be a header with {PATH_COLUMN}", 1, name)
    if strict_error is not None:
        _only_paths_escaped(header[1], None, header[0], name, strict_error)
    layout, columns = _layout(header[1], header[0], name)
    rows: list[CsvRow] = []
    for line, fields in records:
        if len(rows) == MAX_DATA_ROWS:
            raise CsvError(f"more than {MAX_DATA_ROWS:,} data rows; split the file", line, name)
        if strict_error is not None:
            _only_paths_escaped(fields, layout.path, line, name, strict_error)
        try:
            rows.append(_row(fields, line, layout))
        except CellError as exc:
            raise CsvError(str(exc), line, name) from None
    return CsvDocument(name=name, directory=directory, columns=columns, rows=tuple(rows))


def csv_bytes(text: str) -> bytes:
    """CSV text as UTF-8 bytes, with paths that are not UTF-8 written back as their own bytes."""
    return text.encode("utf-8", "surrogateescape")


def write_csv(columns: Sequence[str], rows: Iterable[CsvRow]) -> str:
    """Write rows as CSV text: the export header, then kept columns; CRLF line endings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*EXPORT_HEADER, *_escape_all(tuple(columns))])
    for row in rows:
        writer.writerow(
            [
                escape_cell(row.path),
                str(len(row.coords)),
                _compact_json(row.coords),
                _compact_json(row.frames),
                *_escape_all(row.extra),
            ]
        )
    return out.getvalue()


def _decode(data: bytes) -> tuple[str, str | None]:
    """The text, and None, or (bytes that are not UTF-8) the text with surrogate escapes and
    the message for a cell outside the path column that holds them."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        message = "is not valid UTF-8; save it as UTF-8 and try again"
        return data.decode("utf-8-sig", "surrogateescape"), message


def _only_paths_escaped(
    fields: Sequence[str], path: int | None, line: int, source: str, message: str
) -> None:
    """Refuse bytes that are not UTF-8 anywhere but in the path column (a file name is bytes;
    other text is not, and guessing its encoding would change it)."""
    for position, field in enumerate(fields):
        if position != path and _ESCAPED_BYTE.search(field):
            raise CsvError(message, line, source)


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (start line, fields) for each non-blank record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvError(_describe(exc), start, source) from None
        if not "".join(fields).strip():
            continue
        # Checked here as well as by the csv module because its limit is process-wide and
        # counts characters, not bytes.
        if max(map(len, fields)) > MAX_FIELD_BYTES // 4 and any(
            len(csv_bytes(f)) > MAX_FIELD_BYTES for f in fields
        ):
            raise CsvError(_TOO_LARGE, start, source)
        yield start, fields


_TOO_LARGE = "a field is larger than 128 KiB (is a quote left open?)"


def _describe(exc: csv.Error) -> str:
    text = str(exc)
    if "field limit" in text:
        return _TOO_LARGE
    if "unexpected end of data" in text:
        return 'a quoted field is never closed (unterminated ")'
    return f"malformed CSV ({text}); quote cells that contain commas, quotes or newlines"


def _layout(header: list[str], line: int, source: str) -> tuple[_Layout, tuple[str, ...]]:
    known = {c.casefold(): c for c in EXPORT_HEADER}
    found: dict[str, int] = {}
    kept: list[int] = []
    names = [unescape_cell(cell) for cell in header]
    for position, name in enumerate(names):
        key = name.strip().casefold()
        if key not in known:
            kept.append(position)
        elif key in found:
            raise CsvError(f"column {known[key]} appears twice in the header", line, source)
        else:
            found[key] = position
    for required in (PATH_COLUMN, COORDS_COLUMN):
        if required.casefold() not in found:
            raise CsvError(
                f"the header has no {required} column; required: {PATH_COLUMN}, {COORDS_COLUMN}",
                line,
                source,
            )
    layout = _Layout(
        width=len(header),
        path=found[PATH_COLUMN.casefold()],
        coords=found[COORDS_COLUMN.casefold()],
        count=found.get(COUNT_COLUMN.casefold()),
        frames=found.get(FRAMES_COLUMN.casefold()),
        kept=tuple(kept),
    )
    return layout, tuple(names[i] for i in kept)


def _row(fields: list[str], line: int, layout: _Layout) -> CsvRow:
    if len(fields) != layout.width:
        raise CellError(
            f"the row has {len(fields)} fields but the header has {layout.width};"
            " quote cells that contain commas"
        )
    path = unescape_cell(fields[layout.path])
    if not path.strip():
        raise CellError(f"{PATH_COLUMN} is empty")
    coords = _cell(fields[layout.coords], COORDS_COLUMN, boxes)
    frames = (
        () if layout.frames is None else _cell(fields[layout.frames], FRAMES_COLUMN, frame_lists)
    )
    if frames and len(frames) != len(coords):
        raise CellError(
            f"{FRAMES_COLUMN} has {len(frames)} frame lists but {COORDS_COLUMN} has"
            f" {len(coords)} boxes; give one list per ROI, or [] for all frames"
        )
    count = None if layout.count is None else parse_count(fields[layout.count])
    if count is not None and count != len(coords):
        raise CellError(
            f"{COUNT_COLUMN} is {count} but {COORDS_COLUMN} has {len(coords)} boxes;"
            " they must agree"
        )
    extra = _unescape_all(tuple([fields[i] for i in layout.kept]))
    # [] for every ROI says the same as no frame lists at all; one form keeps rows comparable.
    all_frames = all(not f for f in frames)
    return CsvRow(line, path, coords, frames=None if all_frames else frames, extra=extra)


def _cell(text: str, column: str, check: Callable[[object], _T]) -> _T:
    value = parse_literal(text, column)
    try:
        return check([] if value is None else value)
    except CellError as exc:
        raise CellError(f"{column}: {exc}") from None


def _sequence(value: object, expected: str) -> Sequence[object]:
    if not isinstance(value, (list, tuple)):
        raise CellError(f"expected {expected}, got {_show(value)}")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _compact_json(value: Sequence[object] | None) -> str:
    return json.dumps(value, separators=(",", ":")) if value else "[]"


# Escaped cells are rare and a large CSV has millions of cells: a substring search over a row's
# joined cells finds the rows worth a cell-by-cell look (a false hit only costs that look).
_ESCAPE_MARKS = tuple("\n" + char for char in (*_FORMULA_STARTS, "'"))


def _escape_all(cells: tuple[str, ...]) -> tuple[str, ...]:
    joined = "\n" + "\n".join(cells)
    if not any(mark in joined for mark in _ESCAPE_MARKS):
        return cells
    return tuple(escape_cell(cell) for cell in cells)


def _unescape_all(cells: tuple[str, ...]) -> tuple[str, ...]:
    if "\n'" not in "\n" + "\n".join(cells):
        return cells
    return tuple(unescape_cell(cell) for cell in cells)
