"""Pages decoded ahead in a worker process: the same records, the same views, errors named.

A real SQLite file and a real spawned worker; the size above which the log is
decoded ahead is lowered so that a small history takes that path.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from pathlib import Path

import pytest
from views import view_rows

from lineagelog.adapters import decode_pool
from lineagelog.api import Client, RunFailedError
from lineagelog.domain.errors import StorageError
from lineagelog.projections.ports import EventLog

sys.path.insert(0, str(Path(__file__).parent))

from crash_pipelines import crashy


@pytest.fixture
def client(sqlite_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Client:
    db, store = sqlite_stores
    for i in range(6):
        with contextlib.suppress(RunFailedError):  # a failing run is part of the history
            crashy.run(n=1 + i % 3, fail=i == 4, enable_cache=i % 2 == 0)
    history = Client(db, store)
    history.context.catch_up()
    monkeypatch.setattr(decode_pool, "DECODE_AHEAD_ABOVE", 0)
    return history


def _flat(pages: list[list]) -> list[tuple]:
    return [(r.position, type(r.event).__name__, r.event.__dict__) for p in pages for r in p]


def test_pages_decoded_ahead_hold_what_pages_read_here_hold(client: Client) -> None:
    events = client.context.events
    end = events.max_position()

    ahead = list(events.pages_for_projection(0, end, 7))
    here = list(EventLog.pages_for_projection(events, 0, end, 7))  # the port's: page by page

    assert decode_pool.decodes_ahead(events, 0, end)
    assert len(ahead) > 3 and all(0 < len(page) <= 7 for page in ahead)
    assert _flat(ahead) == _flat(here)
    assert _flat(ahead)[-1][0] == end


def test_a_rebuild_decoded_ahead_equals_the_incremental_views(client: Client) -> None:
    maintained = view_rows(client.context)
    projector = client.context.projector
    projector.page_size = projector.rebuild_page_size = 16  # many pages in flight

    count, _ = projector.rebuild()

    assert count == client.context.events.max_position()
    assert view_rows(client.context) == maintained


def test_an_event_the_worker_cannot_decode_fails_the_rebuild_naming_where(
    client: Client, sqlite_stores: tuple[str, str]
) -> None:
    path = sqlite_stores[0].removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (b'{"broken', 20))

    with pytest.raises(StorageError) as caught:
        client.context.projector.rebuild()

    message = str(caught.value)
    assert "could not decode the event at log position 20 " in message
    assert "lineagelog audit" in message
