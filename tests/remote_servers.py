"""Real remote servers for the tests and benches of SPEC §11, started on loopback.

- :class:`S3Server`: moto's S3 server (the WSGI app ``moto_server`` runs) in a thread, behind a
  middleware that counts the bytes of every response body, so that a test can check what a
  frame read transferred *at the server*.
- :class:`GcsServer`: the Python GCS emulator (``gcp-storage-emulator``, the JSON API) in a
  thread, in memory, its handler counting the body bytes of every response.
- :class:`Orthanc`: Orthanc with its DICOMweb plugin, a temp config (free ports, temp storage),
  files uploaded through its REST API.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Counting:
    """WSGI middleware: bytes of response bodies served, in total and per request. Each chunk
    is counted before it is sent, so a client that has its answer finds it counted."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.sent = 0
        self.log: list[list[Any]] = []  # [method, path, body bytes]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        entry: list[Any] = [environ["REQUEST_METHOD"], environ["PATH_INFO"], 0]
        with self.lock:
            self.log.append(entry)
        for chunk in self.app(environ, start_response):
            with self.lock:
                self.sent += len(chunk)
                entry[2] += len(chunk)
            yield chunk

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        with self.lock:
            return [(method, path, size) for method, path, size in self.log]

    def reset(self) -> None:
        with self.lock:
            self.sent = 0
            self.log = []


class S3Server:
    """moto's S3 on 127.0.0.1; :meth:`env` is what a client process needs to reach it."""

    def __init__(self) -> None:
        import logging

        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise

        self.counter = _Counting(DomainDispatcherApplication(create_backend_app))
        self.port = free_port()
        self._server = make_server("127.0.0.1", self.port, self.counter, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        # moto keeps its buckets in this process's memory, shared by every server started
        # here: start empty (a module's buckets must not show up in the next module's lists).
        reset = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=30) as answer:
            assert answer.status == 200

    def env(self) -> dict[str, str]:
        return {**S3_ENV, "AWS_ENDPOINT_URL": self.endpoint}

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def upload(
        self, bucket: str, files: Iterable[Path], prefix: str, *, public: bool = False
    ) -> list[str]:
        """Put ``files`` under ``prefix`` (``public``: readable by anyone); their keys."""
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            client.create_bucket(Bucket=bucket, **({"ACL": "public-read"} if public else {}))
        keys = []
        for path in files:
            key = f"{prefix}{path.name}"
            extra = {"ACL": "public-read"} if public else {}
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **extra)
            keys.append(key)
        return keys

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


class GcsServer:
    """gcp-storage-emulator on 127.0.0.1 with in-memory storage; :meth:`env` points gcsfs at
    it. Served by a threading HTTP server (the emulator's own serves one request at a time,
    with a backlog of 5: many reads in flight would wait on connection retries)."""

    def __init__(self) -> None:
        from http.server import ThreadingHTTPServer

        from gcp_storage_emulator.server import RequestHandler
        from gcp_storage_emulator.storage import Storage

        counter = self.counter = _Counting(None)

        class Handler(RequestHandler):  # type: ignore[misc]
            def end_headers(self) -> None:
                super().end_headers()  # what is written after this is the body
                path = self.path.split("?", 1)[0]
                entry: list[Any] = [self.command, path, 0]
                with counter.lock:
                    counter.log.append(entry)
                write = self.wfile.write

                def counted(data: bytes) -> int:
                    with counter.lock:
                        counter.sent += len(data)
                        entry[2] += len(data)
                    return write(data)

                self.wfile.write = counted  # type: ignore[method-assign]

        self.storage = Storage(use_memory_fs=True)
        self.port = free_port()
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", self.port), lambda *a: Handler(self.storage, *a)
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.endpoint}

    def _call(self, method: str, path: str, body: bytes, kind: str) -> Any:
        request = urllib.request.Request(f"{self.endpoint}{path}", data=body, method=method)
        request.add_header("Content-Type", kind)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def upload(self, bucket: str, files: Iterable[Path], prefix: str) -> list[str]:
        """Put ``files`` under ``prefix`` in ``bucket`` (made when missing); their names."""
        from urllib.parse import quote

        listed = self._call("GET", "/storage/v1/b?project=test", b"", "text/plain") or {}
        if bucket not in {b["name"] for b in listed.get("items", [])}:
            body = json.dumps({"name": bucket}).encode()
            self._call("POST", "/storage/v1/b?project=test", body, "application/json")
        names = []
        for path in files:
            name = f"{prefix}{path.name}"
            where = f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(name)}"
            self._call("POST", where, path.read_bytes(), "application/dicom")
            names.append(name)
        return names

    def delete(self, bucket: str, name: str) -> None:
        from urllib.parse import quote

        where = f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
        request = urllib.request.Request(f"{self.endpoint}{where}", method="DELETE")
        with urllib.request.urlopen(request, timeout=30):
            pass

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class Orthanc:
    """Orthanc with the DICOMweb plugin on free loopback ports and a temp storage folder."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dcmview-orthanc-"))
        self.port = free_port()
        config = {
            "Name": "dcmview-tests",
            "StorageDirectory": str(self.dir / "db"),
            "IndexDirectory": str(self.dir / "db"),
            "HttpPort": self.port,
            "DicomPort": free_port(),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "Plugins": [DICOMWEB_PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        (self.dir / "config.json").write_text(json.dumps(config))
        self.log = open(self.dir / "log.txt", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [ORTHANC, str(self.dir / "config.json")], stdout=self.log, stderr=self.log
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/system", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("Orthanc did not start")

    def upload(self, files: Iterable[Path]) -> None:
        for path in files:
            request = urllib.request.Request(
                f"{self.url}/instances", data=path.read_bytes(), method="POST"
            )
            request.add_header("Content-Type", "application/dicom")
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 200

    def delete_study(self, study_uid: str) -> None:
        """Remove a study (found by its UID through Orthanc's REST API)."""
        request = urllib.request.Request(
            f"{self.url}/tools/lookup", data=study_uid.encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            found = json.loads(answer.read())
        for item in found:
            delete = urllib.request.Request(f"{self.url}{item['Path']}", method="DELETE")
            with urllib.request.urlopen(delete, timeout=30):
                pass

    def study_url(self, study_uid: str, series_uid: str | None = None) -> str:
        url = f"dicomweb+{self.url}/dicom-web/studies/{study_uid}"
        return f"{url}/series/{series_uid}" if series_uid else url

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def orthanc_available() -> bool:
    return os.access(ORTHANC, os.X_OK) and os.path.exists(DICOMWEB_PLUGIN)
