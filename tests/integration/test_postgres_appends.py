"""Appends on PostgreSQL: one call of the append function, same ordering, conflicts and NOTIFY."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from lineagelog.adapters.event_store import EventStore
from lineagelog.domain.errors import ConcurrencyConflict
from lineagelog.domain.run import PipelineRun

pytestmark = pytest.mark.postgres


def new_run() -> PipelineRun:
    return PipelineRun.start(
        pipeline="p", run_name=uuid.uuid4().hex, parameters={}, dag={}, environment={}
    )


def test_an_append_waits_for_the_table_lock_so_positions_commit_in_order(
    postgres_url: str,
) -> None:
    store = EventStore(postgres_url)
    try:
        assert store.save(new_run()) == [1]
        with psycopg.connect(postgres_url) as holder:  # a transaction, as another appender's
            # What an insert not yet committed holds: an append that did not take the
            # EXCLUSIVE table lock would not wait for it, and could commit a later
            # position before this transaction commits an earlier one.
            holder.execute("LOCK TABLE stored_events IN ROW EXCLUSIVE MODE")
            saved: list[list[int]] = []
            appender = threading.Thread(target=lambda: saved.append(store.save(new_run())))
            appender.start()
            appender.join(0.5)
            assert appender.is_alive(), "the append did not wait for the table lock"
            holder.commit()
        appender.join(10)
        assert saved == [[2]]
        with psycopg.connect(postgres_url) as conn:
            rows = conn.execute(
                "SELECT notification_id FROM stored_events ORDER BY notification_id"
            ).fetchall()
        assert [r[0] for r in rows] == [1, 2]
    finally:
        store.close()


def test_events_of_one_append_get_consecutive_positions_in_order(postgres_url: str) -> None:
    store = EventStore(postgres_url)
    try:
        runs = [new_run() for _ in range(3)]
        for run in runs:
            run.complete()
        positions = store.save(*runs)
        assert positions == list(range(1, 7))
        read = store.read(0, 10)
        order = [(str(e.event.originator_id), e.event.originator_version) for e in read]
        assert order == [(str(r.id), v) for r in runs for v in (1, 2)]
    finally:
        store.close()


def test_a_stream_version_taken_by_another_writer_is_a_conflict_and_appends_nothing(
    postgres_url: str,
) -> None:
    first, second = EventStore(postgres_url), EventStore(postgres_url)
    try:
        run = new_run()
        first.save(run)
        a, b = first.get(run.id), second.get(run.id)
        a.complete()
        b.fail("s", "boom")
        other = new_run()
        first.save(a)
        with pytest.raises(ConcurrencyConflict, match=str(run.id)):
            second.save(b, other)
        assert second.get(other.id) is None  # the whole append was refused
        assert first.max_position() == 2
    finally:
        first.close()
        second.close()


def test_every_append_notifies_the_listeners(postgres_url: str) -> None:
    store = EventStore(postgres_url)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as listener:
            listener.execute("LISTEN stored_events")
            store.save(new_run())
            notices = list(listener.notifies(timeout=5, stop_after=1))
        assert [n.channel for n in notices] == ["stored_events"]
    finally:
        store.close()
