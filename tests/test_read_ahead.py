"""Reading ahead through every door: the frame after an answered one is decoded ahead, and
large /raw bodies written in pieces arrive whole."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pydicom
import pytest

from . import dicomgen as gen
from .harness import ApiClient
from .transports import DOORS, door


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ahead")
    gen.write_multiframe(root, frames=8, rows=64, columns=48, name="a.dcm", patient_id="A")
    # 2.1 MB a frame: more than one 1 MiB piece of an HTTP answer.
    gen.write_multiframe(root, frames=2, rows=1100, columns=1000, name="big.dcm", patient_id="B")
    return root


@pytest.fixture(scope="module", params=DOORS)
def client(request: pytest.FixtureRequest, study: Path):
    paths = [str(study)]
    with door(request.param, paths) as client:
        yield client


def _index(client: ApiClient, name: str) -> int:
    files = client.get("api/files").json()["files"]
    return next(f["index"] for f in files if Path(f["path"]).name == name)


def _read_ahead(client: ApiClient, path: str) -> bool:
    """True when the first request for ``path`` is answered from the cache: its decode was
    started before (a decode in flight counts as a hit)."""
    time.sleep(0.2)
    reply = client.get(path)
    assert reply.status == 200
    return reply.header("X-Cache") == "HIT"


def test_the_frame_after_a_raw_answer_is_read_ahead(client: ApiClient, study: Path) -> None:
    i = _index(client, "a.dcm")
    first = client.get(f"api/file/{i}/frame/2/raw")
    assert first.status == 200 and first.header("X-Cache") == "MISS"
    # Only the next frame: asking for it hits the cache, the one after it did not exist yet.
    assert _read_ahead(client, f"api/file/{i}/frame/3/raw")
    expected = pydicom.dcmread(study / "a.dcm").pixel_array[3]
    reply = client.get(f"api/file/{i}/frame/3/raw")
    got = np.frombuffer(reply.body, dtype="<u2").reshape(64, 48)
    assert np.array_equal(got, expected)


def test_the_frame_after_a_new_png_is_read_ahead(client: ApiClient) -> None:
    i = _index(client, "a.dcm")
    assert client.get(f"api/file/{i}/frame/5").header("X-Cache") == "MISS"
    assert _read_ahead(client, f"api/file/{i}/frame/6/raw")


def test_large_raw_frames_arrive_whole(client: ApiClient, study: Path) -> None:
    i = _index(client, "big.dcm")
    expected = pydicom.dcmread(study / "big.dcm").pixel_array
    for frame in (0, 1):  # a miss (written in pieces), then the read-ahead hit
        reply = client.get(f"api/file/{i}/frame/{frame}/raw")
        assert reply.status == 200
        assert reply.header("Content-Length") in (None, str(expected[frame].nbytes))
        got = np.frombuffer(reply.body, dtype="<u2").reshape(1100, 1000)
        assert np.array_equal(got, expected[frame])
