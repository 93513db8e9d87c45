from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from lineagelog.api.config import configure
from lineagelog.api.context import close_contexts


@pytest.fixture
def memory_stores() -> Iterator[tuple[str, str]]:
    """A throwaway in-memory event store and artifact store, configured as the default."""
    store = f"memory://lineagelog-test-{uuid.uuid4().hex}"
    configure(database_url="memory://", artifact_store=store)
    yield "memory://", store
    close_contexts()
    configure()
    import fsspec

    fs = fsspec.filesystem("memory")
    if fs.exists(store):
        fs.rm(store, recursive=True)
