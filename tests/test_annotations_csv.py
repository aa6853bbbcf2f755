"""EMBED-style CSV: parsing in both syntaxes, every CsvError with its physical line, export
layout and quoting, formula safety, and the round trip import(export(S)) == S."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest

from dcmview.core.annotations import (
    AnnotationStore,
    CsvDocument,
    CsvError,
    ImageShape,
    LoadedFile,
    Roi,
    read_csv,
)
from dcmview.core.embed_csv import MAX_DATA_ROWS, escape_cell, unescape_cell

SHAPE = ImageShape(rows=512, columns=400, frame_count=10)
HEADER = "anon_dicom_path,num_ROI,ROI_coords,ROI_frames\n"


def parse(tmp_path: Path, text: str | bytes, name: str = "rois.csv") -> CsvDocument:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return read_csv(path)


def error(tmp_path: Path, text: str | bytes) -> CsvError:
    with pytest.raises(CsvError) as info:
        parse(tmp_path, text)
    return info.value


def files(tmp_path: Path, count: int = 3) -> list[LoadedFile]:
    return [
        LoadedFile(index=i, path=str(tmp_path / "study" / f"img{i}.dcm"), shape=SHAPE)
        for i in range(count)
    ]


def store(tmp_path: Path, text: str, count: int = 3) -> AnnotationStore:
    return AnnotationStore(files(tmp_path, count), parse(tmp_path, text), cwd=str(tmp_path))


def export_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# -- parsing --------------------------------------------------------------------------------


def test_reads_json_coords_and_frames(tmp_path):
    doc = parse(tmp_path, HEADER + 'a.dcm,2,"[[1,2,3,4],[5,6,7,8]]","[[0,1],[2]]"\n')
    row = doc.rows[0]
    assert (row.path, row.coords, row.frames) == (
        "a.dcm",
        ((1, 2, 3, 4), (5, 6, 7, 8)),
        ((0, 1), (2,)),
    )


def test_reads_embed_python_tuple_literal(tmp_path):
    doc = parse(tmp_path, HEADER + 'a.dcm,1,"((1365, 272, 1610, 508),)",\n')
    assert doc.rows[0].coords == ((1365, 272, 1610, 508),)


def test_reads_empty_python_tuple_as_no_rois(tmp_path):
    assert parse(tmp_path, HEADER + "a.dcm,0,(),\n").rows[0].coords == ()


def test_reads_list_of_tuples(tmp_path):
    doc = parse(tmp_path, HEADER + 'a.dcm,2,"[(1,2,3,4), (5,6,7,8)]",\n')
    assert doc.rows[0].coords == ((1, 2, 3, 4), (5, 6, 7, 8))


def test_reads_python_literal_frames(tmp_path):
    doc = parse(tmp_path, HEADER + 'a.dcm,1,"((1,2,3,4),)","((0, 3),)"\n')
    assert doc.rows[0].frames == ((0, 3),)


def test_reads_integral_float_coordinates(tmp_path):
    assert parse(tmp_path, HEADER + 'a.dcm,1,"[[1.0,2,3,4]]",\n').rows[0].coords == ((1, 2, 3, 4),)


def test_empty_coords_cell_means_no_rois(tmp_path):
    assert parse(tmp_path, HEADER + "a.dcm,,,\n").rows[0].coords == ()


def test_header_names_match_case_insensitively_and_trimmed(tmp_path):
    doc = parse(tmp_path, ' Anon_DICOM_Path ,ROI_COORDS,Num_Roi\na.dcm,"[[1,2,3,4]]",1\n')
    assert doc.rows[0].coords == ((1, 2, 3, 4),)


def test_optional_columns_may_be_missing(tmp_path):
    doc = parse(tmp_path, 'anon_dicom_path,ROI_coords\na.dcm,"[[1,2,3,4]]"\n')
    assert doc.rows[0].frames is None


def test_empty_frames_cell_means_all_frames(tmp_path):
    assert parse(tmp_path, HEADER + 'a.dcm,1,"[[1,2,3,4]]",\n').rows[0].frames is None


def test_empty_frames_list_means_all_frames_for_every_roi(tmp_path):
    doc = parse(tmp_path, HEADER + 'a.dcm,2,"[[1,2,3,4],[5,6,7,8]]",[]\n')
    assert doc.rows[0].frames is None


def test_per_roi_empty_frame_list_means_all_frames_for_that_roi(tmp_path):
    text = HEADER + f'{tmp_path}/study/img0.dcm,2,"[[1,2,3,4],[5,6,7,8]]","[[],[3]]"\n'
    assert store(tmp_path, text).rois(0) == (Roi(1, 2, 3, 4), Roi(5, 6, 7, 8, (3,)))


def test_num_roi_accepts_integral_float_text(tmp_path):
    assert parse(tmp_path, HEADER + 'a.dcm,1.0,"[[1,2,3,4]]",\n').rows[0].coords


def test_other_columns_are_kept_in_order(tmp_path):
    doc = parse(tmp_path, 'zeta,anon_dicom_path,alpha,ROI_coords\nz1,a.dcm,a1,"[]"\n')
    assert doc.columns == ("zeta", "alpha") and doc.rows[0].extra == ("z1", "a1")


def test_reads_utf8_bom_and_crlf(tmp_path):
    doc = parse(tmp_path, '\ufeffanon_dicom_path,ROI_coords,note\r\né.dcm,"[[1,2,3,4]]",ü\r\n')
    assert doc.rows[0].path == "é.dcm" and doc.rows[0].extra == ("ü",)


def test_blank_lines_are_skipped_and_lines_stay_physical(tmp_path):
    doc = parse(tmp_path, HEADER + "\n\na.dcm,0,[],\n")
    assert len(doc.rows) == 1 and doc.rows[0].line == 4


def test_row_line_is_where_a_multiline_record_starts(tmp_path):
    doc = parse(tmp_path, 'anon_dicom_path,ROI_coords,n\na,[],"x\ny"\nb,[],z\n')
    assert [r.line for r in doc.rows] == [2, 4]


# -- errors, each with its physical line ----------------------------------------------------


def test_missing_required_column_is_line_1(tmp_path):
    err = error(tmp_path, "anon_dicom_path,num_ROI\na.dcm,0\n")
    assert err.line == 1 and "ROI_coords" in err.message


def test_missing_path_column_is_line_1(tmp_path):
    assert error(tmp_path, "path,ROI_coords\na.dcm,[]\n").line == 1


def test_duplicate_known_column_is_an_error(tmp_path):
    err = error(tmp_path, "anon_dicom_path,ROI_coords,roi_coords\na,[],[]\n")
    assert err.line == 1 and "twice" in err.message


def test_empty_file_is_an_error(tmp_path):
    assert error(tmp_path, "").line == 1


def test_error_text_names_the_csv_and_line(tmp_path):
    err = error(tmp_path, HEADER + 'a.dcm,1,"[[1,2,3]]",\n')
    assert str(err) == f"rois.csv line 2: {err.message}"


def test_missing_file_is_an_error_without_line(tmp_path):
    with pytest.raises(CsvError) as info:
        read_csv(tmp_path / "absent.csv")
    assert info.value.line == 0 and str(info.value).startswith("absent.csv: ")


def test_box_with_wrong_arity_names_the_roi(tmp_path):
    err = error(tmp_path, HEADER + 'a.dcm,2,"[[1,2,3,4],[1,2,3,4,5]]",\n')
    assert err.line == 2 and "ROI 2 has 5 numbers" in err.message


def test_fractional_coordinate_is_rejected(tmp_path):
    err = error(tmp_path, HEADER + 'a.dcm,1,"[[1,2.5,3,4]]",\n')
    assert "ROI 1 xmin" in err.message and "not an integer" in err.message


def test_boolean_coordinate_is_rejected(tmp_path):
    assert "boolean" in error(tmp_path, HEADER + 'a.dcm,1,"[[true,2,3,4]]",\n').message


def test_quoted_text_coordinate_is_rejected(tmp_path):
    assert "quoted text" in error(tmp_path, HEADER + "a.dcm,1,\"[['1',2,3,4]]\",\n").message


def test_code_in_a_cell_is_never_evaluated(tmp_path):
    err = error(tmp_path, HEADER + 'a.dcm,1,"[[1,2,3,4]] + [[5,6,7,8]]",\n')
    assert "neither JSON nor a Python literal" in err.message


def test_deep_nesting_is_rejected_before_parsing(tmp_path):
    err = error(tmp_path, HEADER + "a.dcm,1," + "[" * 5000 + "]" * 5000 + ",\n")
    assert "nested too deeply" in err.message


def test_num_roi_mismatch_is_rejected(tmp_path):
    err = error(tmp_path, HEADER + 'a.dcm,2,"[[1,2,3,4]]",\n')
    assert err.line == 2 and "num_ROI is 2" in err.message


def test_num_roi_that_is_not_a_number_is_rejected(tmp_path):
    assert "num_ROI" in error(tmp_path, HEADER + 'a.dcm,two,"[[1,2,3,4]]",\n').message


def test_frame_list_count_mismatch_is_rejected(tmp_path):
    err = error(tmp_path, HEADER + 'a.dcm,2,"[[1,2,3,4],[5,6,7,8]]","[[1]]"\n')
    assert "1 frame lists" in err.message and "2 boxes" in err.message


def test_all_empty_frame_lists_must_still_match_the_roi_count(tmp_path):
    err = error(tmp_path, HEADER + 'a.dcm,1,"[[1,2,3,4]]","[[],[]]"\n')
    assert "2 frame lists" in err.message


def test_row_with_wrong_field_count_is_rejected(tmp_path):
    err = error(tmp_path, HEADER + "a.dcm,0,[],[],extra\n")
    assert err.line == 2 and "5 fields" in err.message


def test_empty_path_is_rejected(tmp_path):
    assert "anon_dicom_path is empty" in error(tmp_path, HEADER + ' ,1,"[[1,2,3,4]]",\n').message


def test_unterminated_quote_is_reported_at_its_record(tmp_path):
    err = error(tmp_path, HEADER + "a.dcm,0,[],\n" + 'b.dcm,1,"[[1,2,3,4]],\nc.dcm,0,[],\n')
    assert err.line == 3 and "never closed" in err.message


def test_field_over_128_kib_is_rejected(tmp_path):
    err = error(tmp_path, HEADER + "a.dcm,0,[],\n" + 'b.dcm,0,[],"' + "x" * 140_000 + '"\n')
    assert err.line == 3 and "128 KiB" in err.message


def test_multibyte_field_over_128_kib_is_rejected(tmp_path):
    err = error(tmp_path, 'anon_dicom_path,ROI_coords,n\na,[],"' + "é" * 70_000 + '"\n')
    assert err.line == 2 and "128 KiB" in err.message


def test_more_than_max_data_rows_is_rejected(tmp_path):
    text = "anon_dicom_path,ROI_coords\n" + "a,()\n" * (MAX_DATA_ROWS + 1)
    err = error(tmp_path, text)
    assert err.line == MAX_DATA_ROWS + 2 and "250,000" in err.message


def test_max_data_rows_is_accepted(tmp_path):
    text = "anon_dicom_path,ROI_coords\n" + "a,()\n" * MAX_DATA_ROWS
    assert len(parse(tmp_path, text).rows) == MAX_DATA_ROWS


def test_non_utf8_bytes_outside_the_path_column_are_rejected_with_their_line(tmp_path):
    text = b"anon_dicom_path,ROI_coords,note\r\na.dcm,[],x\r\nb.dcm,[],caf\xe9\r\n"
    err = error(tmp_path, text)
    assert err.line == 3 and "UTF-8" in err.message


def test_non_utf8_bytes_in_the_header_are_rejected(tmp_path):
    err = error(tmp_path, b"anon_dicom_path,ROI_coords,n\xe9\r\na.dcm,[],x\r\n")
    assert err.line == 1 and "UTF-8" in err.message


def test_bad_row_after_multiline_quoted_record_reports_physical_line(tmp_path):
    text = 'anon_dicom_path,ROI_coords,note\na,[],"one\ntwo\nthree"\nb,"[[1,2,3]]",x\n'
    assert error(tmp_path, text).line == 5


# -- export ---------------------------------------------------------------------------------


def test_export_header_puts_known_columns_first_then_kept_columns(tmp_path):
    s = store(tmp_path, "note,ROI_coords,site,anon_dicom_path\nn,[],s,a.dcm\n")
    assert (
        s.export_csv().split("\r\n")[0] == "anon_dicom_path,num_ROI,ROI_coords,ROI_frames,note,site"
    )


def test_export_uses_crlf_line_endings(tmp_path):
    text = store(tmp_path, HEADER + "a.dcm,0,[],\nb.dcm,0,[],\n").export_csv()
    assert text.count("\r\n") == 3 and "\n" not in text.replace("\r\n", "")


def test_export_writes_compact_json_quoted_by_csv(tmp_path):
    path = f"{tmp_path}/study/img0.dcm"
    s = store(tmp_path, HEADER + f'{path},2,"((1, 2, 3, 4), (5, 6, 7, 8))","[[1],[2,3]]"\n')
    line = s.export_csv().split("\r\n")[1]
    assert line == f'{path},2,"[[1,2,3,4],[5,6,7,8]]","[[1],[2,3]]"'


def test_export_writes_all_frames_as_empty_list(tmp_path):
    path = f"{tmp_path}/study/img0.dcm"
    s = store(tmp_path, HEADER + f'{path},1,"[[1,2,3,4]]",\n')
    assert export_rows(s.export_csv())[1] == [path, "1", "[[1,2,3,4]]", "[]"]


def test_export_keeps_paths_exactly_as_given(tmp_path):
    s = store(tmp_path, HEADER + 'study/./img0.dcm,1,"[[1,2,3,4]]",\n')
    s.put(0, {"roi_coords": [[5, 6, 7, 8]]})
    assert export_rows(s.export_csv())[1][:3] == ["study/./img0.dcm", "1", "[[5,6,7,8]]"]


def test_export_keeps_unmatched_rows(tmp_path):
    s = store(tmp_path, 'anon_dicom_path,ROI_coords,note\n/else/x.dcm,"((9, 9, 1, 1),)",keep\n')
    assert export_rows(s.export_csv())[1] == ["/else/x.dcm", "1", "[[9,9,1,1]]", "[]", "keep"]


def test_export_writes_each_roi_back_to_its_own_row(tmp_path):
    path = f"{tmp_path}/study/img0.dcm"
    text = f'anon_dicom_path,ROI_coords,finding\n{path},"[[1,2,3,4]]",A\n{path},"[[5,6,7,8]]",B\n'
    rows = export_rows(store(tmp_path, text).export_csv())
    assert [(r[2], r[4]) for r in rows[1:]] == [("[[1,2,3,4]]", "A"), ("[[5,6,7,8]]", "B")]


def test_export_writes_row_whose_rois_were_deleted_as_empty(tmp_path):
    path = f"{tmp_path}/study/img0.dcm"
    text = f'anon_dicom_path,ROI_coords,finding\n{path},"[[1,2,3,4]]",A\n{path},"[[5,6,7,8]]",B\n'
    s = store(tmp_path, text)
    s.put(0, {"roi_coords": [[5, 6, 7, 8]]})
    rows = export_rows(s.export_csv())
    assert [r[1:] for r in rows[1:]] == [["0", "[]", "[]", "A"], ["1", "[[5,6,7,8]]", "[]", "B"]]


def test_export_puts_user_added_rois_in_the_files_first_row(tmp_path):
    path = f"{tmp_path}/study/img0.dcm"
    text = f'anon_dicom_path,ROI_coords,finding\n{path},"[[1,2,3,4]]",A\n{path},"[[5,6,7,8]]",B\n'
    s = store(tmp_path, text)
    s.put(0, {"roi_coords": [[1, 2, 3, 4], [5, 6, 7, 8], [20, 20, 30, 30]]})
    rows = export_rows(s.export_csv())
    assert [(r[2], r[4]) for r in rows[1:]] == [
        ("[[1,2,3,4],[20,20,30,30]]", "A"),
        ("[[5,6,7,8]]", "B"),
    ]


def test_export_keeps_a_moved_roi_in_its_row(tmp_path):
    path = f"{tmp_path}/study/img0.dcm"
    text = f'anon_dicom_path,ROI_coords,finding\n{path},"[[1,2,3,4]]",A\n{path},"[[5,6,7,8]]",B\n'
    s = store(tmp_path, text)
    s.put(0, {"roi_coords": [[1, 2, 3, 4], [50, 60, 70, 80]]})
    rows = export_rows(s.export_csv())
    assert [(r[2], r[4]) for r in rows[1:]] == [("[[1,2,3,4]]", "A"), ("[[50,60,70,80]]", "B")]


def test_export_appends_rows_for_files_without_csv_row_in_index_order(tmp_path):
    s = store(tmp_path, "anon_dicom_path,ROI_coords,note\n/else/x.dcm,[],n\n")
    s.put(2, {"roi_coords": [[1, 2, 3, 4]]})
    s.put(0, {"roi_coords": [[5, 6, 7, 8]], "roi_frames": [[1]]})
    rows = export_rows(s.export_csv())
    assert rows[2:] == [
        [f"{tmp_path}/study/img0.dcm", "1", "[[5,6,7,8]]", "[[1]]", ""],
        [f"{tmp_path}/study/img2.dcm", "1", "[[1,2,3,4]]", "[]", ""],
    ]


def test_export_without_csv_lists_only_files_with_rois(tmp_path):
    s = AnnotationStore(files(tmp_path))
    s.put(1, {"roi_coords": [[1, 2, 3, 4]]})
    assert export_rows(s.export_csv()) == [
        ["anon_dicom_path", "num_ROI", "ROI_coords", "ROI_frames"],
        [f"{tmp_path}/study/img1.dcm", "1", "[[1,2,3,4]]", "[]"],
    ]


# -- formula safety -------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+2", "+cmd", "-x", "@SUM(A1)", "\tx", "\rx"])
def test_formula_prefixes_are_escaped(cell):
    assert escape_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-5", "+3", "-1.5e3", "0.25", ".5"])
def test_plain_numbers_are_not_escaped(cell):
    assert escape_cell(cell) == cell


@pytest.mark.parametrize("cell", ["'=x", "''", "'-5", "'\t"])
def test_cells_that_look_escaped_get_another_quote(cell):
    assert escape_cell(cell) == "'" + cell


def test_ordinary_quote_prefix_is_left_alone():
    assert escape_cell("'abc") == "'abc" and unescape_cell("'abc") == "'abc"


def test_formula_escaping_is_reversible_for_all_short_cells():
    alphabet = ["=", "+", "-", "@", "\t", "\r", "'", "1", "a", "."]
    for size in range(5):
        for chars in itertools.product(alphabet, repeat=size):
            cell = "".join(chars)
            assert unescape_cell(escape_cell(cell)) == cell


def test_export_escapes_formula_path_and_kept_cells(tmp_path):
    s = store(tmp_path, "anon_dicom_path,ROI_coords,note,n\n'=evil.dcm,[],@cmd,-5\n")
    assert export_rows(s.export_csv())[1] == ["'=evil.dcm", "0", "[]", "[]", "'@cmd", "-5"]


def test_import_strips_one_escaping_quote(tmp_path):
    doc = parse(tmp_path, "anon_dicom_path,ROI_coords,note\n'=a.dcm,[],'''x\n")
    assert doc.rows[0].path == "=a.dcm" and doc.rows[0].extra == ("''x",)


# -- round trip -----------------------------------------------------------------------------

HOSTILE = [
    'say "hi", then',
    "multi\nline\r\ncell",
    '=HYPERLINK("http://x")',
    "+1+1",
    "-cmd|' /C calc'!A0",
    "@SUM(1)",
    "\tstarts with tab",
    "\rstarts with CR",
    "'=already quoted",
    "''",
    "-5",
    "日本語 · ünïcødé 🙂",
    "",
    " padded ",
]


def hostile_csv(tmp_path: Path) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["anon_dicom_path", "=kept", "num_ROI", "ROI_coords", 'note, "quoted"', "ROI_frames"]
    )
    study = tmp_path / "study"
    writer.writerow([f"{study}/img0.dcm", HOSTILE[0], "1", "((1, 2, 3, 4),)", HOSTILE[1], ""])
    writer.writerow(
        [f"{study}/img0.dcm", HOSTILE[2], "2", "[[5,6,7,8],[9,9,20,20]]", HOSTILE[3], "[[1,2],[]]"]
    )
    for n, (a, b) in enumerate(itertools.pairwise(HOSTILE[4:])):
        writer.writerow([f"/elsewhere/{a}{n}.dcm".replace("\r", ""), a, "", "()", b, ""])
    writer.writerow(["study/img1.dcm", "日本", "1", "[[0,0,512,400]]", "x,y", "[[9]]"])
    writer.writerow(["-rf /elsewhere.dcm", "'@", "", "[]", "=1", ""])
    writer.writerow(["'=/elsewhere.dcm", "", "0", "", "", "[]"])
    return "\ufeff" + out.getvalue()


def reload(tmp_path: Path, text: str, name: str) -> tuple[AnnotationStore, CsvDocument]:
    doc = parse(tmp_path, text, name)
    return AnnotationStore(files(tmp_path), doc, cwd=str(tmp_path)), doc


def test_round_trip_with_hostile_text_preserves_state(tmp_path):
    first, first_doc = reload(tmp_path, hostile_csv(tmp_path), "input.csv")
    first.put(0, {"roi_coords": [[1, 2, 3, 4], [9, 9, 20, 20], [30, 30, 40, 40]]})
    first.put(2, {"roi_coords": [[7, 7, 8, 8]], "roi_frames": [[0, 5]]})
    second, second_doc = reload(tmp_path, first.export_csv(), "exported.csv")

    assert second_doc.columns == first_doc.columns == ("=kept", 'note, "quoted"')
    original = [(r.path, r.extra) for r in first_doc.rows]
    assert [(r.path, r.extra) for r in second_doc.rows[: len(original)]] == original
    assert second_doc.rows[len(original)].path == f"{tmp_path}/study/img2.dcm"
    for index in range(3):
        assert sorted(second.rois(index), key=repr) == sorted(first.rois(index), key=repr)
    assert second.export_csv() == first.export_csv()


def test_round_trip_preserves_roi_order_within_each_row(tmp_path):
    first, _ = reload(tmp_path, hostile_csv(tmp_path), "input.csv")
    second, _ = reload(tmp_path, first.export_csv(), "exported.csv")
    assert [second.rois(i) for i in range(3)] == [first.rois(i) for i in range(3)]


def test_round_trip_preserves_unmatched_rows(tmp_path):
    first, first_doc = reload(tmp_path, hostile_csv(tmp_path), "input.csv")
    _, second_doc = reload(tmp_path, first.export_csv(), "exported.csv")

    def unmatched(doc: CsvDocument) -> list[tuple]:
        rows = [r for r in doc.rows if "/elsewhere" in r.path]
        return [(r.path, r.coords, r.frames, r.extra) for r in rows]

    assert len(unmatched(first_doc)) == len(HOSTILE) - 3
    assert unmatched(second_doc) == unmatched(first_doc)


def test_reading_and_exporting_leaves_the_input_csv_unchanged(tmp_path):
    text = hostile_csv(tmp_path)
    first, _ = reload(tmp_path, text, "input.csv")
    before = (tmp_path / "input.csv").read_bytes()
    first.put(1, {"roi_coords": []})
    first.export_csv()
    assert (tmp_path / "input.csv").read_bytes() == before == text.encode("utf-8")
