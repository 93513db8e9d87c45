"""The lineage server's app: routers, access checks, security headers, the web page.

``create_app`` wires a FastAPI app around a ``Client``; ``lineagelog serve``
runs it under uvicorn. The server is a driving adapter like the CLI: it asks
the Client and the query objects, and holds no SQL of its own.
"""

from __future__ import annotations

import asyncio
import html
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lineagelog.api.server.docs_page import add_docs_page
from lineagelog.api.server.guard import Guard
from lineagelog.api.server.problems import Answered, install_problem_handlers
from lineagelog.api.server.routers import ROUTERS
from lineagelog.api.server.security import COOKIE, Access

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from lineagelog.api.client import Client

__all__ = ["create_app"]

_STATIC = files("lineagelog.api.server") / "static"


class _Server(FastAPI):
    """FastAPI, with fast lanes: a request a lane takes skips FastAPI's stack.

    A router module may name ``LANES``: ``{(method, path): ASGI app}`` for an
    endpoint called many times a second (OpenLineage posts). The lane serves that
    exact method and path behind the same Guard (token, security headers) and with
    the same JSON errors, without FastAPI's error, telemetry and exception
    middleware, exit stack and router, which cost about a tenth of such a request.
    """

    def __init__(self, **options: Any) -> None:
        """FastAPI(**options), with no lane yet."""
        super().__init__(**options)
        self.lanes: dict[tuple[str, str], ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a lane's request in its lane, anything else through FastAPI."""
        if scope["type"] == "http" and not self.root_path:
            lane = self.lanes.get((scope["method"], scope["path"]))
            if lane is not None:
                scope["app"] = self  # as Starlette sets it: request.app reaches the state
                await lane(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(client: Client, access: Access | None = None) -> FastAPI:
    """The lineage server for ``client``'s stores, with ``access``'s token and write rules."""
    rules = access or Access()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.stopping = asyncio.Event()
        yield
        app.state.stopping.set()

    app = _Server(
        title="lineagelog",
        summary="Runs, artifacts, cache decisions and lineage, now or as of any moment.",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # served by add_docs_page from the vendored Swagger UI, not a CDN
        redoc_url=None,  # ReDoc would load from a CDN; /docs and /openapi.json remain
    )
    app.state.client = client
    app.state.access = rules
    app.state.stopping = asyncio.Event()
    install_problem_handlers(app)
    for name in ROUTERS:
        module = importlib.import_module(f"lineagelog.api.server.routers.{name}")
        app.include_router(module.router)
        for route, endpoint in getattr(module, "LANES", {}).items():
            app.lanes[route] = Guard(Answered(endpoint), rules)
    _add_page(app, rules)
    add_docs_page(app)
    app.add_middleware(Guard, rules=rules)
    return app


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
