"""Shared fixtures: real dcmview servers over real DICOM files."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from .harness import DcmviewProcess

PYDICOM_TEST_FILES = Path(os.path.dirname(pydicom.__file__)) / "data" / "test_files"


def pydicom_data_dir() -> Path | None:
    try:
        import data_store  # the pydicom-data package
    except ImportError:
        return None
    folder = Path(os.path.dirname(data_store.__file__)) / "data"
    return folder if folder.is_dir() else None


def checksums(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under ``roots`` (to prove a session changed nothing)."""
    out = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in paths:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Servers started by the tests keep their recovery CSVs and demo out of the user's cache."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def reference_dirs() -> list[Path]:
    dirs = [PYDICOM_TEST_FILES]
    extra = pydicom_data_dir()
    if extra is not None:
        dirs.append(extra)
    return dirs


@pytest.fixture(scope="session")
def reference_server(reference_dirs: list[Path]) -> Iterator[DcmviewProcess]:
    """One server over pydicom's test files and the pydicom-data files."""
    with DcmviewProcess("--port", "0", *map(str, reference_dirs)) as proc:
        proc.wait_scan()
        yield proc


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start ``dcmview`` with the given arguments; every server is stopped after the test."""
    started: list[DcmviewProcess] = []

    def start(
        *args: str, wait: bool = True, env: dict[str, str] | None = None, cwd: str | None = None
    ) -> DcmviewProcess:
        proc = DcmviewProcess(*args, env=env, cwd=cwd)
        started.append(proc)
        if wait:
            proc.wait_scan()
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def ct_pair(tmp_path: Path) -> Path:
    """A folder of two small CT slices (``slice_001.dcm``, ``slice_002.dcm``)."""
    from . import dicomgen as gen

    root = tmp_path / "study"
    root.mkdir()
    gen.write_ct_series(root, count=2)
    return root
