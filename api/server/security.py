"""Who may use the lineage server: loopback by default, a bearer token beyond it.

With a token, every route but ``/healthz`` (and the sign-in page) needs
``Authorization: Bearer TOKEN``, compared in constant time. A browser signs in
once on ``/login``; the server answers with an HttpOnly, SameSite=Strict cookie
holding a digest of the token, checked the same way (a page's scripts never see
it, and sandboxed visualizations run in an opaque origin without cookies).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from lineagelog.domain.errors import UnprotectedServerError

__all__ = [
    "APP_CSP",
    "COOKIE",
    "PUBLIC_PATHS",
    "PUBLIC_PREFIXES",
    "VISUALIZATION_CSP",
    "Access",
    "check_binding",
    "is_loopback",
]

COOKIE = "lineagelog_session"
"""The cookie a signed-in browser sends instead of the bearer header."""

PUBLIC_PATHS = frozenset({"/healthz", "/login", "/static/app.css"})
"""Routes that answer without credentials (the sign-in page and its style sheet)."""

PUBLIC_PREFIXES = ("/openlineage/facets/",)
"""Route prefixes that answer without credentials: the facet schemas a ``_schemaURL`` names."""

APP_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
"""The app's own Content-Security-Policy: nothing from elsewhere, no inline script."""

VISUALIZATION_CSP = (
    "sandbox allow-scripts; default-src 'none'; img-src data:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'self'"
)
"""An artifact's visualization: its own opaque origin, no network, no app, no storage."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token.

    Raises:
        UnprotectedServerError: ``host`` is not a loopback address and there is no token.

    """
    if token is None and not is_loopback(host):
        raise UnprotectedServerError(
            f"--host {host!r} is reachable from other machines, and the server has no "
            "token; pass --token TOKEN (or set LINEAGELOG_SERVER_TOKEN), or bind 127.0.0.1"
        )
    if token is not None and len(token) < 16:
        raise UnprotectedServerError(
            f"the server token is {len(token)} characters long; use at least 16 "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`)"
        )


@dataclass(frozen=True)
class Access:
    """The server's access rules: an optional token, and whether writes are allowed."""

    token: str | None = None
    allow_writes: bool = False

    @property
    def session_value(self) -> str:
        """What the sign-in cookie holds: a digest of the token, never the token."""
        assert self.token is not None
        return hashlib.sha256(b"lineagelog-session:" + self.token.encode()).hexdigest()

    def allows(self, authorization: str | None, cookie: str | None) -> bool:
        """Whether a request with these credentials may pass (always, without a token)."""
        if self.token is None:
            return True
        if authorization is not None:
            scheme, _, given = authorization.partition(" ")
            if scheme.lower() == "bearer":
                return hmac.compare_digest(given.strip().encode(), self.token.encode())
        if cookie is not None:
            return hmac.compare_digest(cookie.encode(), self.session_value.encode())
        return False

    def signs_in(self, given: str) -> bool:
        """Whether ``given`` is the token (constant time)."""
        return self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())
