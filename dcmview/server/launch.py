"""Run one dcmview server: bind, print where it is, scan in the background, serve, clean up.

Used by the command line (blocking, in the main thread); built so that it can also run in a
background thread for scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import secrets
import signal
import socket
import stat
import sys
import threading
import time
import warnings
import webbrowser
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

from tornado.netutil import bind_sockets

from ..api import Api, ServerInfo
from ..core.annotations import AnnotationStore
from ..core.filters import Filter
from ..core.recovery import RecoveryFile
from ..core.session import (
    EXIT_NO_FILES,
    EXIT_OK,
    EXIT_USAGE,
    ScanCancelled,
    SessionError,
    open_session,
)
from .app import Activity, Routed, make_app, make_server
from .cached import FastFrames
from .guard import Guard, allowed_host_set, loopback_host
from .tunnel import Tunnel, manual_instructions
from .unix_socket import bind_unix

# A fixed DCMVIEW_TOKEN shorter than this is refused: it could be guessed.
MIN_TOKEN_LENGTH = 16
# How long stopping may wait for each part (scan, connections, decodes) once the edits are safe:
# a read blocked on a FIFO or a hung mount must not keep the process alive.
STOP_DEADLINE = 3.0
# The signals that end a session in order: Ctrl+C, kill, and the terminal or SSH session closing.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


# How messages name the edits of each store kind.
_EDITS = {"ROI": "ROI edits", "redaction": "redaction boxes"}


@dataclass
class Options:
    paths: Sequence[str]
    port: int = 0
    host: str = "127.0.0.1"
    browser: bool = True
    timeout: float | None = None
    recursive: bool = True
    filters: Sequence[Filter] = ()
    annotations: str | None = None
    mask: bool = False
    # ``--overlay`` files (NIfTI or DICOM layer objects), SPEC §10.
    overlays: Sequence[str] = ()
    token: bool = True
    unix_socket: str | None = None
    cache_budget: int | None = None
    allow_hosts: Sequence[str] = ()
    tunnel: bool = False
    tunnel_host: str | None = None
    tunnel_port: int = 0
    # The "press Ctrl+C" hint: true for the command line, not for a background handle.
    interactive: bool = True
    # Serve an empty list instead of exiting 1 when nothing usable is found.
    keep_empty: bool = False
    # Read URL inputs (public buckets) without credentials.
    anon: bool = False


# The decoder warm-up waits for this long without a request, or at most the second figure.
_WARM_UP_QUIET = 0.2
_WARM_UP_WAIT_MAX = 5.0


class Server:
    """One running dcmview: its socket, session, router and event loop."""

    def __init__(self, options: Options, out: TextIO | None = None, err: TextIO | None = None):
        self.options = options
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.token = _token(options.token)
        self.session = open_session(
            options.paths,
            annotations=options.annotations,
            filters=options.filters,
            recursive=options.recursive,
            cache_budget=options.cache_budget,
            mask=options.mask,
            anon=options.anon,
            overlays=options.overlays,
        )
        self.info = ServerInfo()
        self.api = Api(self.session, self.info)
        self.activity = Activity()
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dcmview-decode")
        self.guard = Guard(
            token=self.token,
            check_host=self.token is None and options.unix_socket is None,
            allowed_hosts=allowed_host_set(options.allow_hosts),
        )
        self.exit_code = EXIT_OK
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._idle_task: asyncio.Future[None] | None = None
        self.tunnel: Tunnel | None = None
        self._scan_thread: threading.Thread | None = None
        self._stopping = False
        # One recovery file per store of edits (ROIs, redactions), once the scan is done.
        self.recoveries: dict[str, RecoveryFile] = {}
        # Threads still busy (a blocked read) when the stop deadline passed: see ``run``.
        self.stuck: list[str] = []
        self._socket_id: tuple[int, int] | None = None

    # -- addresses ------------------------------------------------------------------------
    def bind(self) -> None:
        """Open the listening socket now, so the URL can be printed before the scan."""
        o = self.options
        if o.unix_socket:
            self.sockets = [bind_unix(o.unix_socket)]
            info = os.stat(o.unix_socket)
            self._socket_id = (info.st_dev, info.st_ino)
            return
        try:
            self.sockets = bind_sockets(o.port, o.host)
        except OSError as exc:
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise SessionError(f"port {o.port} is already in use — try --port 0", 1) from exc
            raise SessionError(f"cannot listen on {o.host}:{o.port}: {exc.strerror}", 1) from exc
        self.port = self.sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        if self.options.unix_socket:
            return f"unix:{self.options.unix_socket}"
        host = self.options.host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    @property
    def url(self) -> str:
        """The viewer URL, with the token in the fragment (never sent to any server)."""
        return self.base_url + self._fragment

    @property
    def _fragment(self) -> str:
        return f"#token={self.token}" if self.token else ""

    @property
    def proxy_url(self) -> str | None:
        """The path to this server through JupyterHub's jupyter-server-proxy, when inside one."""
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
        if not prefix or self.options.unix_socket or not self.port:
            return None
        if importlib.util.find_spec("jupyter_server_proxy") is None:
            return None
        return f"{prefix.rstrip('/')}/proxy/{self.port}/{self._fragment}"

    # -- running --------------------------------------------------------------------------
    def run(self) -> int:
        """Serve until Ctrl+C, SIGTERM, the idle timeout or a fatal scan result; the exit code."""
        # Real-world files trip many pydicom value warnings; they are reported per file instead.
        warnings.filterwarnings("ignore", module=r"pydicom(\..*)?")
        asyncio.run(self._main())
        if self.stuck and threading.current_thread() is threading.main_thread():
            # A decode thread blocked in a read (a FIFO, a hung mount) would keep Python from
            # exiting; the edits are saved and the sockets closed, so leave without it.
            self._say(f"stopped; a blocked read was abandoned ({', '.join(self.stuck)})", err=True)
            with contextlib.suppress(OSError, ValueError):
                self.out.flush()
                self.err.flush()
            os._exit(self.exit_code)
        return self.exit_code

    def stop(self, exit_code: int | None = None) -> None:
        """Ask the server to stop (from any thread)."""
        if exit_code is not None:
            self.exit_code = exit_code
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        routed = Routed()
        app = make_app(self.api, self.guard, self.activity, executor=self.executor, routed=routed)
        frames = FastFrames(app, self.api, self.guard, self.activity, routed)
        http = make_server(frames)
        self.session.warm_up()
        if not self.sockets:
            self.bind()
        http.add_sockets(self.sockets)
        self._install_signals()
        self._announce()
        scan = self._scan_thread = threading.Thread(
            target=self._scan, name="dcmview-scan", daemon=True
        )
        scan.start()
        if self.options.tunnel and self.options.tunnel_host:
            threading.Thread(target=self._start_tunnel, name="dcmview-tunnel", daemon=True).start()
        if self.options.timeout:
            self._idle_task = asyncio.ensure_future(self._idle_watch(self.options.timeout))
        self.ready.set()
        try:
            await self._stop.wait()
        finally:
            self._stopping = True
            # The edits first: nothing below (a decode stuck on a FIFO, a hung mount) may
            # stand between them and the disk.
            try:
                self._save_recovery()
            except Exception as exc:  # the stop goes on; say what happened to the edits
                self._say(f"could not save unexported ROI edits: {exc!r}", err=True)
            self.session.cancel()
            http.stop()
            self._remove_socket_file()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(http.close_all_connections(), timeout=STOP_DEADLINE)
            # On this thread, so no handler runs again: a cancelled decode is not an error.
            self.stuck = self._stop_threads()
            for recovery in self.recoveries.values():  # a PUT still running when we stopped
                with contextlib.suppress(Exception):
                    recovery.sync()

    def _stop_threads(self) -> list[str]:
        """Stop the scan and the decode threads, then the tunnel and the session's workers,
        each part given until its deadline; the names of the threads still running after it."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        threads = list(getattr(self.executor, "_threads", ()))
        if self._scan_thread is not None:
            threads.append(self._scan_thread)
        # Decodes in flight finish before their workers stop, so none of them fails.
        _join_all(threads, time.monotonic() + STOP_DEADLINE)
        helper = threading.Thread(target=self._stop_helpers, name="dcmview-stop", daemon=True)
        helper.start()
        _join_all([helper], time.monotonic() + STOP_DEADLINE)
        return [t.name for t in (*threads, helper) if t.is_alive()]

    def _stop_helpers(self) -> None:
        if self.tunnel is not None:
            self.tunnel.stop()
        self.session.close()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            if sig == getattr(signal, "SIGHUP", None) and signal.getsignal(sig) == signal.SIG_IGN:
                continue  # nohup: the user asked to outlive the terminal
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop, EXIT_OK)

    async def _idle_watch(self, timeout: float) -> None:
        while True:
            if self._scan_thread is not None and self._scan_thread.is_alive():
                self.activity.touch()  # idle time counts from the end of the scan
            idle = time.monotonic() - self.activity.last
            if idle >= timeout:
                self._say(f"no requests for {timeout:g} s: stopping (--timeout)")
                self.stop(EXIT_OK)
                return
            await asyncio.sleep(min(1.0, max(0.05, timeout - idle)))

    def _scan(self) -> None:
        progress = _Progress(self.err) if _is_tty(self.err) else None
        try:
            self.session.scan(progress=progress)
        except ScanCancelled:
            return
        except SessionError as exc:
            self.session.scan_error = str(exc)
            if progress:
                progress.clear()
            self._say(str(exc), err=True)
            self.stop(exc.exit_code)
            return
        except Exception as exc:  # never leave the server half-alive without saying why
            self.session.scan_error = f"{type(exc).__name__}: {exc}"
            self._say(f"the scan failed: {self.session.scan_error}", err=True)
            self.stop(EXIT_NO_FILES)
            return
        if progress:
            progress.clear()
        if self._stopping:  # stopped while the scan ran: its executor is shut down
            return
        # The decode threads start with their first task: ~1 ms of a cold first frame
        # (more on a loaded machine), paid here instead, once, where nobody waits for it.
        with contextlib.suppress(RuntimeError):  # the server stopped just now
            for _ in range(2):  # two, as the viewer asks for a frame and its neighbour
                self.executor.submit(time.sleep, 0.01)
        self._start_workers()
        self._watch_edits()
        if self.session.first_frames_need_pydicom():
            # ready for those frames before saying so (the file list is served already)
            self.session.warm_up_decoders()
            self._report_scan()
        else:
            self._report_scan()
            self._warm_up_decoders_when_idle()

    def _warm_up_decoders_when_idle(self) -> None:
        """Load the decoders (pydicom) in a quiet moment, for the tag trees: its ~0.25 s
        import would slow a frame asked for meanwhile (the thread holds the GIL), so it waits
        until no request came for a moment, or at most a few seconds; a request that needs
        them first loads them itself (the import lock makes the two one)."""
        deadline = time.monotonic() + _WARM_UP_WAIT_MAX
        while not self._stopping and time.monotonic() < deadline:
            if time.monotonic() - self.activity.last >= _WARM_UP_QUIET:
                break
            time.sleep(_WARM_UP_QUIET / 4)
        if not self._stopping:
            self.session.warm_up_decoders()

    def _start_workers(self) -> None:
        """Start the decode worker processes now when a loaded file will need them: started by
        the first compressed frame, their ~0.5 s start (two interpreters importing decoders)
        took the CPU from that frame and the next ones (100 sequential JPEG-LS frames on
        2 cores: ~75 frames/s against ~120 with the workers ready)."""
        from ..core import decoding  # imported by the scan already

        if any(decoding.wanted(record) for record in self.session.files):
            decoding.POOL.start()

    def _stores(self) -> list[AnnotationStore]:
        s = self.session
        return [store for store in (s.store, s.redactions) if store is not None]

    def _watch_edits(self) -> None:
        """Keep unexported edits in a recovery file from now on (a kill -9 loses seconds)."""
        if self._stopping:
            return
        for store in self._stores():
            recovery = self.recoveries[store.kind.name] = self._recovery_file(store)
            store.subscribe(recovery.changed)
            if store.dirty:
                recovery.changed()

    def _recovery_file(self, store: AnnotationStore) -> RecoveryFile:
        what = _EDITS[store.kind.name]
        return RecoveryFile(
            store.recovery_bytes,
            announce=lambda path: self._say(
                f"unexported {what} were saved to {os.fspath(path)}", err=True
            ),
            warn=lambda failures: self._say(
                f"warning: no folder takes the recovery file of your {what}"
                f" ({'; '.join(failures)}); export them, or they are printed here when"
                " dcmview stops",
                err=True,
            ),
            stem=store.kind.recovery_stem,
        )

    def _start_tunnel(self) -> None:
        o = self.options
        assert o.tunnel_host is not None
        tunnel = Tunnel(o.tunnel_host, o.tunnel_port, self.port)
        self.tunnel = tunnel
        if tunnel.start():
            self.info.tunnelled = True
            self.info.tunnel_host = o.tunnel_host
            rp = tunnel.remote_port
            self._say(
                f"tunnel up: port {rp} on {o.tunnel_host} now reaches this server; on your "
                f"computer run: ssh -L {rp}:localhost:{rp} {o.tunnel_host}  then open "
                f"http://localhost:{rp}/{self._fragment}"
            )
            # This thread stays with ssh: its parent-death signal is tied to the spawning thread.
            code = tunnel.wait()
            if not self._stopping:
                self.info.tunnelled = False
                self._say(f"warning: the SSH tunnel closed (ssh exit code {code})", err=True)
            return
        self._say(f"warning: --tunnel failed ({tunnel.failure}); still serving", err=True)
        for line in manual_instructions(o.tunnel_host, tunnel.remote_port, self.port):
            self._say(f"  {line}", err=True)

    def _report_scan(self) -> None:
        s = self.session
        n = len(s.files)
        reasons = Counter(e.reason for e in s.discovery if e.disposition == "skipped")
        detail = ", ".join(f"{count} {reason}" for reason, count in reasons.most_common(4))
        skipped = f" ({s.skipped} skipped: {detail})" if s.skipped else ""
        filtered = f", {s.filtered} filtered out" if s.filtered else ""
        if n == 0:
            why = "no file matched the filters" if s.filtered else "no usable DICOM file found"
            self._say(f"{why} in {', '.join(self.options.paths)}{filtered}{skipped}", err=True)
            if not self.options.keep_empty:
                self.stop(EXIT_NO_FILES)
            return
        self._say(f"loaded {n} DICOM file(s) from {s.scanned} scanned{filtered}{skipped}")
        if s.layer_store is not None:  # layers were found and read
            from ..core.layers.loading import report_lines  # Pillow: only when there are some

            for line in report_lines(s.layer_store.listing()):
                self._say(line, err=line.startswith("layer not drawn"))
        if self.options.browser and not self.options.unix_socket:
            threading.Thread(target=self._open_browser, name="dcmview-browser", daemon=True).start()

    def _open_browser(self) -> None:
        try:
            opened = webbrowser.open(self.url)
        except Exception:  # a broken browser registration is no reason to stop serving
            opened = False
        if not opened:
            self._say(
                f"no web browser could be opened here; open {self.url} yourself "
                "(on a remote machine, see the ssh -L line above; --no-browser skips this)",
                err=True,
            )

    def _announce(self) -> None:
        o = self.options
        self._say(f"server running at {self.url}")
        if self.proxy_url:
            self._say(f"in JupyterHub, open {self.proxy_url} on your hub")
        if o.unix_socket:
            return
        if not loopback_host(o.host):
            self._say(
                f"warning: listening on {o.host}, reachable from other machines; "
                "prefer the default 127.0.0.1 with SSH forwarding",
                err=True,
            )
        if self.token is None:
            self._say(
                "warning: --no-token: anyone who can reach this port can read the data", err=True
            )
        p = self.port
        self._say(
            f"remote? on your computer run: ssh -L {p}:localhost:{p} "
            f"{_user()}@{socket.gethostname()}"
            f"  then open http://localhost:{p}/{self._fragment}"
        )
        if o.interactive:
            self._say("press Ctrl+C to stop")

    def _save_recovery(self) -> None:
        """Write unexported edits now; when no folder takes them, print them to stderr."""
        for store in self._stores():
            recovery = self.recoveries.get(store.kind.name)
            if recovery is None:  # stopped before the watch began (it starts after the scan)
                recovery = self._recovery_file(store)
            if recovery.final() is not None or not store.dirty:
                continue
            data = store.recovery_bytes()
            if data is None:
                continue
            self._say(
                f"could not save unexported {_EDITS[store.kind.name]} to a file ("
                + "; ".join(recovery.failures)
                + "); here they are as CSV, between the marker lines:",
                err=True,
            )
            self._say(f"----- begin {store.kind.recovery_stem}.csv -----", err=True)
            _write_bytes(self.err, data)
            self._say(f"----- end {store.kind.recovery_stem}.csv -----", err=True)

    def _remove_socket_file(self) -> None:
        """Remove our socket file, and only ours (never one another process put there)."""
        path = self.options.unix_socket
        if not path or self._socket_id is None:
            return
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if stat.S_ISSOCK(info.st_mode) and (info.st_dev, info.st_ino) == self._socket_id:
                os.unlink(path)

    def _say(self, text: str, err: bool = False) -> None:
        stream = self.err if err else self.out
        # The terminal may be gone (SIGHUP after an SSH session closed): the work that
        # follows, such as saving edits, must not fail for a message nobody can read.
        line = f"dcmview: {text}"
        with contextlib.suppress(OSError, ValueError):
            try:
                print(line, file=stream, flush=True)
            except UnicodeEncodeError:  # a path that is not UTF-8, on a strict stream
                safe = line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                print(safe, file=stream, flush=True)


class _Progress:
    """A single updating ``scanning...`` line on a terminal, at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = 0.0

    def __call__(self, scanned: int, loaded: int, listed: int | None = None) -> None:
        now = time.monotonic()
        if now - self.shown < 0.1:
            return
        self.shown = now
        if listed is not None:  # URL inputs are listed before their headers are read
            self.stream.write(f"\rdcmview: listing... {listed} object(s) found\x1b[K")
        else:
            self.stream.write(f"\rdcmview: scanning... {scanned} file(s) read, {loaded} DICOM")
        self.stream.flush()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _token(enabled: bool) -> str | None:
    if not enabled:
        return None
    fixed = os.environ.get("DCMVIEW_TOKEN", "").strip()
    if fixed and len(fixed) < MIN_TOKEN_LENGTH:
        raise SessionError(
            f"DCMVIEW_TOKEN is {len(fixed)} characters; use at least {MIN_TOKEN_LENGTH}"
            " (or unset it for a random token)",
            EXIT_USAGE,
        )
    return fixed or secrets.token_urlsafe(32)


def _join_all(threads: Sequence[threading.Thread], deadline: float) -> None:
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def _write_bytes(stream: TextIO, data: bytes) -> None:
    """Write CSV bytes (paths may not be UTF-8) to a text stream, through its byte buffer."""
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "surrogateescape"))
            stream.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return "user"
