"""The published file list: each series' summaries are encoded from one template (issue 14),
and the text is the one the API's encoder writes for the summaries themselves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dcmview.core import listing
from dcmview.core.discovery import scan

from . import dicomgen as gen
from .test_header_reader import corpus


def _plain_encoding(records: list) -> bytes:
    """The summaries' list as the API encoder writes it, one dict at a time."""
    summaries = [listing.file_summary(i, r) for i, r in enumerate(records)]
    return b"".join(listing._json_parts(summaries))


def test_templates_write_what_the_summaries_encode_to(tmp_path: Path) -> None:
    for n, path in enumerate(corpus()[:120]):
        shutil.copy(path, tmp_path / f"corpus_{n:03d}_{path.name}")
    series = tmp_path / "series"
    gen.write_ct_series(series, count=6, size=8)
    # a value holding the text that marks a file's own fields in a template
    gen.write_image(
        tmp_path / "marked.dcm",
        gen.phantom(4, 4),
        extra={"PatientName": "a\0dcmview-own-1", "PatientID": 'quote " and \\ slash'},
    )
    records, _, _ = scan([str(tmp_path)])
    assert len(records) > 100
    encoded = b"".join(listing._summaries_json(records))
    assert encoded == _plain_encoding(records)
    names = {s["patient_name"] for s in json.loads(encoded)}
    assert "a\0dcmview-own-1" in names


def test_a_list_longer_than_a_batch_is_one_array(tmp_path: Path) -> None:
    written = gen.write_ct_series(tmp_path, count=3, size=8)
    records, _, _ = scan([str(tmp_path)])
    many = records * (listing._BATCH // 3 + 2)  # crosses a batch boundary
    encoded = b"".join(listing._summaries_json(many))
    assert encoded == _plain_encoding(many)
    items = json.loads(encoded)
    assert [item["index"] for item in items] == list(range(len(many)))
    assert items[-1]["path"] == str(written[-1].path)
