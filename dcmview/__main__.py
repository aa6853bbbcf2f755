"""``python -m dcmview``: the same command as ``dcmview``."""

import sys

from .server.cli import main

sys.exit(main())
