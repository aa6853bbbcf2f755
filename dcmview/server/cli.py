"""The ``dcmview`` command: parse arguments, then run a :class:`~dcmview.server.launch.Server`.

Exit codes: 0 on Ctrl+C, SIGTERM or idle timeout; 1 when nothing usable was found or the port
cannot be opened; 2 for bad arguments (including an invalid annotations CSV).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

from .. import __version__
from ..core.filters import FILTER_ALIASES, Filter, parse_filter
from ..core.session import SessionError
from .launch import Options, Server

EXAMPLES = (
    """\
examples:
  dcmview --demo                                  open the bundled demo study
  dcmview scan.dcm                                one file
  dcmview study_dir                               a folder, recursively
  dcmview --no-browser --port 8888 study_dir      on a remote server; then on your computer:
                                                  ssh -L 8888:localhost:8888 user@server
  dcmview --filter modality=MR --filter patient_id=1234 archive_dir
  dcmview --annotations rois.csv study_dir        load EMBED-style ROIs (never written back)
  dcmview --mask study_dir                        hide patient identifiers (screen sharing)
  dcmview --overlay mask.nii.gz ct_dir            draw a NIfTI mask (or SEG, RT Dose) over a series
  dcmview --timeout 600 study_dir                 exit after 10 idle minutes
  dcmview --anon s3://bucket/prefix/              a public bucket, read where it lives
  dcmview dicomweb+https://host/dicom-web/studies/1.2.3   a study on a DICOMweb server

filter fields: """
    + ", ".join(FILTER_ALIASES)
    + """, or any DICOM keyword.
For research inspection only, not for clinical diagnosis.
"""
)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
}


def parse_size(text: str) -> int:
    """``512MiB``, ``1g``, ``2000000`` -> bytes (ValueError when unreadable)."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"invalid size {text!r}: use a number with an optional unit, e.g. 512MiB")
    number, unit = float(m.group(1)), (m.group(2) or "").lower()
    if unit not in _UNITS:
        raise ValueError(f"invalid size unit in {text!r}: use B, KiB, MiB, GiB, KB, MB or GB")
    return int(number * _UNITS[unit])


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid port {text!r}: a number from 0 to 65535"
        ) from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value}: a number from 0 to 65535")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: more than 0 seconds")
    return value


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _filter(text: str) -> Filter:
    try:
        return parse_filter(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dcmview",
        description="A fast, temporary DICOM viewer in your browser. Point it at DICOM files or "
        "folders; stop it and nothing is left behind. Input files are never modified.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="DICOM files or folders, or URLs (s3://, gs://, https://, dicomweb+https://)",
    )
    p.add_argument(
        "-p", "--port", type=_port, default=0, help="port to listen on (0 = pick a free one)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="exit after this many seconds without requests",
    )
    p.add_argument("--no-recursive", action="store_true", help="read only the top level of folders")
    p.add_argument(
        "--filter",
        dest="filters",
        action="append",
        type=_filter,
        default=[],
        metavar="FIELD=VALUE",
        help="keep files whose FIELD contains VALUE (case-insensitive; repeat to AND)",
    )
    p.add_argument("--annotations", metavar="CSV", help="load EMBED-style ROI annotations")
    p.add_argument(
        "--mask",
        action="store_true",
        help="replace patient identifiers in everything shown (display only, not"
        " de-identification; --filter still matches the real values)",
    )
    p.add_argument(
        "--overlay",
        dest="overlays",
        action="append",
        default=[],
        metavar="PATH",
        help="draw this NIfTI or DICOM SEG/RTSTRUCT/RT Dose/Parametric Map file over the "
        "images it lies on (repeatable)",
    )
    p.add_argument(
        "--no-token",
        action="store_true",
        help="serve the API without a token (loopback Host names only)",
    )
    p.add_argument("--unix-socket", metavar="PATH", help="listen on a Unix socket (mode 0600)")
    p.add_argument(
        "--cache-budget",
        type=_size,
        metavar="BYTES",
        help="memory for frame caches, e.g. 512MiB (default 640MiB)",
    )
    p.add_argument(
        "--allow-host",
        dest="allow_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="with --no-token, also accept this Host name (repeatable)",
    )
    p.add_argument(
        "--tunnel",
        action="store_true",
        help="open an SSH reverse tunnel to --tunnel-host (for compute nodes)",
    )
    p.add_argument("--tunnel-host", metavar="HOST", help="SSH destination for --tunnel")
    p.add_argument(
        "--tunnel-port",
        type=_port,
        default=0,
        metavar="PORT",
        help="port on the tunnel host (0 = the server's port)",
    )
    p.add_argument(
        "--keep-empty",
        action="store_true",
        help="keep serving when no DICOM file is found (the JupyterLab launcher)",
    )
    p.add_argument(
        "--anon",
        action="store_true",
        help="read s3:// and gs:// URLs without credentials (public buckets)",
    )
    p.add_argument("--demo", action="store_true", help="open a generated demo study")
    p.add_argument("-V", "--version", action="version", version=f"dcmview {__version__}")
    return p


def options_from_args(argv: Sequence[str] | None = None) -> Options:
    """Parse the command line into :class:`Options` (exits 2 with a message when invalid)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.tunnel and not args.tunnel_host:
        parser.error("--tunnel needs --tunnel-host HOST (the SSH login host to forward through)")
    if args.tunnel_host is not None and args.tunnel_host.startswith("-"):
        parser.error(f"invalid --tunnel-host {args.tunnel_host!r}: it may not start with '-'")
    if args.unix_socket and args.port:
        parser.error("--unix-socket and --port cannot be used together")
    paths = list(args.paths)
    annotations = args.annotations
    if args.demo:
        from ..demo import demo_study

        demo = demo_study(progress=lambda m: print(f"dcmview: {m}", file=sys.stderr, flush=True))
        paths.extend(str(folder) for folder in demo.inputs)
        annotations = annotations or str(demo.annotations)
        args.overlays.extend(str(path) for path in demo.overlays)
    if not paths:
        parser.error("give at least one DICOM file or folder (or --demo)")
    for overlay in args.overlays:
        if not os.path.isfile(overlay):
            parser.error(f"--overlay {overlay}: no such file")
    return Options(
        paths=paths,
        port=args.port,
        host=args.host,
        browser=not args.no_browser,
        timeout=args.timeout,
        recursive=not args.no_recursive,
        filters=args.filters,
        annotations=annotations,
        mask=args.mask,
        overlays=list(args.overlays),
        token=not args.no_token,
        unix_socket=args.unix_socket,
        cache_budget=args.cache_budget,
        allow_hosts=args.allow_hosts,
        tunnel=args.tunnel,
        tunnel_host=args.tunnel_host,
        tunnel_port=args.tunnel_port,
        keep_empty=args.keep_empty,
        anon=args.anon,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dcmview`` and ``python -m dcmview``."""
    options = options_from_args(argv)
    try:
        server = Server(options)
        server.bind()
    except SessionError as exc:
        print(f"dcmview: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        return server.run()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
