"""``dcmview.Viewer``: the viewer as a notebook cell output (anywidget).

The widget runs the same viewer bundle as the server page. Its requests arrive as custom widget
messages and are answered by the same API router (:mod:`dcmview.api`); response bodies travel as
binary buffers, split into parts of at most :data:`MAX_PART_BYTES`. Pixel data, files and tag
trees never go through traitlets, so a saved notebook stays small. Only small view state is
synced both ways: which file, which frame, the window and the tool. The message protocol is
documented once, beside its JS side: ``js/src/transport/widget.ts``.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .api import Api, ApiRequest, ApiResponse, json_response
from .core.inputs import FiltersArg, PathsArg, filter_list, path_list
from .core.layers.python_api import Colors, LayerRef, add_layer
from .core.session import open_session

STATIC = Path(__file__).resolve().parent / "static"
# Every widget message stays under 4 MB (JSON part included); larger bodies go in parts.
MAX_PART_BYTES = 4 * 1024 * 1024 - 64 * 1024
_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dcmview-widget")


class Viewer(anywidget.AnyWidget):
    """Show DICOM files or folders in a notebook cell.

    >>> viewer = dcmview.Viewer(["study_dir"], annotations="rois.csv")
    >>> viewer                      # the viewer appears as the cell's output
    >>> viewer.frame = 10           # move it from Python; using it updates the traits
    >>> viewer.annotations          # {"/abs/file.dcm": {"num_roi", "roi_coords", "roi_frames"}}
    >>> viewer.redactions           # the redaction boxes, in the same shape

    ``mask=True`` replaces patient identifiers in everything the viewer shows (display only).
    """

    _esm = STATIC / "viewer.js"
    _css = STATIC / "viewer.css"

    file_index = traitlets.Int(0).tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)
    window_center = traitlets.Float(None, allow_none=True).tag(sync=True)
    window_width = traitlets.Float(None, allow_none=True).tag(sync=True)
    tool = traitlets.Unicode("wl").tag(sync=True)
    height = traitlets.Int(600).tag(sync=True)
    # Bumped when ROIs change from Python, so that open views reload them.
    annotations_version = traitlets.Int(0).tag(sync=True)
    # Bumped when layers are added, removed or restyled, so that open views list them again
    # (the layers' data travel as messages, like frames).
    layers_version = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        paths: PathsArg,
        *,
        annotations: str | os.PathLike[str] | None = None,
        filters: FiltersArg = None,
        recursive: bool = True,
        height: int = 600,
        cache_budget: int | None = None,
        mask: bool = False,
        anon: bool = False,
        overlays: Sequence[str | os.PathLike[str]] = (),
        **kwargs: Any,
    ) -> None:
        # A SessionError (a ValueError) says what is wrong with the inputs.
        self._session = open_session(
            path_list(paths),
            annotations=annotations,
            filters=filter_list(filters),
            recursive=recursive,
            cache_budget=cache_budget,
            mask=mask,
            anon=anon,
            overlays=[os.fspath(p) for p in overlays],
        )
        self._session.scan()
        # what the first frames and tag trees need (in a notebook, pydicom is often loaded)
        self._session.warm_up()
        self._session.warm_up_decoders()
        self._api = Api(self._session)
        self._inflight: dict[int, Future[None]] = {}
        self._lock = threading.Lock()
        super().__init__(height=height, **kwargs)
        self.on_msg(self._on_message)
        self._session.layers().on_change(self._layers_changed)
        problem = server_environment_problem()
        if problem is not None:
            warnings.warn(problem, stacklevel=2)

    # -- Python access to the work ---------------------------------------------------------
    @property
    def files(self) -> list[dict[str, Any]]:
        """The loaded files, as ``/api/files`` lists them."""
        return [self._session.summary(i) for i in range(len(self._session.files))]

    @property
    def series(self) -> list[dict[str, Any]]:
        """The series and their stacks, as ``/api/series`` lists them."""
        return self._session.series_list()

    @property
    def annotations(self) -> dict[str, dict[str, Any]]:
        """Current ROIs of every file that has some: ``{path: {"num_roi", "roi_coords",
        "roi_frames"}}`` (live: reflects edits made in the viewer)."""
        return self._session.annotations_by_path()

    @property
    def redactions(self) -> dict[str, dict[str, Any]]:
        """Current redaction boxes of every file that has some: ``{path: {"num_roi",
        "roi_coords", "roi_frames"}}`` (live; each frame list is ``[]``: all frames)."""
        return self._session.redactions_by_path()

    def set_annotations(self, rois: Mapping[str | int, Mapping[str, Any]]) -> None:
        """Replace the ROIs of some files: ``{path or index: {"roi_coords": [...], ...}}``.

        Every entry is validated before any is applied; an invalid one raises ValueError and
        changes nothing.
        """
        self._session.set_annotations(rois)
        self.annotations_version += 1

    def export_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write every ROI as an EMBED CSV to ``path``; returns the path written."""
        return self._session.write_export(path)

    def add_layer(
        self,
        data: Any,
        name: str | None = None,
        on: int | str | None = None,
        opacity: float = 0.5,
        colors: Colors = None,
    ) -> LayerRef:
        """Draw ``data`` over the images: a numpy array (2-D for one image, 3-D ``(frames,
        rows, columns)`` for a stack, of its exact shape), a nibabel image or a path (NIfTI,
        DICOM SEG, RTSTRUCT, RT Dose, Parametric Map). ``on`` is a file index or stack id (by
        default the stack shown); ``colors`` maps label values to ``"#rrggbb"``, or names a
        colour map (``"hot"``, ``"viridis"``, ``"gray"``) for float data. Returns the layer
        (``.remove()``, ``.opacity``, ``.visible``); ValueError says why data cannot be drawn.
        """
        return add_layer(
            self._session.layers(),
            data,
            name=name,
            on=on,
            default_file=self.file_index if on is None else None,
            opacity=opacity,
            colors=colors,
        )

    @property
    def layers(self) -> list[LayerRef]:
        """Every layer: found among the inputs, given by ``overlays=`` or added from Python."""
        store = self._session.layers()
        return [LayerRef(store, layer) for layer in store.layers()]

    def _layers_changed(self) -> None:
        self.layers_version += 1

    def close(self) -> None:
        """Close the widget and end its session (the decode workers stop with the last one)."""
        self._session.close()
        super().close()

    def __repr__(self) -> str:
        n = len(self._session.files)
        return f"dcmview.Viewer({n} DICOM file(s)) — a notebook widget: show it as a cell's output"

    # -- the message pump ------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "dcmview:cancel":
            with self._lock:
                future = self._inflight.pop(_int(content.get("id")), None)
            if future is not None:
                future.cancel()
            return
        if kind == "dcmview:request":
            self._start(content)
        elif kind == "dcmview:requests":
            # Several requests in one message: every message to the kernel makes it publish
            # "busy" and "idle", which the notebook page processes too.
            requests = content.get("requests")
            for request in requests if isinstance(requests, list) else ():
                if isinstance(request, dict):
                    self._start(request)

    def _start(self, content: dict[str, Any]) -> None:
        request_id = _int(content.get("id"))
        future = _EXECUTOR.submit(self._answer, request_id, content)
        with self._lock:
            self._inflight[request_id] = future
        future.add_done_callback(lambda _f: self._forget(request_id))

    def _forget(self, request_id: int) -> None:
        with self._lock:
            self._inflight.pop(request_id, None)

    def _answer(self, request_id: int, content: dict[str, Any]) -> None:
        try:
            response = self._api.handle(request_from_message(content))
        except Exception as exc:  # the router turns known errors into responses already
            response = json_response(
                {"code": "error", "error": f"{type(exc).__name__}: {exc}"}, status=500
            )
        for message, parts in response_messages(request_id, response):
            self.send(message, buffers=parts)


def server_environment_problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """What to install where, when this kernel's Jupyter server runs from another Python
    environment that lacks anywidget or dcmview (common on hubs); None when it does not, or
    when that cannot be told (the server's interpreter is read from /proc, on Linux).

    Without anywidget there the cell shows "No version of module anywidget is registered";
    without dcmview there the launcher and ``/dcmview/`` are missing.
    """
    pid = environ.get("JPY_PARENT_PID", "")  # set by jupyter_client for the kernels it starts
    if not pid.isdigit():
        return None
    try:
        server_python = os.path.realpath(f"/proc/{pid}/exe")
    except OSError:
        return None
    prefix = Path(server_python).parent.parent
    if not Path(server_python).name.startswith("python") or prefix == Path(sys.prefix).resolve():
        return None
    missing = [name for name in ("anywidget", "dcmview") if not _installed(prefix, name)]
    if not missing:
        return None
    return (
        f"the Jupyter server runs from another Python environment ({prefix}), which has no "
        f"{' and no '.join(missing)}: the viewer cannot be shown there. Install dcmview in that "
        f"environment too: {server_python} -m pip install dcmview"
    )


def _installed(prefix: Path, name: str) -> bool:
    lib = prefix / "lib"
    return any(lib.glob(f"python3*/*-packages/{name}")) or any(
        lib.glob(f"python3*/*-packages/{name}-*.dist-info")
    )


def request_from_message(content: Mapping[str, Any]) -> ApiRequest:
    """An :class:`ApiRequest` from the viewer's message (path may carry a ``?query``)."""
    from urllib.parse import parse_qsl

    raw_path = str(content.get("path") or "")
    path, _, query = raw_path.partition("?")
    headers = content.get("headers") or {}
    body = content.get("body")
    return ApiRequest(
        method=str(content.get("method") or "GET").upper(),
        path=path,
        query=dict(parse_qsl(query, keep_blank_values=True)),
        headers={str(k).lower(): str(v) for k, v in dict(headers).items()},
        body=body.encode("utf-8") if isinstance(body, str) else b"",
    )


def response_messages(
    request_id: int, response: ApiResponse
) -> list[tuple[dict[str, Any], list[bytes]]]:
    """The messages answering one request: the body split into parts of MAX_PART_BYTES."""
    body = response.body
    count = max(1, -(-len(body) // MAX_PART_BYTES))
    out = []
    for part in range(count):
        chunk = body[part * MAX_PART_BYTES : (part + 1) * MAX_PART_BYTES]
        message: dict[str, Any] = {
            "type": "dcmview:response",
            "id": request_id,
            "status": response.status,
            "part": part,
            "parts": count,
        }
        if part == 0:
            message["headers"] = response.headers
        out.append((message, [chunk]))
    return out


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
