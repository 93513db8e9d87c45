from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lineagelog.api.config import configure
from lineagelog.api.context import close_contexts


@pytest.fixture
def sqlite_stores(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real SQLite file and a real artifact folder, configured as the default."""
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"
    artifact_store = str(tmp_path / "artifacts")
    configure(database_url=database_url, artifact_store=artifact_store)
    yield database_url, artifact_store
    close_contexts()
    configure()
