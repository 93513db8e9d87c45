"""Appending without waiting (``EventStore.at_once``), as the server's event loop appends.

A real SQLite file whose write lock another connection takes, as another process
would; a real PostgreSQL database, which is never appended to this way.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid

from lineagelog.adapters.openlineage.ingest import append_at_once, append_received, receive_event
from lineagelog.api.context import LineageContext, open_context


def _received(job: str = "load"):
    return receive_event(
        json.dumps(
            {
                "eventType": "COMPLETE",
                "eventTime": "2026-05-01T10:00:00Z",
                "producer": "https://example.com/producer",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                "run": {"runId": str(uuid.uuid4())},
                "job": {"namespace": "airflow", "name": job},
            }
        )
    )


@contextlib.contextmanager
def _write_lock_held(context: LineageContext):
    path = context.events.location.url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield other
        finally:
            other.execute("ROLLBACK")


def test_a_new_event_is_appended_at_once_and_a_repeat_is_left_to_the_lookup(sqlite_stores):
    context = open_context()
    received = _received()

    first = append_at_once(context.repository, received)
    again = append_at_once(context.repository, received)  # its stream exists: needs a lookup
    confirmed = append_received(context.repository, received)

    assert first is not None and (first.accepted, first.positions) == (1, (1,))
    assert again is None
    assert (confirmed.accepted, confirmed.duplicates) == (0, 1)
    assert context.events.max_position() == 1


def test_while_another_writer_holds_the_lock_nothing_waits_and_nothing_is_appended(
    sqlite_stores,
):
    context = open_context()

    with _write_lock_held(context):
        started = time.perf_counter()
        refused = append_at_once(context.repository, _received())
        took = time.perf_counter() - started

    assert refused is None
    assert took < 1.0  # not the 30 s lock timeout
    assert context.events.max_position() == 0


def test_after_a_refusal_an_ordinary_append_still_waits_for_the_lock(sqlite_stores):
    context = open_context()
    held = 0.5
    path = context.events.location.url.removeprefix("sqlite:///")
    with contextlib.closing(
        sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    ) as other:
        other.execute("BEGIN IMMEDIATE")
        assert append_at_once(context.repository, _received("first")) is None
        started = time.perf_counter()
        releaser = threading.Timer(held, lambda: other.execute("COMMIT"))
        releaser.start()
        waited = append_received(context.repository, _received("second"))
        took = time.perf_counter() - started
        releaser.join()

    assert waited.accepted == 1
    assert took >= held * 0.9  # it waited for the lock (its busy timeout was given back)
    assert context.events.max_position() == 1


def test_a_server_database_is_never_appended_to_at_once(any_stores):
    context = open_context()
    if context.events.location.backend == "sqlite":
        assert append_at_once(context.repository, _received()) is not None
        return

    assert append_at_once(context.repository, _received()) is None
    assert context.events.max_position() == 0
    assert append_received(context.repository, _received()).accepted == 1


def test_an_in_memory_log_is_never_appended_to_at_once(tmp_path):
    context = open_context("memory://", str(tmp_path / "a"))

    assert append_at_once(context.repository, _received()) is None
    assert context.events.max_position() == 0
