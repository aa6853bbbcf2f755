"""The two non-HTTP doors of the API, with the same calls as the HTTP test client.

The contract tests run through all three: the real server over HTTP (:class:`DcmviewProcess`),
the notebook widget's message pump (:class:`WidgetClient`: requests in as widget messages,
answers out as messages with binary parts, exactly as the front end receives them) and the
router itself (:class:`RouterClient`: ``Api.handle``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from dcmview.api import Api, ApiRequest

from .harness import ApiClient, Reply


class Captured:
    """Collects what a widget sends, as the front end would receive it."""

    def __init__(self, viewer: Any) -> None:
        self.messages: list[tuple[dict, list[bytes]]] = []
        self.event = threading.Event()
        viewer.send = self.send

    def send(self, content: dict, buffers: list[Any] | None = None) -> None:
        self.messages.append((content, [bytes(b) for b in buffers or []]))
        self.event.set()

    def answer(
        self,
        viewer: Any,
        path: str,
        *,
        method: str = "GET",
        body: str | None = None,
        headers: dict[str, str] | None = None,
        request_id: int = 1,
    ) -> tuple[int, dict, bytes]:
        """Send one request message and wait for every part of its answer."""
        self.messages.clear()
        viewer._on_message(
            viewer,
            {
                "type": "dcmview:request",
                "id": request_id,
                "method": method,
                "path": path,
                "body": body,
                "headers": headers or {},
            },
            [],
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = [m for m, _ in self.messages if m["id"] == request_id]
            if done and len(done) == done[0]["parts"]:
                break
            time.sleep(0.01)
        parts = sorted(
            (m for m in self.messages if m[0]["id"] == request_id), key=lambda m: m[0]["part"]
        )
        assert parts, "no answer"
        head = parts[0][0]
        return head["status"], head["headers"], b"".join(p[1][0] for p in parts)


class WidgetClient(ApiClient):
    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer
        self.captured = Captured(viewer)
        self._ids = iter(range(1, 1 << 30))

    def request(self, method, path, body=None, headers=None, token=True) -> Reply:
        status, answer_headers, data = self.captured.answer(
            self.viewer,
            path,
            method=method,
            body=body.decode("utf-8") if body is not None else None,
            headers=headers,
            request_id=next(self._ids),
        )
        return Reply(status, {k.lower(): v for k, v in answer_headers.items()}, data)


class RouterClient(ApiClient):
    def __init__(self, api: Api) -> None:
        self.api = api

    def request(self, method, path, body=None, headers=None, token=True) -> Reply:
        from urllib.parse import parse_qsl

        path, _, query = path.partition("?")
        response = self.api.handle(
            ApiRequest(
                method=method,
                path=path,
                query=dict(parse_qsl(query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in (headers or {}).items()},
                body=body or b"",
            )
        )
        return Reply(
            response.status, {k.lower(): v for k, v in response.headers.items()}, response.body
        )


DOORS = ("http", "widget", "router")


@contextlib.contextmanager
def door(kind: str, paths: list[str]) -> Iterator[ApiClient]:
    """The API over ``paths`` through one door (``DOORS``), each with a session of its own."""
    import dcmview
    from dcmview.core.session import open_session

    from .harness import DcmviewProcess

    if kind == "http":
        with DcmviewProcess("--port", "0", *paths) as proc:
            proc.wait_scan()
            yield proc
    elif kind == "widget":
        yield WidgetClient(dcmview.Viewer(paths))
    else:
        session = open_session(paths)
        session.scan()
        yield RouterClient(Api(session))
