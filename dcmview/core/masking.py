"""``--mask``: patient identifiers replaced in everything the API shows (display only).

This is the one table of what is masked and how. It follows the attributes of the DICOM PS3.15
Basic Application Level Confidentiality Profile (Table E.1-1) that a viewer shows:

- every person name (VR PN), date, time and date-time (DA, TM, DT), wherever it is;
- the identifying attributes of :data:`MASKED_KEYWORDS` (IDs, addresses, institution,
  accession and order numbers, device identifiers, patient demographics, comments);
- every element of the sequences of :data:`MASKED_SEQUENCES` (identification code sequences);
- the text of private elements (the profile removes them; they may hold anything), but for
  the Private Creator names that say whose they are.

Patient ID and name become a pseudonym, ``Patient N`` (numbered in file order), so that the
explorer still tells patients apart; other masked values become :data:`MASKED`. Free text the
viewer keeps (paths, study and series descriptions, every other tag value) is cleaned of the
file's own identifier values (:data:`SCRUBBED_KEYWORDS`, read at discovery), whole words only.
UIDs are kept: they are not readable and the viewer groups series by them.

It is display masking, not de-identification: values the table does not name and identifiers
that are not the file's own (a folder named after a patient's other ID) are shown as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

MASKED = "[masked]"

MASKED_VRS = frozenset({"PN", "DA", "TM", "DT"})

MASKED_KEYWORDS = frozenset(
    {
        # the patient
        "PatientID",
        "IssuerOfPatientID",
        "OtherPatientIDs",
        "PatientBirthDate",
        "PatientBirthTime",
        "PatientAge",
        "PatientSex",
        "PatientSize",
        "PatientWeight",
        "PatientAddress",
        "PatientTelephoneNumbers",
        "PatientTelecomInformation",
        "MilitaryRank",
        "BranchOfService",
        "MedicalRecordLocator",
        "EthnicGroup",
        "Occupation",
        "PatientReligiousPreference",
        "PatientComments",
        "AdditionalPatientHistory",
        "MedicalAlerts",
        "Allergies",
        "PregnancyStatus",
        "SmokingStatus",
        "CountryOfResidence",
        "RegionOfResidence",
        "PatientState",
        "ResponsibleOrganization",
        "CurrentPatientLocation",
        "PatientInstitutionResidence",
        # the visit and the order
        "AccessionNumber",
        "StudyID",
        "AdmissionID",
        "IssuerOfAdmissionID",
        "AdmittingDiagnosesDescription",
        "ServiceEpisodeID",
        "ServiceEpisodeDescription",
        "VisitComments",
        "ReasonForStudy",
        "RequestedProcedureID",
        "RequestedProcedureComments",
        "ScheduledProcedureStepID",
        "PerformedProcedureStepID",
        "PlacerOrderNumberImagingServiceRequest",
        "FillerOrderNumberImagingServiceRequest",
        "StudyComments",
        "ImageComments",
        # the people and places
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
        "ReferringPhysicianAddress",
        "ReferringPhysicianTelephoneNumbers",
        "PersonAddress",
        "PersonTelephoneNumbers",
        "StationName",
        # the devices
        "DeviceSerialNumber",
        "DetectorID",
        "PlateID",
        "GantryID",
        "CassetteID",
    }
)

MASKED_SEQUENCES = frozenset(
    {
        "OtherPatientIDsSequence",
        "ReferencedPatientSequence",
        "PatientInsurancePlanCodeSequence",
        "InstitutionCodeSequence",
        "ReferringPhysicianIdentificationSequence",
        "PhysiciansOfRecordIdentificationSequence",
        "PerformingPhysicianIdentificationSequence",
        "PhysiciansReadingStudyIdentificationSequence",
        "OperatorIdentificationSequence",
        "PersonIdentificationCodeSequence",
    }
)

# Values read at discovery for every file: removed wherever they appear in text that is kept.
SCRUBBED_KEYWORDS = (
    "PatientID",
    "PatientName",
    "OtherPatientIDs",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientBirthDate",
    "AccessionNumber",
    "InstitutionName",
    "ReferringPhysicianName",
)
_PSEUDONYMISED = frozenset({"PatientID", "PatientName"})
# Name parts this short ("J" of "DOE^J") would blank letters all over the text.
_MIN_PART = 2
_NAME_SPLIT = re.compile(r"[\^=\s,]+")


class Masker:
    """What one masked session replaces: pseudonyms by patient, and cleaners by file."""

    def __init__(self) -> None:
        self._pseudonyms: dict[tuple[str, str], str] = {}

    def pseudonym(self, patient_id: str, patient_name: str) -> str:
        """``Patient N`` for a (PatientID, PatientName) pair, numbered as first seen; ``""`` for
        a file with neither (the explorer shows it as unknown, as without masking)."""
        if not patient_id and not patient_name:
            return ""
        key = (patient_id, patient_name)
        found = self._pseudonyms.get(key)
        if found is None:
            found = self._pseudonyms[key] = f"Patient {len(self._pseudonyms) + 1}"
        return found

    def scrubber(self, identifiers: Sequence[tuple[str, str]], pseudonym: str) -> Scrubber:
        """The cleaner of a file's free text, from its ``(keyword, value)`` identifiers."""
        return _scrubber(tuple(identifiers), pseudonym)

    def all_values_scrubber(
        self, identifier_lists: Iterable[Sequence[tuple[str, str]]]
    ) -> Scrubber:
        """One cleaner for text that belongs to no single file (discovery, unmatched CSV rows)."""
        replacements: dict[str, str] = {}
        for identifiers in identifier_lists:
            pseudonym = self.pseudonym(
                _value(identifiers, "PatientID"), _value(identifiers, "PatientName")
            )
            for literal, replacement in _literals(tuple(identifiers), pseudonym):
                replacements.setdefault(literal, replacement)
        return Scrubber(replacements)


class Scrubber:
    """Replaces whole-word occurrences of known values (any case) in text."""

    def __init__(self, replacements: Mapping[str, str]) -> None:
        self._replacements = {k.casefold(): v for k, v in replacements.items() if k.strip()}
        if not self._replacements:
            self._pattern: re.Pattern[str] | None = None
            return
        # Longest first, so that "DOE^JOHN" wins over its part "DOE".
        alternatives = "|".join(
            re.escape(k) for k in sorted(self._replacements, key=len, reverse=True)
        )
        self._pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(
            lambda m: self._replacements.get(m.group(0).casefold(), MASKED), text
        )


@lru_cache(maxsize=4096)
def _scrubber(identifiers: tuple[tuple[str, str], ...], pseudonym: str) -> Scrubber:
    return Scrubber(dict(_literals(identifiers, pseudonym)))


def _literals(identifiers: tuple[tuple[str, str], ...], pseudonym: str) -> list[tuple[str, str]]:
    """(text to find, replacement) for each identifier value, its variants and name parts."""
    out: list[tuple[str, str]] = []
    for keyword, value in identifiers:
        replacement = pseudonym if keyword in _PSEUDONYMISED and pseudonym else MASKED
        for single in value.split("\\"):
            single = single.strip()
            if not single:
                continue
            out.append((single, replacement))
            if "^" in single or keyword.endswith("Name"):
                spaced = " ".join(p for p in _NAME_SPLIT.split(single) if p)
                out.append((spaced, replacement))
                out.extend(
                    (p, replacement) for p in _NAME_SPLIT.split(single) if len(p) >= _MIN_PART
                )
    return out


def _value(identifiers: Sequence[tuple[str, str]], keyword: str) -> str:
    return next((v for k, v in identifiers if k == keyword), "")


def mask_tags(nodes: list[dict[str, Any]], pseudonym: str, scrub: Scrubber) -> list[dict[str, Any]]:
    """A masked copy of a tag tree (SPEC §3 TagNodes); the input is left unchanged."""
    return [_mask_node(node, pseudonym, scrub, whole=False) for node in nodes]


def _mask_node(
    node: dict[str, Any], pseudonym: str, scrub: Scrubber, whole: bool
) -> dict[str, Any]:
    keyword = node.get("keyword", "")
    value = node.get("value") or {}
    kind = value.get("type")
    out = dict(node)
    if kind == "sequence":
        inner = whole or keyword in MASKED_SEQUENCES
        out["value"] = {
            **value,
            "items": [
                [_mask_node(child, pseudonym, scrub, inner) for child in item]
                for item in value.get("items", [])
            ],
        }
        return out
    if kind == "binary":
        return out
    if whole or _masked_element(node):
        if keyword in _PSEUDONYMISED and pseudonym:
            out["value"] = {"type": "string", "value": pseudonym}
        else:
            empty = kind == "string" and value.get("value") == ""
            out["value"] = {"type": "string", "value": "" if empty else MASKED}
        return out
    if kind == "string":
        out["value"] = {**value, "value": scrub(str(value.get("value", "")))}
    elif kind == "error":
        out["value"] = {**value, "message": scrub(str(value.get("message", "")))}
    return out


def _masked_element(node: dict[str, Any]) -> bool:
    if node.get("vr") in MASKED_VRS or node.get("keyword") in MASKED_KEYWORDS:
        return True
    return _is_private(str(node.get("tag", ""))) and (node.get("value") or {}).get("type") in (
        "string",
        "error",
    )


def _is_private(tag: str) -> bool:
    """``(gggg,eeee)`` with an odd group: a private element, other than a Private Creator
    (``eeee`` 0010-00FF: the vendor's block name, which says which private tags follow)."""
    try:
        group, element = int(tag[1:5], 16), int(tag[6:10], 16)
    except ValueError:
        return False
    return group % 2 == 1 and not 0x0010 <= element <= 0x00FF
