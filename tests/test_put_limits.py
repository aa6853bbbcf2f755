"""A PUT of many ROIs: bounded per file with a clear 413, linear to validate, and never on the
event loop (the server keeps answering while one is processed)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dcmview
from dcmview.core.annotations import AnnotationStore, ImageShape, LoadedFile, Roi
from dcmview.core.errors import PayloadTooLarge

from . import dicomgen as gen

SHAPE = ImageShape(rows=4000, columns=4000, frame_count=1)


def boxes(count: int, offset: int = 0) -> list[list[int]]:
    """``count`` distinct boxes inside a 4000² image."""
    return [
        [i % 3900, (i // 3900) + offset, i % 3900 + 5, (i // 3900) + offset + 5]
        for i in range(count)
    ]


def test_a_put_over_the_roi_limit_is_refused_and_changes_nothing() -> None:
    store = AnnotationStore([LoadedFile(0, "/x/a.dcm", SHAPE)])
    store.put(0, {"roi_coords": [[1, 1, 5, 5]]})
    limit = 10_000  # documented in the README
    with pytest.raises(PayloadTooLarge) as info:
        store.put(0, {"roi_coords": boxes(limit + 1)})
    assert "at most 10,000 ROIs" in info.value.message
    assert info.value.status == 413
    assert store.rois(0) == (Roi(1, 1, 5, 5),)
    store.put(0, {"roi_coords": boxes(limit)})  # the limit itself is fine
    assert len(store.rois(0)) == limit


def test_replacing_many_rois_compares_each_roi_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Matching a PUT's ROIs to the rows they came from was quadratic: 20,000 reordered boxes
    # took seconds on the event loop. Counting comparisons shows the growth without a clock.
    count = 2000
    store = AnnotationStore([LoadedFile(0, "/x/a.dcm", SHAPE)])
    store.put(0, {"roi_coords": boxes(count)})
    compared = 0
    equal = Roi.__eq__

    def counting_eq(self: Roi, other: object) -> bool:
        nonlocal compared
        compared += 1
        return equal(self, other)

    monkeypatch.setattr(Roi, "__eq__", counting_eq)
    reordered = boxes(count)[::-1]
    store.put(0, {"roi_coords": reordered[: count // 2] + boxes(count // 2, offset=2)})
    assert compared <= 4 * count, compared


class _WatchedLock:
    """The store's lock, telling when a second thread has to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.contended = threading.Event()

    def __enter__(self) -> _WatchedLock:
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


@pytest.fixture
def handle(tmp_path: Path) -> Iterator[Any]:
    gen.write_image(tmp_path / "big.dcm", gen.phantom(4000, 4000, dtype="uint8"))
    viewer = dcmview.view([str(tmp_path)], browser=False, block=False)
    try:
        yield viewer
    finally:
        viewer.stop()


def _request(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers)
    reply = conn.getresponse()
    payload = json.loads(reply.read())
    conn.close()
    return reply.status, payload


def test_health_answers_while_a_large_put_is_being_processed(handle: Any) -> None:
    port, token = handle.port, handle.token
    while not _request(port, "GET", "/api/health", token)[1]["scan_complete"]:
        time.sleep(0.05)
    store = handle._server.session.annotation_store()
    watched = _WatchedLock()
    store._lock = watched
    answers: list[tuple[int, Any]] = []
    put = threading.Thread(
        target=lambda: answers.append(
            _request(port, "PUT", "/api/file/0/annotations", token, {"roi_coords": boxes(9000)})
        )
    )
    with watched:
        put.start()
        # The PUT is now inside the store, waiting for the lock this test holds.
        assert watched.contended.wait(30)
        status, health = _request(port, "GET", "/api/health", token)
        assert status == 200 and health["status"] == "ok"
    put.join(60)
    assert answers and answers[0][0] == 200 and answers[0][1]["num_roi"] == 9000


def test_a_put_over_the_limit_gets_a_clear_413_over_http(handle: Any) -> None:
    port, token = handle.port, handle.token
    while not _request(port, "GET", "/api/health", token)[1]["scan_complete"]:
        time.sleep(0.05)
    body = {"roi_coords": boxes(10_001)}
    status, answer = _request(port, "PUT", "/api/file/0/annotations", token, body)
    assert status == 413 and answer["code"] == "payload_too_large"
    assert "10,000" in answer["error"]
    assert _request(port, "GET", "/api/file/0/annotations", token)[1]["num_roi"] == 0


def test_the_readme_states_the_roi_limit() -> None:
    from dcmview.core.annotations import MAX_ROIS_PER_FILE

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"{MAX_ROIS_PER_FILE:,} ROIs" in readme


def test_a_batch_over_the_roi_limit_names_the_file_and_changes_nothing() -> None:
    store = AnnotationStore([LoadedFile(0, "/x/a.dcm", SHAPE), LoadedFile(1, "/x/b.dcm", SHAPE)])
    with pytest.raises(PayloadTooLarge) as info:
        store.put_many({0: {"roi_coords": [[1, 1, 5, 5]]}, 1: {"roi_coords": boxes(10_001)}})
    assert info.value.message.startswith("file 1: ")
    assert store.rois(0) == () and store.rois(1) == ()
