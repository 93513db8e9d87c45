"""FastAPI's OpenAPI page (``/docs``), served from the vendored Swagger UI: no CDN.

FastAPI's default page loads Swagger UI from a CDN; this one loads the copy
vendored from npm (``static/vendor``, with its license), so the page works
offline like the explorer. Its one inline script (FastAPI's call to
``SwaggerUIBundle``) is allowed by its hash, nothing else inline runs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING

from fastapi.openapi.docs import get_swagger_ui_html

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

__all__ = ["DOCS_PATH", "add_docs_page"]

DOCS_PATH = "/docs"
"""Where the OpenAPI page is served."""

_VENDOR = "/static/vendor"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def add_docs_page(app: FastAPI) -> None:
    """Serve the OpenAPI page at ``/docs`` with the vendored Swagger UI and a strict CSP."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} — API",
        swagger_js_url=f"{_VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{_VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{_VENDOR}/swagger-ui-favicon-32x32.png",
    )
    page.headers["Content-Security-Policy"] = docs_csp(page)

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return page


def docs_csp(page: HTMLResponse) -> str:
    """The page's Content-Security-Policy: its own origin, plus its inline scripts by hash."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page.body)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; "
        "object-src 'none'"
    )
