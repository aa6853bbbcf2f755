"""Mutation: hundreds of randomly damaged copies of valid files never kill the server (slow).

Each mutant (tests/malformed.py: byte flips favouring the header, truncations, both) is scanned by
one server, then every file it lists is asked for its info, tags, first and last frame (PNG and
raw) and annotations. No answer may be a 5xx or carry a traceback, and the server must answer
/api/health throughout and at the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import dicomgen as gen
from . import malformed
from .harness import DcmviewProcess

MUTANTS = 1000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mutant_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = malformed.mutation_sources(tmp_path_factory.mktemp("sources"))
    folder = tmp_path_factory.mktemp("mutants")
    written = list(malformed.mutants(sources, folder, MUTANTS))
    assert len(written) == MUTANTS
    gen.write_ct_series(folder, count=1)  # one file that certainly loads
    return folder


@pytest.fixture(scope="module")
def server(mutant_folder: Path, tmp_path_factory: pytest.TempPathFactory):
    cache = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}
    with DcmviewProcess("--port", "0", str(mutant_folder), env=cache) as proc:
        proc.wait_scan(timeout=180)
        yield proc


def _check(proc: DcmviewProcess, path: str) -> int:
    reply = proc.get(path)
    assert reply.status < 500, (path, reply.body[:300])
    if reply.status >= 400 and reply.body:
        body = reply.json()
        assert body["code"] and "Traceback" not in body["error"], (path, body)
    return reply.status


def test_every_mutant_is_listed_or_skipped_with_a_reason(server: DcmviewProcess) -> None:
    listing = server.get("api/files").json()
    assert listing["scanned"] == MUTANTS + 1
    assert len(listing["files"]) + len(listing["discovery"]) == MUTANTS + 1
    assert all(e["reason"].strip() for e in listing["discovery"])
    # the mutation is not so gentle that nothing breaks, nor so harsh that nothing loads
    assert 20 < len(listing["files"]) < MUTANTS and listing["skipped"] > 20


def test_no_request_on_any_mutant_kills_the_server(server: DcmviewProcess) -> None:
    files = server.get("api/files").json()["files"]
    statuses: dict[int, int] = {}
    for n, f in enumerate(files):
        i, last = f["index"], max(f["frame_count"] - 1, 0)
        for path in (
            f"api/file/{i}/info",
            f"api/file/{i}/tags",
            f"api/file/{i}/frame/0",
            f"api/file/{i}/frame/0/raw",
            f"api/file/{i}/frame/{last}/raw",
            f"api/file/{i}/frame/0?mode=full_dynamic",
            f"api/file/{i}/annotations",
        ):
            status = _check(server, path)
            statuses[status] = statuses.get(status, 0) + 1
        if n % 25 == 0:
            assert server.proc.poll() is None and server.get("api/health").status == 200
    assert server.get("api/health").json()["status"] == "ok"
    assert statuses.get(200, 0) > 0 and statuses.get(422, 0) > 0, statuses
    assert "Traceback" not in server.output and "Uncaught exception" not in server.output
