"""The lineage server: a JSON API and a web page over the same queries as the Client.

Needs the ``server`` extra (``pip install 'lineagelog[server]'``): FastAPI and
uvicorn. ``lineagelog serve`` runs it; ``create_app`` builds it for embedding.
"""

from __future__ import annotations

from lineagelog.api.server.app import create_app
from lineagelog.api.server.security import Access

__all__ = ["Access", "create_app"]
