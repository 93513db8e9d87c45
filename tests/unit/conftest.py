from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineagelog.adapters.fsspec_store import FsspecArtifactStore, InMemoryArtifactStore
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


@pytest.fixture
def memory_store() -> Iterator[InMemoryArtifactStore]:
    """An empty in-memory artifact store, emptied again afterwards."""
    store = InMemoryArtifactStore()
    yield store
    store.clear()


@pytest.fixture
def local_store(tmp_path: Path) -> FsspecArtifactStore:
    """An artifact store in a fresh local folder."""
    return FsspecArtifactStore(str(tmp_path / "store"))


@pytest.fixture(params=["memory", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each kind of artifact store a materializer must work with: in memory, a local folder."""
    if request.param == "memory":
        memory = InMemoryArtifactStore()
        yield memory
        memory.clear()
    else:
        yield FsspecArtifactStore(str(tmp_path / "store"))
