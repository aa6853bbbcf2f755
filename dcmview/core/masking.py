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
# Values this short are not looked for in text: an ID "1" would hit every "1" of a path. Name
# parts of two letters ("Li", "Wu") are names all the same.
_MIN_LITERAL = 3
_MIN_NAME_PART = 2
_NAME_SPLIT = re.compile(r"[\^=\s,]+")
_WORD = re.compile(r"[^\W_]+")
_MEMO_SIZE = 4096


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
    """Replaces whole-word occurrences of known values (any case) in text.

    Words are runs of letters and digits (``_``, ``-``, ``^``, spaces and the like separate
    them), so ``DOE^JOHN`` is found in ``/data/doe_john/``. Matching walks the words of a text
    and looks each up in a table keyed by a value's first word: linear in the text whatever the
    number of values (a pattern of 80,000 alternatives took ~9 ms a path).
    """

    def __init__(self, replacements: Mapping[str, str]) -> None:
        self._memo: dict[str, str] = {}
        self._first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for literal, replacement in replacements.items():
            words = tuple(w.casefold() for w in _WORD.findall(literal))
            if words:
                self._first.setdefault(words[0], []).append((words, replacement))
        for options in self._first.values():
            # Longest first, so that "DOE^JOHN" wins over its part "DOE".
            options.sort(key=lambda option: len(option[0]), reverse=True)

    def __call__(self, text: str) -> str:
        if not self._first or not text:
            return text
        # The same texts come again and again (a folder, a series description per file).
        done = self._memo.get(text)
        if done is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            done = self._memo[text] = self._clean(text)
        return done

    def _clean(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        folded = [w.group().casefold() for w in words]
        if not any(f in self._first for f in folded):
            return text
        out: list[str] = []
        pos = i = 0
        while i < len(words):
            n, replacement = self._match(folded, i)
            if n:
                out += (text[pos : words[i].start()], replacement)
                pos = words[i + n - 1].end()
                i += n
            else:
                i += 1
        out.append(text[pos:])
        return "".join(out)

    def _match(self, folded: list[str], i: int) -> tuple[int, str]:
        for words, replacement in self._first.get(folded[i], ()):
            if tuple(folded[i : i + len(words)]) == words:
                return len(words), replacement
        return 0, ""


@lru_cache(maxsize=4096)
def _scrubber(identifiers: tuple[tuple[str, str], ...], pseudonym: str) -> Scrubber:
    return Scrubber(dict(_literals(identifiers, pseudonym)))


def _literals(identifiers: tuple[tuple[str, str], ...], pseudonym: str) -> list[tuple[str, str]]:
    """(text to find, replacement) for each identifier value and, for names, each part."""
    out: list[tuple[str, str]] = []
    for keyword, value in identifiers:
        replacement = pseudonym if keyword in _PSEUDONYMISED and pseudonym else MASKED
        for single in value.split("\\"):
            single = single.strip()
            if len(single) >= _MIN_LITERAL:
                out.append((single, replacement))
            if "^" in single or keyword.endswith("Name"):
                out.extend(
                    (part, replacement)
                    for part in _NAME_SPLIT.split(single)
                    if len(part) >= _MIN_LITERAL or (len(part) == _MIN_NAME_PART and part.isalpha())
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
    if kind == "string" and node.get("vr") != "UI":  # UIDs are kept whole (see above)
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
