"""A rebuild's WAL stays bounded: its commits checkpoint once the WAL holds enough pages.

A real SQLite file; the threshold is lowered so that a small history crosses it many
times, and the same rebuild with checkpoints left to the end shows what it bounds.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

import pytest

from lineagelog.adapters import view_engine
from lineagelog.api import Client, RunFailedError
from lineagelog.api.config import configure

sys.path.insert(0, str(Path(__file__).parent))

from crash_pipelines import crashy


@pytest.fixture
def history(sqlite_stores: tuple[str, str], tmp_path: Path) -> Path:
    db, _ = sqlite_stores
    for i in range(30):
        with contextlib.suppress(RunFailedError):
            crashy.run(n=2 + i % 5, fail=i % 9 == 8, enable_cache=False)
    configure()
    return Path(db.removeprefix("sqlite:///"))


def _wal_after_rebuild(history: Path, copy: Path, checkpoint_pages: int) -> int:
    shutil.copyfile(history, copy)
    view_engine.BULK_CHECKPOINT_PAGES = checkpoint_pages
    client = Client(f"sqlite:///{copy}", str(copy.parent / "artifacts"))
    projector = client.context.projector
    projector.page_size = projector.rebuild_page_size = 8  # a commit every 8 events
    projector.rebuild()
    return Path(f"{copy}-wal").stat().st_size


def test_a_rebuild_checkpoints_its_wal_once_it_holds_enough_pages(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # put back after the test whatever _wal_after_rebuild sets
    monkeypatch.setattr(view_engine, "BULK_CHECKPOINT_PAGES", view_engine.BULK_CHECKPOINT_PAGES)

    bounded = _wal_after_rebuild(history, tmp_path / "bounded.db", 20)
    unbounded = _wal_after_rebuild(history, tmp_path / "unbounded.db", 0)  # only at the end

    assert bounded < unbounded / 3, (bounded, unbounded)
