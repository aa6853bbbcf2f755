"""The door of the server: who may come in (Host, token, Origin) and what every answer carries.

One guard and one header table serve every entrance: the Tornado handlers (API, page, assets,
not found), the cached-frame fast path below them (:mod:`.cached`) and Tornado's own answers to
malformed requests (:mod:`.app`).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.errors import DcmviewError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'self'; base-uri 'self'; object-src 'none'"
)
_COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
# The security headers of SPEC §7, by kind of answer: data (API answers and errors) is never
# stored; the page and its assets are revalidated; the page alone carries the CSP.
HEADERS: dict[str, dict[str, str]] = {
    "data": {**_COMMON, "Cache-Control": "no-store"},
    "asset": {**_COMMON, "Cache-Control": "no-cache"},
    "page": {**_COMMON, "Cache-Control": "no-cache", "Content-Security-Policy": PAGE_CSP},
}
# name, name:port, [v6 address], [v6 address]:port — anything else is not a Host we accept.
_HOST = re.compile(r"^(?:\[([0-9a-f:.]+)\]|([^\s:\[\]/@,]+))(?::\d{1,5})?$")


class Unauthorized(DcmviewError):
    code = "unauthorized"
    status = 401


class Forbidden(DcmviewError):
    code = "forbidden"
    status = 403


def hostname(host_header: str) -> str | None:
    """The host name of a ``Host`` (or an Origin's netloc) in lower case without the port and
    a trailing dot; None when the value is malformed. The one Host parser of the server."""
    m = _HOST.fullmatch(host_header.strip().lower())
    if m is None:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2).rstrip(".")


def loopback_host(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_host_set(names: Iterable[str]) -> set[str]:
    """``--allow-host`` values as host names (malformed ones match nothing)."""
    return {h for h in (hostname(n) for n in names) if h}


@dataclass
class Guard:
    """Who may talk to the server: the token, and the Host allow-list used without one."""

    token: str | None
    check_host: bool = False
    allowed_hosts: set[str] = field(default_factory=set)

    def refusal(
        self, host: str, authorization: str = "", token_header: str = "", *, data: bool
    ) -> DcmviewError | None:
        """Why a request may not pass, or None: the Host first, then (for ``data``, every API
        path but health) the token."""
        if not self.host_allowed(host):
            return Forbidden("this Host is not allowed; use a loopback address or --allow-host")
        if data and not self.token_ok(authorization, token_header):
            return Unauthorized("a valid token is required: open the URL printed by dcmview")
        return None

    def host_allowed(self, host_header: str) -> bool:
        if not self.check_host:
            return True
        host = hostname(host_header)
        return host is not None and (host in self.allowed_hosts or loopback_host(host))

    def token_ok(self, authorization: str, token_header: str = "") -> bool:
        """``Authorization: Bearer <token>``, or the same token in ``X-Dcmview-Token``.

        The viewer page uses the second: behind JupyterHub's proxy an ``Authorization`` header
        is read by the hub itself, which would look up our token as a hub token on every request.
        """
        if self.token is None:
            return True
        value = token_header.strip()
        if not value:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer":
                return False
        return hmac.compare_digest(value.strip().encode(), self.token.encode())


def same_origin(host: str, origin: str | None, fetch_site: str | None) -> bool:
    """True when a state-changing request comes from our own page (or from no page at all)."""
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    if origin is None:
        return True
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return False
    return rest.lower() == host.strip().lower() and hostname(rest) is not None
