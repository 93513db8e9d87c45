"""The server's gate: credentials on the way in, security headers on the way out.

A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` runs every request in a task group and copies every
response through a memory stream, which cost more than a whole small lineage
answer. This one only looks at the request's headers and edits the response's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.responses import RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection

from lineagelog.api.server.docs_page import DOCS_PATH
from lineagelog.api.server.problems import problem
from lineagelog.api.server.security import APP_CSP, COOKIE, PUBLIC_PATHS, PUBLIC_PREFIXES

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from lineagelog.api.server.security import Access

__all__ = ["Guard", "secure"]


class Guard:
    """Refuse requests without the server's token; give every response its security headers."""

    def __init__(self, app: ASGIApp, rules: Access) -> None:
        """Guard ``app`` with ``rules`` (the token, if any)."""
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass an allowed HTTP request on, or answer 401 (or the sign-in page) for it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message), path)
            await send(message)

        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        refusal = None if public else self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send_secured)
        else:
            await refusal(scope, receive, send_secured)

    def _refusal(self, scope: Scope) -> Response | None:
        connection = HTTPConnection(scope)
        authorization = connection.headers.get("authorization")
        if self.rules.allows(authorization, connection.cookies.get(COOKIE)):
            return None
        if scope["method"] == "GET" and scope["path"] == "/":
            return RedirectResponse("/login", status_code=303)
        response = problem(
            401, "Unauthorized", "this server needs its token: send Authorization: Bearer TOKEN"
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response


def secure(headers: MutableHeaders, path: str) -> None:
    """Add the security headers a response from ``path`` carries."""
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if path == DOCS_PATH:  # its own CSP: the vendored Swagger UI and its one inline script
        headers["X-Frame-Options"] = "DENY"
        return
    if "content-security-policy" in headers:  # a sandboxed visualization, framed by the app
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return
    headers["Content-Security-Policy"] = APP_CSP
    headers["X-Frame-Options"] = "DENY"
