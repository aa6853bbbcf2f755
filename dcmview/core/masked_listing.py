"""``--mask`` applied to the lists a session publishes: files, discovery, series, CSV rows.

The table and the cleaners are in :mod:`dcmview.core.masking`; this module knows the shapes of
the API's lists (SPEC §3, §9) and the session's records.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .masking import MASKED, Masker, Scrubber

if TYPE_CHECKING:
    from .model import FileRecord


def mask_summary(
    summary: dict[str, Any], identifiers: Sequence[tuple[str, str]], masker: Masker
) -> dict[str, Any]:
    """A masked copy of a FileSummary (SPEC §3): pseudonyms, no dates, clean free text."""
    real_id, real_name = summary.get("patient_id", ""), summary.get("patient_name", "")
    pseudonym = masker.pseudonym(real_id, real_name)
    scrub = masker.scrubber(identifiers, pseudonym)
    out = dict(summary)
    out["patient_id"] = pseudonym if real_id else ""
    out["patient_name"] = pseudonym if real_name else ""
    out["study_date"] = MASKED if summary.get("study_date") else ""
    for key in ("study_description", "series_description"):
        out[key] = scrub(str(summary.get(key, "")))
    # The folder and the name apart: files share their folder, and its cleaning is remembered.
    folder, sep, name = str(summary.get("path", "")).rpartition("/")
    out["path"] = scrub(folder) + sep + scrub(name)
    parts = [out["patient_id"] or out["patient_name"], summary.get("modality", "")]
    out["label"] = " · ".join(p for p in parts if p) or os.path.basename(out["path"])
    return out


def mask_series(series: list[dict[str, Any]], scrubbers: Mapping[str, Scrubber]) -> None:
    """Clean the descriptions of a series list (``/api/series``) in place; ``scrubbers`` by
    series instance UID."""
    for item in series:
        scrub = scrubbers.get(item.get("series_instance_uid", ""))
        if scrub is not None:
            item["series_description"] = scrub(str(item.get("series_description", "")))


def mask_listing(
    masker: Masker,
    records: Sequence[FileRecord],
    summaries: list[dict[str, Any]],
    found: list[dict[str, str]],
    series_items: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The masked file list and discovery list; the series descriptions cleaned in place."""
    masked = [
        mask_summary(s, r.identifiers, masker) for s, r in zip(summaries, records, strict=True)
    ]
    by_series: dict[str, Scrubber] = {}
    for record in records:
        uid = record.fields.get("series_instance_uid", "")
        if uid not in by_series:
            by_series[uid] = masker.scrubber(record.identifiers, _pseudonym(masker, record))
    mask_series(series_items, by_series)
    if found:
        # Skipped and filtered files have no record: every loaded file's values are removed.
        scrub = masker.all_values_scrubber(r.identifiers for r in records)
        found = [
            {k: v if k == "disposition" else scrub(v) for k, v in entry.items()} for entry in found
        ]
    return masked, found


def mask_layers(listing: list[dict[str, Any]], scrub: Callable[[str], str]) -> list[dict[str, Any]]:
    """A masked copy of ``/api/layers`` (SPEC §10): the loaded files' identifiers removed from
    each layer's name, source, problem and label names."""
    out = []
    for layer in listing:
        layer = dict(layer)
        for key in ("name", "source", "problem"):
            if isinstance(layer.get(key), str):
                layer[key] = scrub(layer[key])
        layer["labels"] = [
            {**label, "name": scrub(str(label["name"]))} for label in layer["labels"]
        ]
        out.append(layer)
    return out


def csv_cleaner(
    masker: Masker, records: Sequence[FileRecord]
) -> Callable[[int | None], Callable[[str], str]]:
    """What a masked CSV download does to a row's text cells: the identifiers of the row's file
    removed, or those of every loaded file for a row naming none."""
    everyone: list[Scrubber] = []

    def clean(index: int | None) -> Callable[[str], str]:
        if index is None:
            if not everyone:  # one large pattern, built when first needed
                everyone.append(masker.all_values_scrubber(r.identifiers for r in records))
            return everyone[0]
        record = records[index]
        return masker.scrubber(record.identifiers, _pseudonym(masker, record))

    return clean


def _pseudonym(masker: Masker, record: FileRecord) -> str:
    fields = record.fields
    return masker.pseudonym(fields.get("patient_id", ""), fields.get("patient_name", ""))
