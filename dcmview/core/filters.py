"""``--filter FIELD=VALUE``: parsing and matching, without importing pydicom up front.

The command line parses filters before it opens its port; loading pydicom there would cost the
server's first answer ~150 ms, so DICOM keywords are looked up only for names that are not one
of the original program's aliases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Filter names of the original program, mapped to DICOM keywords.
FILTER_ALIASES: dict[str, str] = {
    "patient_id": "PatientID",
    "patient_name": "PatientName",
    "study_description": "StudyDescription",
    "study_date": "StudyDate",
    "study_uid": "StudyInstanceUID",
    "series_description": "SeriesDescription",
    "series_number": "SeriesNumber",
    "series_uid": "SeriesInstanceUID",
    "modality": "Modality",
    "burned_in": "BurnedInAnnotation",
}


@dataclass(frozen=True)
class Filter:
    """``keyword`` contains ``value``, case-insensitively (the CLI's ``--filter FIELD=VALUE``)."""

    field: str
    keyword: str
    value: str

    def matches(self, ds: Any) -> bool:
        """True when the dataset's element ``keyword`` contains the value (any case)."""
        try:
            value = ds.get(self.keyword)
        except Exception:  # a value pydicom cannot convert contains nothing we can match
            return False
        if value is None:
            return False
        return self.value.lower() in text_of(value).lower()


def parse_filter(text: str) -> Filter:
    """Parse ``FIELD=VALUE``; FIELD is a name of :data:`FILTER_ALIASES` or any DICOM keyword.

    Raises ValueError with a message fit for the command line.
    """
    field, sep, value = text.partition("=")
    field = field.strip()
    if not sep or not field:
        raise ValueError(f"invalid filter {text!r}: expected FIELD=VALUE, e.g. modality=CT")
    keyword = FILTER_ALIASES.get(field.lower()) or _dicom_keyword(field)
    if keyword is None:
        known = ", ".join(FILTER_ALIASES)
        raise ValueError(
            f"invalid filter {text!r}: unknown field {field!r} (use one of {known}, "
            f"or a DICOM keyword such as BodyPartExamined)"
        )
    return Filter(field=field, keyword=keyword, value=value.strip())


def text_of(value: Any) -> str:
    """An element value as text; multi-values joined by a backslash, as DICOM writes them."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def _dicom_keyword(name: str) -> str | None:
    from pydicom.datadict import keyword_dict

    lowered = name.lower()
    return next((k for k in keyword_dict if k.lower() == lowered), None)
