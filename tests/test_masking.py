"""``--mask`` (SPEC §12): no answer of the API holds a patient identifier of a generated file
whose identifiers are known, through each door; without ``--mask`` the same answers do."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from pydicom.datadict import keyword_dict

import dcmview
from dcmview.api import Api
from dcmview.core.masking import (
    MASKED_KEYWORDS,
    MASKED_SEQUENCES,
    SCRUBBED_KEYWORDS,
    Masker,
    Scrubber,
)
from dcmview.core.session import Session, open_session

from . import dicomgen as gen
from .dicomgen import IDENTIFIERS, PATIENT_ID
from .harness import ApiClient, DcmviewProcess
from .transports import RouterClient, WidgetClient


@pytest.fixture(scope="module")
def identified_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.write_identified_study(tmp_path_factory.mktemp("masking"))


def _answers(client: ApiClient) -> dict[str, str]:
    """Every JSON and CSV answer a viewer or script reads, by path."""
    files = client.get("api/files").json()["files"]
    paths = ["api/health", "api/files", "api/series"]
    for f in files:
        paths += [f"api/file/{f['index']}/info", f"api/file/{f['index']}/tags"]
        if f["has_pixels"]:
            box = {"roi_coords": [[0, 0, 4, 4]]}
            assert client.put_json(f"api/file/{f['index']}/annotations", box).status == 200
            assert client.put_json(f"api/file/{f['index']}/redactions", box).status == 200
    paths += ["api/annotations/export.csv", "api/redactions/export.csv"]
    out = {}
    for path in paths:
        reply = client.get(path, token=path != "api/health")
        assert reply.status == 200, (path, reply.body[:200])
        out[path] = reply.body.decode("utf-8")
    return out


def _leaks(answers: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for path, text in answers.items():
        # JSON escapes nothing in these ASCII values; "^" may be written as a space.
        lowered = text.lower()
        found += [(path, value) for value in IDENTIFIERS if value.lower() in lowered]
    return found


def _door(kind: str, inputs: list[str], mask: bool):
    if kind == "http":
        return DcmviewProcess("--port", "0", *(["--mask"] if mask else []), *inputs)
    if kind == "widget":
        return WidgetClient(dcmview.Viewer(inputs, mask=mask))
    session = open_session(inputs, mask=mask)
    session.scan()
    return RouterClient(Api(session))


@pytest.mark.parametrize("door", ["http", "widget", "router"])
def test_masked_answers_hold_no_identifier(door: str, identified_dir: Path) -> None:
    client = _door(door, [str(identified_dir)], mask=True)
    with client if isinstance(client, DcmviewProcess) else _nothing():
        if isinstance(client, DcmviewProcess):
            client.wait_scan()
        answers = _answers(client)
    assert _leaks(answers) == []
    assert json.loads(answers["api/health"])["masked"] is True
    files = json.loads(answers["api/files"])["files"]
    assert {f["patient_id"] for f in files} == {"Patient 1"}
    assert all(f["label"].startswith("Patient 1") for f in files)
    assert all(f["study_date"] == "[masked]" for f in files)
    # What is not an identifier stays: modality, UIDs, the file name.
    assert {f["modality"] for f in files} >= {"CT", "XA"}
    assert any(Path(f["path"]).name == "cine.dcm" for f in files)


def test_unmasked_answers_show_the_identifiers(identified_dir: Path) -> None:
    session = open_session([str(identified_dir)])
    session.scan()
    answers = _answers(RouterClient(Api(session)))
    assert {value for _, value in _leaks(answers)} == set(IDENTIFIERS)
    assert json.loads(answers["api/health"])["masked"] is False


def test_masked_tags_keep_structure_and_pseudonymise_the_patient(identified_dir: Path) -> None:
    session = open_session([str(identified_dir)], mask=True)
    session.scan()
    tree = {n["keyword"]: n for n in session.tags(0)}
    assert tree["PatientID"]["value"] == {"type": "string", "value": "Patient 1"}
    assert tree["PatientName"]["value"] == {"type": "string", "value": "Patient 1"}
    assert tree["InstitutionName"]["value"]["value"] == "[masked]"
    assert tree["StudyDate"]["value"]["value"] == "[masked]"
    assert tree["StudyDescription"]["value"]["value"] == "CT chest for Patient 1"
    assert tree["Modality"]["value"]["value"] in ("CT", "XA", "SR")
    (item,) = tree["RequestAttributesSequence"]["value"]["items"]
    inner = {n["keyword"]: n["value"]["value"] for n in item}
    assert inner["AccessionNumber"] == inner["RequestedProcedureID"] == "[masked]"
    private = {n["tag"]: n["value"]["value"] for n in session.tags(0) if n["tag"][1:5] == "0011"}
    assert private == {"(0011,0010)": "dcmview tests", "(0011,1001)": "[masked]"}
    (other,) = tree["OtherPatientIDsSequence"]["value"]["items"]
    assert {n["value"]["value"] for n in other} == {"Patient 1", "[masked]"}


def _published(session: Session) -> dict:
    """What the session publishes for /api/files (its lists; the answer adds the counts)."""
    return json.loads(session.listing.files.text(b'"end":0}'))


def test_filter_matches_the_real_values_when_masked(identified_dir: Path, tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path, count=1, size=16, patient_id="SOMEONE-ELSE")
    inputs = [str(identified_dir), str(tmp_path)]
    session = open_session(inputs, mask=True, filters=[_filter(f"patient_id={PATIENT_ID}")])
    session.scan()
    assert len(session.files) == 4
    assert {session.summary(i)["patient_id"] for i in range(4)} == {"Patient 1"}
    # The filtered file's reason names the filter value: an identifier, masked too.
    (entry,) = _published(session)["discovery"]
    assert entry["disposition"] == "filtered"
    assert entry["reason"] == "patient_id does not contain 'Patient 1'"


def test_two_patients_get_two_pseudonyms(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path / "a", count=1, size=16, patient_id="AAA111", patient_name="X^Y")
    gen.write_ct_series(tmp_path / "b", count=1, size=16, patient_id="BBB222", patient_name="Z^W")
    session = open_session([str(tmp_path)], mask=True)
    session.scan()
    published = session.listing.files.text(b'"end":0}')
    listing = json.loads(published)["files"]
    assert sorted(f["patient_id"] for f in listing) == ["Patient 1", "Patient 2"]
    assert b"AAA111" not in published and b"BBB222" not in published


def test_python_export_keeps_real_paths_so_it_loads_again(
    identified_dir: Path, tmp_path: Path
) -> None:
    session = open_session([str(identified_dir)], mask=True)
    session.scan()
    with_pixels = next(i for i, r in enumerate(session.files) if r.has_pixels)
    session.set_annotations({with_pixels: {"roi_coords": [[0, 0, 2, 2]]}})
    written = session.write_export(tmp_path / "out.csv").read_text()
    assert PATIENT_ID in written  # the folder name: a file for scripts, not shown on screen


def test_scrubber_replaces_whole_words_only() -> None:
    scrub = Scrubber({"LI": "[masked]", "DOE": "Patient 1", "DOE^JOHN": "Patient 1"})
    assert scrub("/data/doe_LI/slice.dcm") == "/data/Patient 1_[masked]/slice.dcm"
    assert scrub("DOESKIN LIVER") == "DOESKIN LIVER"
    assert scrub("seen: Doe John, Li") == "seen: Patient 1, [masked]"


def test_short_ids_are_not_looked_for_in_text() -> None:
    # A phantom's PatientID "1" must not turn every "1" of a path or description into a name.
    masker = Masker()
    scrub = masker.scrubber((("PatientID", "1"), ("PatientName", "LI^X")), "Patient 1")
    assert scrub("/data/1/series 1/IM1.dcm") == "/data/1/series 1/IM1.dcm"
    assert scrub("reviewed by li") == "reviewed by Patient 1"


def test_uids_in_tag_values_are_kept_whole(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path, count=1, size=16, patient_id="1.2", patient_name="Q^R")
    session = open_session([str(tmp_path)], mask=True)
    session.scan()
    tree = {n["keyword"]: n["value"] for n in session.tags(0)}
    uid = session.files[0].fields["study_instance_uid"]
    assert tree["StudyInstanceUID"]["value"] == uid


def test_the_table_names_real_dicom_keywords() -> None:
    for keyword in (*MASKED_KEYWORDS, *MASKED_SEQUENCES, *SCRUBBED_KEYWORDS):
        assert keyword in keyword_dict, keyword


def _filter(text: str):
    from dcmview.core.filters import parse_filter

    return parse_filter(text)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_masked_csv_download_cleans_kept_columns_and_unmatched_rows(
    identified_dir: Path, tmp_path: Path
) -> None:
    cine = identified_dir / "cine.dcm"
    table = tmp_path / "rois.csv"
    table.write_text(
        "anon_dicom_path,ROI_coords,reader\n"
        f'{cine},"[[0,0,2,2]]",{gen.NAME_PARTS[0]} reviewed\n'
        f'/elsewhere/{PATIENT_ID}/other.dcm,"[[0,0,1,1]]",{gen.ACCESSION}\n'
    )
    session = open_session([str(identified_dir)], annotations=table, mask=True)
    session.scan()
    text = RouterClient(Api(session)).get("api/annotations/export.csv").body.decode()
    assert [v for v in IDENTIFIERS if v.lower() in text.lower()] == []
    assert "Patient 1 reviewed" in text and "/elsewhere/Patient 1/other.dcm" in text


def test_view_handle_masks_too(identified_dir: Path) -> None:
    with dcmview.view([str(identified_dir)], browser=False, block=False, mask=True) as handle:
        assert handle.wait_ready(timeout=30)
        req = urllib.request.Request(
            handle.url.split("#")[0] + "api/files",
            headers={"Authorization": f"Bearer {handle.token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            listing = resp.read().decode()
    assert PATIENT_ID not in listing and '"patient_id":"Patient 1"' in listing


def test_layer_names_and_sources_are_masked(identified_dir: Path) -> None:
    import numpy as np

    from dcmview.core.layers.python_api import add_layer

    session = open_session([str(identified_dir)], mask=True)
    session.scan()
    store = session.layers()
    stack = next(
        s for item in session.series_list() for s in item["stacks"] if len(s["frames"]) == 2
    )
    mask = np.zeros((2, stack["rows"], stack["columns"]), np.uint8)
    mask[:, 2:5, 2:5] = 1
    add_layer(store, mask, name=f"prediction for {PATIENT_ID}", on=stack["id"])
    listing = session.layer_listing()
    assert listing and PATIENT_ID not in json.dumps(listing)
    assert any(layer["name"].startswith("prediction for ") for layer in listing)
    unmasked = open_session([str(identified_dir)])
    unmasked.scan()
    add_layer(unmasked.layers(), mask, name=f"prediction for {PATIENT_ID}", on=stack["id"])
    assert PATIENT_ID in json.dumps(unmasked.layer_listing())
