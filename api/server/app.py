"""The lineage server's app: routers, access checks, security headers, the web page.

``create_app`` wires a FastAPI app around a ``Client``; ``lineagelog serve``
runs it under uvicorn. The server is a driving adapter like the CLI: it asks
the Client and the query objects, and holds no SQL of its own.
"""

from __future__ import annotations

import asyncio
import html
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import TYPE_CHECKING, Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lineagelog.api.server.problems import install_problem_handlers, problem
from lineagelog.api.server.routers import ROUTERS
from lineagelog.api.server.security import (
    APP_CSP,
    COOKIE,
    PUBLIC_PATHS,
    PUBLIC_PREFIXES,
    Access,
)

if TYPE_CHECKING:
    from lineagelog.api.client import Client

__all__ = ["create_app"]

_STATIC = files("lineagelog.api.server") / "static"


def create_app(client: Client, access: Access | None = None) -> FastAPI:
    """The lineage server for ``client``'s stores, with ``access``'s token and write rules."""
    rules = access or Access()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stopping = asyncio.Event()
        yield
        app.state.stopping.set()

    app = FastAPI(
        title="lineagelog",
        summary="Runs, artifacts, cache decisions and lineage, now or as of any moment.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.client = client
    app.state.access = rules
    app.state.stopping = asyncio.Event()
    install_problem_handlers(app)
    for name in ROUTERS:
        module = importlib.import_module(f"lineagelog.api.server.routers.{name}")
        app.include_router(module.router)
    _add_page(app, rules)
    app.middleware("http")(_guard(rules))
    return app


def _guard(
    rules: Access,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        if not public and not rules.allows(
            request.headers.get("authorization"), request.cookies.get(COOKIE)
        ):
            if request.method == "GET" and path == "/":
                return RedirectResponse("/login", status_code=303)
            response: Response = problem(
                401, "Unauthorized", "this server needs its token: send Authorization: Bearer TOKEN"
            )
            response.headers["WWW-Authenticate"] = "Bearer"
        else:
            response = await call_next(request)
        _secure(response, path)
        return response

    return guard


def _secure(response: Response, path: str) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if path in ("/docs", "/redoc"):
        return  # FastAPI's own pages load their scripts from a CDN; they carry no data
    if "content-security-policy" in headers:  # a sandboxed visualization, framed by the app
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return
    headers["Content-Security-Policy"] = APP_CSP
    headers["X-Frame-Options"] = "DENY"


def _add_page(app: FastAPI, rules: Access) -> None:
    app.mount("/static", StaticFiles(directory=str(_STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((_STATIC / "index.html").read_text(encoding="utf-8"))

    @app.get("/login", include_in_schema=False)
    def login_form() -> HTMLResponse:
        return HTMLResponse(_login_page(None))

    @app.post("/login", include_in_schema=False)
    def login(token: Annotated[str, Form(max_length=4096)]) -> Response:
        if not rules.signs_in(token):
            return HTMLResponse(_login_page("That is not this server's token."), status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, rules.session_value, httponly=True, samesite="strict", path="/")
        return response


def _login_page(error: str | None) -> str:
    note = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lineagelog</title>'
        '<link rel="stylesheet" href="/static/app.css"></head><body class="login">'
        '<form method="post" action="/login"><h1>lineagelog</h1>'
        "<p>This server needs its token (<code>lineagelog serve --token</code>).</p>"
        f'{note}<input type="password" name="token" autofocus placeholder="token">'
        '<button type="submit">Sign in</button></form></body></html>'
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lineagelog")
    except PackageNotFoundError:
        return "0"
