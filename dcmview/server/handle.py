"""``dcmview.view()``: the server from Python, blocking or as a handle that runs in a thread.

The server always runs in its own thread with its own event loop, so ``view()`` works the same
from a plain script and from inside a running asyncio loop (a Jupyter kernel).
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.inputs import FiltersArg, PathsArg, filter_list, path_list
from ..core.session import SessionError
from .launch import Options, Server

if TYPE_CHECKING:
    from ..core.layers.python_api import Colors, LayerRef

_LIVE: weakref.WeakSet[ViewHandle] = weakref.WeakSet()


class ViewHandle:
    """A running dcmview server started by :func:`view` with ``block=False``.

    ``url`` (with the token fragment), ``token``, ``port`` and ``proxy_url`` (the path through
    JupyterHub's proxy, when running inside one) describe where it is; ``stop()`` ends it,
    ``wait()`` blocks until it ends. Use it as a context manager to stop it on exit.
    """

    def __init__(self, server: Server) -> None:
        self._server = server
        self._thread = threading.Thread(target=self._run, name="dcmview-server", daemon=True)
        self._exit_code: int | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._exit_code = self._server.run()
        except BaseException as exc:  # reported by wait()
            self._error = exc
            self._exit_code = 1
        finally:
            self._server.ready.set()

    def _start(self) -> None:
        self._thread.start()
        self._server.ready.wait(30)
        if self._error is not None:
            raise self._error
        _LIVE.add(self)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def token(self) -> str | None:
        return self._server.token

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def proxy_url(self) -> str | None:
        return self._server.proxy_url

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10) -> None:
        """Stop the server and wait for its thread (saving unexported edits as on Ctrl+C)."""
        self._server.stop()
        self._thread.join(timeout)
        _LIVE.discard(self)

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until the server stops (idle timeout or :meth:`stop`); its exit code."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            return None
        _LIVE.discard(self)
        return self._exit_code

    def wait_ready(self, timeout: float | None = 60) -> bool:
        """Wait until the files are read (the server answers at once, the scan runs behind it);
        True when they are, False when ``timeout`` seconds passed or the scan failed."""
        return self._server.session.wait_scan(timeout)

    def series(self, timeout: float = 30) -> list[dict[str, Any]]:
        """The series and their stacks, as ``/api/series`` lists them.

        Waits up to ``timeout`` seconds for the scan first (see :meth:`wait_ready`).
        """
        self._ready(timeout)
        return self._server.session.series_list()

    def annotations(self, timeout: float = 30) -> dict[str, dict[str, Any]]:
        """Current in-memory ROIs: ``{file path: {"num_roi", "roi_coords", "roi_frames"}}``.

        Waits up to ``timeout`` seconds for the scan first (see :meth:`wait_ready`).
        """
        self._ready(timeout)
        return self._server.session.annotations_by_path()

    def redactions(self, timeout: float = 30) -> dict[str, dict[str, Any]]:
        """Current redaction boxes: ``{file path: {"num_roi", "roi_coords", "roi_frames"}}``
        (every frame list is ``[]``: a box covers all frames).

        Waits up to ``timeout`` seconds for the scan first (see :meth:`wait_ready`).
        """
        self._ready(timeout)
        return self._server.session.redactions_by_path()

    def export_csv(self, path: str | os.PathLike[str], timeout: float = 30) -> Path:
        """Write the ROIs as an EMBED CSV to ``path`` (counts as an export: no recovery file).

        Waits up to ``timeout`` seconds for the scan first (see :meth:`wait_ready`).
        """
        self._ready(timeout)
        return self._server.session.write_export(path)

    def add_layer(
        self,
        data: Any,
        name: str | None = None,
        on: int | str | None = None,
        opacity: float = 0.5,
        colors: Colors = None,
        timeout: float = 30,
    ) -> LayerRef:
        """Draw ``data`` over the images, as :meth:`dcmview.Viewer.add_layer` does; with
        ``on=None`` an array goes on the one stack of its shape. Open pages pick it up within
        a few seconds. Waits up to ``timeout`` seconds for the scan first.
        """
        self._ready(timeout)
        from ..core.layers.python_api import add_layer

        store = self._server.session.layers()
        return add_layer(store, data, name=name, on=on, opacity=opacity, colors=colors)

    @property
    def layers(self) -> list[LayerRef]:
        """Every layer of the session (an empty list while the scan runs)."""
        from ..core.layers.python_api import LayerRef

        store = self._server.session.ready_layers()
        return [] if store is None else [LayerRef(store, layer) for layer in store.layers()]

    def _ready(self, timeout: float) -> None:
        session = self._server.session
        if session.wait_scan(timeout):
            return
        if session.scan_error:
            raise RuntimeError(f"dcmview could not read the files: {session.scan_error}")
        if not self.running:
            raise RuntimeError("this dcmview server has stopped before its files were read")
        raise TimeoutError(
            f"the files are still being read after {timeout:g} s: wait with "
            "handle.wait_ready(timeout=...) or pass a longer timeout"
        )

    def __enter__(self) -> ViewHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<dcmview {state} at {self._server.base_url}>"


def view(
    paths: PathsArg,
    *,
    browser: bool = True,
    block: bool = True,
    timeout: float | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    annotations: str | os.PathLike[str] | None = None,
    filters: FiltersArg = None,
    recursive: bool = True,
    token: bool = True,
    mask: bool = False,
    anon: bool = False,
    overlays: Sequence[str | os.PathLike[str]] = (),
) -> ViewHandle | int:
    """Serve DICOM files or folders in the browser viewer.

    ``block=True`` (the default) returns the exit code when the server stops (Ctrl+C or the
    idle ``timeout``); ``block=False`` returns a :class:`ViewHandle` at once. ``filters`` is a
    ``{field: value}`` mapping or ``"FIELD=VALUE"`` strings, as ``--filter`` on the command line;
    ``overlays`` are files drawn over the images, as ``--overlay``.
    ``mask=True`` replaces patient identifiers in everything the viewer shows (``--mask``).
    Paths may be URLs (``s3://``, ``gs://``, ``https://``, ``dicomweb+https://``; SPEC §11);
    ``anon=True`` reads public buckets without credentials.
    Raises ``ValueError`` for bad arguments or an invalid annotations CSV, ``OSError`` when the
    port cannot be opened.
    """
    options = Options(
        paths=path_list(paths),
        port=port,
        host=host,
        browser=browser,
        timeout=timeout,
        recursive=recursive,
        filters=filter_list(filters),
        annotations=os.fspath(annotations) if annotations is not None else None,
        mask=mask,
        overlays=[os.fspath(p) for p in overlays],
        token=token,
        interactive=block,
        anon=anon,
    )
    try:
        server = Server(options)
        server.bind()
    except SessionError as exc:
        raise (ValueError if exc.exit_code == 2 else OSError)(str(exc)) from None
    handle = ViewHandle(server)
    handle._start()
    if not block:
        return handle
    try:
        code = handle.wait()
    except KeyboardInterrupt:
        handle.stop()
        code = 0
    return code if code is not None else 0


@atexit.register
def _stop_live_handles() -> None:
    for handle in list(_LIVE):
        handle.stop(timeout=5)
