"""The job table of dcmview's worker processes, and the one pool that runs it.

Jobs are named here as ``"module:function"`` strings, so this table (and the pool) imports
neither discovery nor decoding: both import the pool from here. See :mod:`.pool` for how a
worker runs them and :mod:`.decoding` for which frames go to the workers.
"""

from __future__ import annotations

from .pool import ProcessPool

JOBS = {
    # Decode one frame and describe it (JPEG, JPEG-LS, JPEG 2000: their decoders hold the GIL).
    "frame": "dcmview.core.decoding:raw_entry",
    # Read a chunk of file headers (large folders are scanned by this process and the workers).
    "headers": "dcmview.core.discovery:read_chunk",
}
# pydicom's decoders first: dcmview's frame modules load it only where they use it (an
# uncompressed frame in the server needs none of it), and a worker is for the others.
PRELOAD = (
    "pydicom.encaps",
    "pydicom.pixels",
    "dcmview.core.encapsulated",
    "dcmview.core.frames",
    "dcmview.core.render",
)

# One pool serves the whole process: every Session, every notebook Viewer.
POOL = ProcessPool(__name__)
