"""dcmview: a fast, temporary DICOM viewer for research work, from a shell, a script or Jupyter.

``dcmview.view(paths)`` serves files in the browser viewer (``block=False`` for a handle);
``dcmview.Viewer(paths)`` shows the same viewer as a notebook cell output.
For research inspection only, never for clinical diagnosis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["ViewHandle", "Viewer", "__version__", "view"]

if TYPE_CHECKING:
    from .server.handle import ViewHandle, view
    from .widget import Viewer


def __getattr__(name: str) -> Any:
    # Imported on first use: `import dcmview` stays cheap, and the CLI pays only for what it uses.
    if name in ("view", "ViewHandle"):
        from .server import handle

        return getattr(handle, name)
    if name == "Viewer":
        from .widget import Viewer

        return Viewer
    raise AttributeError(f"module 'dcmview' has no attribute {name!r}")
