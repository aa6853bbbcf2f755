"""ROI payloads, the annotation store (ETags, If-Match, atomic and concurrent PUTs), path
matching of CSV rows and recovery files. CSV syntax and export live in test_annotations_csv.py."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from dcmview.core.annotations import (
    AnnotationStore,
    CsvError,
    ImageShape,
    LoadedFile,
    Roi,
    parse_payload,
    read_csv,
    to_payload,
)
from dcmview.core.errors import InvalidAnnotation, NotFound, PreconditionFailed

SHAPE = ImageShape(rows=512, columns=400, frame_count=10)
HEADER = "anon_dicom_path,num_ROI,ROI_coords,ROI_frames\n"


def write_csv_file(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def loaded(tmp_path: Path, count: int = 2, shape: ImageShape | None = SHAPE) -> list[LoadedFile]:
    folder = tmp_path / "study"
    folder.mkdir(exist_ok=True)
    files = []
    for i in range(count):
        dcm = folder / f"img{i}.dcm"
        dcm.write_bytes(b"not really dicom")
        files.append(LoadedFile(index=i, path=str(dcm), shape=shape))
    return files


def store_from(tmp_path: Path, text: str, files: list[LoadedFile] | None = None) -> AnnotationStore:
    csv_path = write_csv_file(tmp_path / "rois.csv", text)
    return AnnotationStore(files or loaded(tmp_path), read_csv(csv_path), cwd=str(tmp_path))


def invalid(body: object, shape: ImageShape = SHAPE) -> str:
    with pytest.raises(InvalidAnnotation) as info:
        parse_payload(body, shape)
    return info.value.message


# -- payload validation ---------------------------------------------------------------------


def test_payload_accepts_boxes_and_frames():
    rois = parse_payload({"roi_coords": [[1, 2, 30, 40]], "roi_frames": [[3, 1]]}, SHAPE)
    assert rois == (Roi(1, 2, 30, 40, (1, 3)),)


def test_payload_normalises_reversed_corners():
    assert parse_payload({"roi_coords": [[30, 40, 1, 2]]}, SHAPE) == (Roi(1, 2, 30, 40),)


def test_payload_deduplicates_and_sorts_frames():
    rois = parse_payload({"roi_coords": [[1, 2, 3, 4]], "roi_frames": [[5, 2, 5, 0]]}, SHAPE)
    assert rois[0].frames == (0, 2, 5)


def test_payload_without_roi_frames_means_all_frames():
    rois = parse_payload({"roi_coords": [[1, 2, 3, 4], [5, 6, 7, 8]]}, SHAPE)
    assert [r.frames for r in rois] == [(), ()]


def test_payload_empty_frame_list_means_all_frames_for_that_roi():
    body = {"roi_coords": [[1, 2, 3, 4], [5, 6, 7, 8]], "roi_frames": [[], [4]]}
    assert [r.frames for r in parse_payload(body, SHAPE)] == [(), (4,)]


def test_payload_top_level_empty_roi_frames_means_all_frames():
    body = {"roi_coords": [[1, 2, 3, 4], [5, 6, 7, 8]], "roi_frames": []}
    assert [r.frames for r in parse_payload(body, SHAPE)] == [(), ()]


def test_payload_allows_max_edges_equal_to_image_size():
    assert parse_payload({"roi_coords": [[0, 0, 512, 400]]}, SHAPE) == (Roi(0, 0, 512, 400),)


def test_payload_accepts_integral_floats():
    assert parse_payload({"roi_coords": [[1.0, 2, 3, 4]]}, SHAPE) == (Roi(1, 2, 3, 4),)


def test_payload_accepts_numpy_integers():
    numpy = pytest.importorskip("numpy")
    box = [numpy.int64(1), numpy.uint16(2), numpy.int32(3), numpy.int8(4)]
    assert parse_payload({"roi_coords": [box]}, SHAPE) == (Roi(1, 2, 3, 4),)


def test_payload_empty_coords_clears_all_rois():
    assert parse_payload({"num_roi": 0, "roi_coords": []}, SHAPE) == ()


def test_payload_must_be_an_object():
    assert "JSON object" in invalid([[1, 2, 3, 4]])


def test_payload_requires_roi_coords():
    assert "roi_coords is missing" in invalid({"num_roi": 0})


def test_payload_rejects_unknown_fields():
    assert "roi_frame" in invalid({"roi_coords": [], "roi_frame": []})


def test_payload_rejects_box_outside_image_naming_the_roi():
    message = invalid({"roi_coords": [[1, 2, 3, 4], [10, 10, 513, 20]]})
    assert message.startswith("ROI 2") and "ymax 513" in message and "rows (512)" in message


def test_payload_rejects_box_wider_than_image():
    message = invalid({"roi_coords": [[1, 2, 3, 401]]})
    assert "ROI 1" in message and "columns (400)" in message


def test_payload_rejects_negative_coordinates():
    message = invalid({"roi_coords": [[1, -2, 3, 4]]})
    assert "ROI 1" in message and "negative" in message


def test_payload_rejects_zero_height_box():
    assert "zero height" in invalid({"roi_coords": [[5, 1, 5, 4]]})


def test_payload_rejects_zero_width_box():
    assert "zero width" in invalid({"roi_coords": [[1, 4, 5, 4]]})


def test_payload_rejects_box_with_three_numbers():
    message = invalid({"roi_coords": [[1, 2, 3, 4], [1, 2, 3]]})
    assert "ROI 2 has 3 numbers" in message


def test_payload_rejects_box_that_is_not_a_list():
    assert "ROI 1" in invalid({"roi_coords": [5]})


def test_payload_rejects_coords_that_are_not_a_list():
    assert "roi_coords" in invalid({"roi_coords": "[[1,2,3,4]]"})


def test_payload_rejects_boolean_coordinate():
    message = invalid({"roi_coords": [[True, 2, 3, 4]]})
    assert "ROI 1 ymin" in message and "boolean" in message


def test_payload_rejects_fractional_coordinate():
    message = invalid({"roi_coords": [[1, 2.5, 3, 4]]})
    assert "ROI 1 xmin" in message and "not an integer" in message


def test_payload_rejects_string_coordinate():
    message = invalid({"roi_coords": [[1, 2, "3", 4]]})
    assert "ROI 1 ymax" in message and "string" in message


def test_payload_rejects_frame_out_of_range():
    message = invalid({"roi_coords": [[1, 2, 3, 4]], "roi_frames": [[10]]})
    assert "ROI 1" in message and "frame 10" in message and "0 to 9" in message


def test_payload_rejects_negative_frame():
    assert "frame -1" in invalid({"roi_coords": [[1, 2, 3, 4]], "roi_frames": [[-1]]})


def test_payload_rejects_non_integer_frame():
    message = invalid({"roi_coords": [[1, 2, 3, 4]], "roi_frames": [[0.5]]})
    assert "ROI 1 frame" in message


def test_payload_rejects_frame_list_count_mismatch():
    message = invalid({"roi_coords": [[1, 2, 3, 4], [5, 6, 7, 8]], "roi_frames": [[0]]})
    assert "1 lists" in message and "2 boxes" in message


def test_payload_rejects_frames_entry_that_is_not_a_list():
    assert "ROI 2 frames" in invalid({"roi_coords": [[1, 2, 3, 4]] * 2, "roi_frames": [[], 3]})


def test_payload_rejects_num_roi_mismatch():
    assert "num_roi is 2" in invalid({"num_roi": 2, "roi_coords": [[1, 2, 3, 4]]})


def test_payload_rejects_boolean_num_roi():
    assert "boolean" in invalid({"num_roi": True, "roi_coords": [[1, 2, 3, 4]]})


def test_payload_rejects_roi_on_file_without_pixels():
    assert "no pixel data" in invalid({"roi_coords": [[1, 2, 3, 4]]}, ImageShape(0, 0, 0))


def test_to_payload_is_canonical():
    rois = (Roi(1, 2, 3, 4), Roi(5, 6, 7, 8, (0, 2)))
    assert to_payload(rois) == {
        "num_roi": 2,
        "roi_coords": [[1, 2, 3, 4], [5, 6, 7, 8]],
        "roi_frames": [[], [0, 2]],
    }


def test_payload_round_trips_through_to_payload():
    body = {"num_roi": 1, "roi_coords": [[9, 8, 1, 2]], "roi_frames": [[3, 3, 1]]}
    canonical = to_payload(parse_payload(body, SHAPE))
    assert to_payload(parse_payload(canonical, SHAPE)) == canonical


# -- store: get, put, ETag, If-Match --------------------------------------------------------


def test_get_of_file_without_rois_is_empty_payload(tmp_path):
    payload, _ = AnnotationStore(loaded(tmp_path)).get(0)
    assert payload == {"num_roi": 0, "roi_coords": [], "roi_frames": []}


def test_get_unknown_index_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        AnnotationStore(loaded(tmp_path)).get(7)


def test_put_unknown_index_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        AnnotationStore(loaded(tmp_path)).put(7, {"roi_coords": []})


def test_put_returns_canonical_payload_and_get_agrees(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    put_payload, put_tag = store.put(0, {"roi_coords": [[30, 40, 1, 2]], "roi_frames": [[2, 1]]})
    assert put_payload["roi_coords"] == [[1, 2, 30, 40]]
    assert store.get(0) == (put_payload, put_tag)


def test_etag_is_quoted_and_strong(tmp_path):
    _, tag = AnnotationStore(loaded(tmp_path)).get(0)
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")


def test_etag_changes_when_content_changes(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    _, before = store.get(0)
    _, after = store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    assert before != after


def test_etag_is_stable_for_identical_content(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    _, first = store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    _, second = store.put(0, {"roi_coords": [[3, 4, 1, 2]], "roi_frames": [[]]})
    _, other_file = store.put(1, {"roi_coords": [[1, 2, 3, 4]]})
    assert first == second == other_file


def test_put_with_matching_if_match_succeeds(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    _, tag = store.get(0)
    payload, _ = store.put(0, {"roi_coords": [[1, 2, 3, 4]]}, if_match=tag)
    assert payload["num_roi"] == 1


def test_put_with_stale_if_match_is_precondition_failed_and_changes_nothing(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    _, stale = store.get(0)
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    with pytest.raises(PreconditionFailed) as info:
        store.put(0, {"roi_coords": []}, if_match=stale)
    assert info.value.status == 412
    assert store.rois(0) == (Roi(1, 2, 3, 4),)


def test_put_with_if_match_star_skips_the_check(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    assert store.put(0, {"roi_coords": []}, if_match="*")[0]["num_roi"] == 0


def test_put_if_match_accepts_a_list_of_tags(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    _, tag = store.get(0)
    store.put(0, {"roi_coords": []}, if_match=f'"0000000000000000", {tag}')


def test_put_if_match_never_matches_a_weak_tag(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    _, tag = store.get(0)
    with pytest.raises(PreconditionFailed):
        store.put(0, {"roi_coords": []}, if_match=f"W/{tag}")


def test_put_batch_with_one_invalid_roi_changes_nothing(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    before = store.get(0)
    with pytest.raises(InvalidAnnotation, match="ROI 3"):
        store.put(0, {"roi_coords": [[5, 6, 7, 8], [9, 9, 20, 20], [0, 0, 600, 10]]})
    assert store.get(0) == before


def test_put_on_file_without_pixels_rejects_rois_but_accepts_empty(tmp_path):
    store = AnnotationStore(loaded(tmp_path, shape=None))
    with pytest.raises(InvalidAnnotation, match="no pixel data"):
        store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    assert store.put(0, {"roi_coords": []})[0]["num_roi"] == 0


def test_all_payloads_lists_only_files_with_rois(tmp_path):
    store = AnnotationStore(loaded(tmp_path, count=3))
    store.put(2, {"roi_coords": [[1, 2, 3, 4]]})
    store.put(1, {"roi_coords": []})
    assert list(store.all_payloads()) == [2]


def test_concurrent_puts_never_interleave(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    bodies = [{"roi_coords": [[n, n, n + 1 + k, n + 1] for k in range(50)]} for n in range(16)]
    barrier = threading.Barrier(len(bodies))

    def worker(body: dict) -> None:
        barrier.wait()
        for _ in range(20):
            store.put(0, body)

    threads = [threading.Thread(target=worker, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final, _ = store.get(0)
    assert final["roi_coords"] in [body["roi_coords"] for body in bodies]


def test_concurrent_puts_with_same_if_match_let_exactly_one_win(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    _, tag = store.get(0)
    barrier = threading.Barrier(12)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        barrier.wait()
        try:
            store.put(0, {"roi_coords": [[0, 0, n + 1, n + 1]]}, if_match=tag)
            result = "ok"
        except PreconditionFailed:
            result = "412"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["412"] * 11 + ["ok"]


# -- dirty flag -----------------------------------------------------------------------------


def test_store_is_clean_after_load(tmp_path):
    text = HEADER + f'{tmp_path}/study/img0.dcm,1,"[[1,2,3,4]]",[]\n'
    assert not store_from(tmp_path, text).dirty


def test_put_makes_store_dirty_and_export_cleans_it(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    assert store.dirty
    store.export_csv()
    assert not store.dirty


def test_put_of_identical_content_does_not_make_store_dirty(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": []})
    assert not store.dirty


# -- matching CSV rows to files -------------------------------------------------------------


def test_absolute_path_matches_after_normalisation(tmp_path):
    text = HEADER + f'{tmp_path}/study/./sub/../img1.dcm,1,"[[1,2,3,4]]",\n'
    assert store_from(tmp_path, text).rois(1) == (Roi(1, 2, 3, 4),)


def test_relative_path_resolves_against_csv_directory(tmp_path):
    text = HEADER + 'study/img0.dcm,1,"[[1,2,3,4]]",\n'
    csv_path = write_csv_file(tmp_path / "rois.csv", text)
    store = AnnotationStore(loaded(tmp_path), read_csv(csv_path), cwd="/nonexistent")
    assert store.rois(0) == (Roi(1, 2, 3, 4),)


def test_relative_path_falls_back_to_working_directory(tmp_path):
    files = loaded(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    csv_path = write_csv_file(
        tmp_path / "elsewhere" / "rois.csv", HEADER + 'img1.dcm,1,"[[1,2,3,4]]",\n'
    )
    store = AnnotationStore(files, read_csv(csv_path), cwd=str(tmp_path / "study"))
    assert store.rois(1) == (Roi(1, 2, 3, 4),)


def test_csv_directory_wins_over_working_directory(tmp_path):
    files = loaded(tmp_path)
    other = tmp_path / "other" / "study"
    other.mkdir(parents=True)
    (other / "img0.dcm").write_bytes(b"x")
    files.append(LoadedFile(index=2, path=str(other / "img0.dcm"), shape=SHAPE))
    csv_path = write_csv_file(tmp_path / "rois.csv", HEADER + 'study/img0.dcm,1,"[[1,2,3,4]]",\n')
    store = AnnotationStore(files, read_csv(csv_path), cwd=str(tmp_path / "other"))
    assert store.rois(0) and not store.rois(2)


def test_path_through_symlinked_folder_matches(tmp_path):
    files = loaded(tmp_path)
    (tmp_path / "alias").symlink_to(tmp_path / "study", target_is_directory=True)
    store = store_from(tmp_path, HEADER + f'{tmp_path}/alias/img1.dcm,1,"[[1,2,3,4]]",\n', files)
    assert store.rois(1) == (Roi(1, 2, 3, 4),)


def test_loaded_file_under_symlinked_folder_matches_real_path(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.dcm").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    files = [LoadedFile(index=0, path=str(tmp_path / "link" / "a.dcm"), shape=SHAPE)]
    store = store_from(tmp_path, HEADER + f'{tmp_path}/real/a.dcm,1,"[[1,2,3,4]]",\n', files)
    assert store.rois(0) == (Roi(1, 2, 3, 4),)


def test_surrounding_spaces_in_path_are_ignored_for_matching(tmp_path):
    store = store_from(tmp_path, HEADER + f' {tmp_path}/study/img0.dcm ,1,"[[1,2,3,4]]",\n')
    assert store.rois(0)


def test_unmatched_rows_are_not_validated_against_images(tmp_path):
    text = HEADER + '/nowhere/x.dcm,1,"[[0,0,99999,99999]]","[[500]]"\n'
    store = store_from(tmp_path, text)
    assert store.unmatched_rows == 1 and store.all_payloads() == {}


def test_unmatched_rows_must_still_parse(tmp_path):
    with pytest.raises(CsvError) as info:
        store_from(tmp_path, HEADER + '/nowhere/x.dcm,1,"[[0,0,1]]",\n')
    assert info.value.line == 2


def test_multiple_rows_for_one_file_concatenate_in_row_order(tmp_path):
    path = f"{tmp_path}/study/img0.dcm"
    text = HEADER + f'{path},1,"[[1,2,3,4]]",\n{path},2,"[[5,6,7,8],[9,9,10,10]]","[[1],[]]"\n'
    assert store_from(tmp_path, text).rois(0) == (
        Roi(1, 2, 3, 4),
        Roi(5, 6, 7, 8, (1,)),
        Roi(9, 9, 10, 10),
    )


def test_matched_row_out_of_bounds_names_line_and_rule(tmp_path):
    text = HEADER + f'{tmp_path}/study/img0.dcm,2,"[[1,2,3,4],[0,0,513,4]]",\n'
    with pytest.raises(CsvError) as info:
        store_from(tmp_path, text)
    assert (
        info.value.line == 2 and "ROI 2" in info.value.message and "rows (512)" in str(info.value)
    )
    assert str(info.value).startswith("rois.csv line 2: ")


def test_matched_row_frame_out_of_range_names_line(tmp_path):
    text = HEADER + f'{tmp_path}/study/img0.dcm,1,"[[1,2,3,4]]","[[10]]"\n'
    with pytest.raises(CsvError, match="frame 10") as info:
        store_from(tmp_path, text)
    assert info.value.line == 2


def test_matched_row_after_multiline_record_reports_physical_line(tmp_path):
    text = (
        "anon_dicom_path,ROI_coords,note\n"
        f'{tmp_path}/study/img1.dcm,"[[1,2,3,4]]","first\nsecond\nthird"\n'
        f'{tmp_path}/study/img0.dcm,"[[-1,2,3,4]]",x\n'
    )
    with pytest.raises(CsvError) as info:
        store_from(tmp_path, text)
    assert info.value.line == 5


def test_matched_row_on_file_without_pixels_is_an_error(tmp_path):
    files = loaded(tmp_path, shape=None)
    with pytest.raises(CsvError, match="no pixel data"):
        store_from(tmp_path, HEADER + f'{tmp_path}/study/img0.dcm,1,"[[1,2,3,4]]",\n', files)


def test_invalid_matched_row_loads_nothing(tmp_path):
    text = (
        HEADER
        + f'{tmp_path}/study/img0.dcm,1,"[[1,2,3,4]]",\n'
        + f'{tmp_path}/study/img1.dcm,1,"[[1,2,3,999]]",\n'
    )
    with pytest.raises(CsvError) as info:
        store_from(tmp_path, text)
    assert info.value.line == 3


# -- recovery files -------------------------------------------------------------------------


def test_recovery_is_none_when_clean(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    assert store.write_recovery(tmp_path / "recovery") is None
    assert not (tmp_path / "recovery").exists()


def test_recovery_file_has_export_content_and_mode_0600(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    path = store.write_recovery(tmp_path / "recovery")
    assert path is not None and path.parent == tmp_path / "recovery"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().decode("utf-8") == store.export_csv()


def test_recovery_leaves_no_temporary_files(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    path = store.write_recovery(tmp_path / "recovery")
    assert path is not None
    assert list((tmp_path / "recovery").iterdir()) == [path]


def test_recovery_does_not_mark_store_exported(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    store.write_recovery(tmp_path / "recovery")
    assert store.dirty


def test_recovery_defaults_to_user_cache_dir_not_next_to_inputs(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    text = HEADER + f'{inputs}/study/img0.dcm,1,"[[1,2,3,4]]",\n'
    store = store_from(inputs, text)
    before = sorted(str(p) for p in inputs.rglob("*"))
    store.put(0, {"roi_coords": []})
    path = store.write_recovery()
    assert path is not None and path.parent == cache / "dcmview" / "recovery"
    assert sorted(str(p) for p in inputs.rglob("*")) == before


def test_recovery_directory_ignores_relative_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    path = store.write_recovery()
    assert path is not None
    assert path.parent == tmp_path / "home" / ".cache" / "dcmview" / "recovery"


def test_recovery_files_get_distinct_names(tmp_path):
    store = AnnotationStore(loaded(tmp_path))
    store.put(0, {"roi_coords": [[1, 2, 3, 4]]})
    first = store.write_recovery(tmp_path)
    second = store.write_recovery(tmp_path)
    assert first != second and first is not None and second is not None


def test_store_never_writes_input_csv_or_dicom_files(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = loaded(tmp_path)
    text = (
        "\ufeff" + HEADER.replace("\n", "\r\n") + f'{tmp_path}/study/img0.dcm,1,"[[1,2,3,4]]",\r\n'
    )
    csv_path = write_csv_file(tmp_path / "rois.csv", text)
    snapshot = {p: p.read_bytes() for p in [csv_path, *(Path(f.path) for f in files)]}
    store = AnnotationStore(files, read_csv(csv_path), cwd=str(tmp_path))
    store.put(0, {"roi_coords": [[5, 6, 7, 8]]})
    store.put(1, {"roi_coords": [[5, 6, 7, 8]]})
    store.write_recovery()
    store.export_csv()
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    assert sorted(os.listdir(tmp_path / "study")) == ["img0.dcm", "img1.dcm"]
