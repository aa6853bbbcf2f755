"""What went wrong with a remote read, in words a user can act on (SPEC §11): unreachable,
access denied, not found, timed out. Each protocol library raises its own exception types;
they are recognised here by type name and status, so that none of them is imported for it.
"""

from __future__ import annotations

import asyncio
import socket

# Timeouts of every remote read (SPEC §11): connecting, then waiting for bytes.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0

_TIMEOUT_NAMES = frozenset(
    {
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectTimeout",
        "ReadTimeout",
        "ServerTimeoutError",
        "FSTimeoutError",
        "Timeout",
    }
)
_UNREACHABLE_NAMES = frozenset(
    {
        "EndpointConnectionError",
        "ClientConnectorError",
        "ClientConnectionError",
        "ServerDisconnectedError",
        "ConnectionError",
        "NewConnectionError",
        "MaxRetryError",
        "ClientOSError",
    }
)


def reason(exc: BaseException) -> str:
    """One line saying why a remote read failed (no traceback, no credentials).

    A timeout or a failed connection anywhere in the chain of causes is what is reported:
    some libraries turn them into "not found" (fsspec's HTTP ``info``, for one)."""
    chain = _chain(exc)
    if any(_timed_out(e) for e in chain):
        return "timed out (connect 10 s, read 30 s)"
    unreachable = next((e for e in chain if _unreachable(e)), None)
    if unreachable is not None:
        return f"unreachable: {_short(unreachable)}"
    status = _status(exc)
    if isinstance(exc, PermissionError) or status in (401, 403):
        return "access denied (403): no permission to read it (credentials, or --anon?)"
    if isinstance(exc, FileNotFoundError) or status == 404:
        return "not found (404)"
    if status is not None:
        return f"the server answered HTTP {status}"
    return f"cannot read: {_short(exc)}"


def changed(exc: BaseException) -> bool:
    """True when the read was refused because the object is no longer the version listed
    (HTTP 412 to an If-Match read)."""
    return any(
        _status(e) == 412 or "PreconditionFailed" in str(e) or "Precondition Failed" in str(e)
        for e in _chain(exc)
    )


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 16:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _timed_out(exc: BaseException) -> bool:
    names = _names(exc)
    if "NewConnectionError" in names:  # urllib3 derives it from ConnectTimeoutError
        return False
    timeouts = (TimeoutError, asyncio.TimeoutError, socket.timeout)
    return isinstance(exc, timeouts) or bool(names & _TIMEOUT_NAMES)


def _unreachable(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError) or bool(_names(exc) & _UNREACHABLE_NAMES)


def _status(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (requests, aiohttp, botocore), if any."""
    response = getattr(exc, "response", None)
    for holder in (exc, response):
        for name in ("status_code", "status"):
            value = getattr(holder, name, None)
            if isinstance(value, int):
                return value
    if isinstance(response, dict):  # botocore ClientError
        value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(value, int):
            return value
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(" (Caused by")[0][:160]
