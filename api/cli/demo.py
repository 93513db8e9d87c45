"""``lineagelog demo``."""

from __future__ import annotations

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.config import resolve_settings


@app.command()
def demo(database_url: DatabaseUrl = None, artifact_store: ArtifactStoreUrl = None) -> None:
    """Run an example pipeline twice: the second run is served from cache."""
    from lineagelog.api.demo import run_demo

    run_demo(resolve_settings(database_url, artifact_store))
