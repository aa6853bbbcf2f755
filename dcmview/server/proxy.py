"""The ``jupyter_serverproxy_servers`` entry point: dcmview inside JupyterLab/JupyterHub.

jupyter-server-proxy starts dcmview on a private Unix socket (mode 0600) and puts it behind the
Jupyter server's own login at ``<base_url>dcmview/``; no port is opened. Jupyter's
authentication guards the socket, so the API token is off for this launcher. The folder served
is ``$DCMVIEW_ROOT``, else the Jupyter server's working directory.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_ARGS = ("--no-browser", "--no-token", "--keep-empty", "--unix-socket", "{unix_socket}")
ICON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "icons", "dcmview.svg")


def setup_dcmview() -> dict[str, Any]:
    """The server-process description jupyter-server-proxy reads (see its documentation)."""
    root = os.environ.get("DCMVIEW_ROOT") or os.getcwd()
    return {
        "command": [sys.executable, "-m", "dcmview", *_ARGS, root],
        "unix_socket": True,
        "timeout": 60,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": "dcmview", "icon_path": ICON},
    }
