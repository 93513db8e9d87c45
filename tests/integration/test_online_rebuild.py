"""Online rebuild: views loaded beside the live ones and switched in, writers never stalled.

Real SQLite files, a real child process for the rebuild (SIGKILLed at named
checkpoints), pipelines writing while it runs.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text
from views import view_rows

from lineagelog.api import Client, RunFailedError, add_tags, log_metadata, save_artifact
from lineagelog.api.context import open_context
from lineagelog.projections.online_rebuild import TURN_S
from lineagelog.projections.ports import WRITE_OPTION

sys.path.insert(0, str(Path(__file__).parent))

from crash_pipelines import crashy

WORKER = Path(__file__).with_name("rebuild_worker.py")


def _history(client: Client, db: str, store: str, runs: int) -> None:
    """Runs (some failing, some cached), tags, a deleted version, metadata, a saved version."""
    for i in range(runs):
        with contextlib.suppress(RunFailedError):  # the failing runs are part of it
            crashy.run(
                n=1 + i % 4,
                fail=i % 7 == 6,
                enable_cache=i % 3 == 0,
                database_url=db,
                artifact_store=store,
            )
    latest = client.list_artifact_versions(name="total")[-1]
    client.tag_artifact("total", latest.version, "prod")
    client.tag_artifact("total", latest.version, "best")
    client.untag_artifact("total", latest.version, "best")
    client.delete_artifact_version(
        "source", client.list_artifact_versions(name="source")[0].version
    )
    run = client.list_runs(limit=1)[0]
    add_tags(tags=["reviewed"], run=run.id)
    log_metadata(metadata={"step": 3}, run_id_name_or_prefix=run.id)
    save_artifact([1, 2], "manual", version="v1.0")


def _leftovers(db: str) -> list[str]:
    with open_context(db).engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND (name LIKE '%\\_\\_next' ESCAPE '\\' "
                "OR name LIKE '%\\_\\_old' ESCAPE '\\')"
            )
        )
        return sorted(row[0] for row in names)


def _worker(db: str, store: str, point: str = "-", after: int = 1, repeats: int = 1):
    return subprocess.Popen(
        [sys.executable, str(WORKER), db, store, point, str(after), str(repeats)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_an_online_rebuild_equals_the_incremental_views_and_leaves_no_copies(sqlite_stores):
    db, store = sqlite_stores
    client = Client(db, store)
    _history(client, db, store, runs=12)
    client.context.catch_up()
    maintained = view_rows(client.context)

    count, _ = client.context.projector.rebuild(online=True)
    again, _ = client.context.projector.rebuild(online=True)  # index names alternate

    assert count == again == client.context.events.max_position()
    assert view_rows(client.context) == maintained
    assert _leftovers(db) == []
    assert client.audit().ok


@pytest.mark.parametrize("point, after", [("online_rebuild.page", 2), ("online_rebuild.switch", 1)])
def test_a_rebuild_killed_midway_leaves_the_old_views_usable_and_a_rerun_finishes(
    sqlite_stores, point, after
):
    db, store = sqlite_stores
    client = Client(db, store)
    _history(client, db, store, runs=50)
    client.context.catch_up()
    maintained = view_rows(client.context)
    runs = [r.id for r in client.list_runs()]

    worker = _worker(db, store, point, after)
    worker.communicate(timeout=120)

    assert worker.returncode == -9
    assert [r.id for r in client.list_runs()] == runs  # the old views answer
    assert view_rows(client.context) == maintained
    assert any(name.endswith("__next") for name in _leftovers(db))
    crashy.run(n=2, database_url=db, artifact_store=store)  # writers carry on meanwhile
    client.context.catch_up()
    maintained = view_rows(client.context)
    client.context.projector.rebuild(online=True)
    assert view_rows(client.context) == maintained
    assert _leftovers(db) == []


def test_pipelines_keep_running_while_an_online_rebuild_runs_and_no_writer_waits_long(
    sqlite_stores,
):
    db, store = sqlite_stores
    client = Client(db, store)
    _history(client, db, store, runs=240)  # a rebuild long enough to take turns in
    client.context.catch_up()
    path = db.removeprefix("sqlite:///")
    waits: list[float] = []
    done = threading.Event()

    def probe() -> None:  # a writer that only asks for the write lock, again and again
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            while not done.is_set():
                started = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                waits.append(time.perf_counter() - started)
                conn.execute("ROLLBACK")
                time.sleep(0.01)
        finally:
            conn.close()

    prober = threading.Thread(target=probe)
    prober.start()
    began = time.perf_counter()
    worker = _worker(db, store, repeats=3)
    written = 0
    try:
        while worker.poll() is None:
            run = crashy.run(n=3, enable_cache=False, database_url=db, artifact_store=store)
            assert run.steps["total"].outputs["total"].load() == 5
            assert client.get_run(run.id).status == "completed"  # queries answer meanwhile
            written += 1
        out, _ = worker.communicate()
        rebuilding = time.perf_counter() - began
    finally:
        done.set()
        prober.join()

    assert worker.returncode == 0, out
    assert out.count("rebuilt") == 3
    assert written >= 1, "no pipeline ran while the rebuild did"
    print(f"{len(waits)} lock probes, longest wait {max(waits) * 1000:.0f} ms, {written} runs")
    # Writers take turns with the rebuild: none waits for more than a small part of it.
    # (The 250 ms bound of the issue is a benchmark figure on a quiet machine, see the README.)
    assert max(waits) < rebuilding / 3, (max(waits), rebuilding)
    maintained = view_rows(client.context)
    client.context.projector.rebuild()
    assert view_rows(client.context) == maintained


def test_an_online_rebuild_leaves_the_write_lock_free_between_its_transactions(sqlite_stores):
    db, store = sqlite_stores
    client = Client(db, store)
    _history(client, db, store, runs=30)
    client.context.catch_up()
    engine = client.context.projector.engine
    moments: list[tuple[str, float]] = []

    def began(conn) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            moments.append(("begin", time.perf_counter()))

    def ended(conn) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            moments.append(("end", time.perf_counter()))

    event.listen(engine, "begin", began)
    event.listen(engine, "commit", ended)
    try:
        client.context.projector.create_tables()  # short, and not the rebuild's own
        opening = len(moments) // 2
        client.context.projector.rebuild(online=True)  # opens the views again, then rebuilds
    finally:
        event.remove(engine, "begin", began)
        event.remove(engine, "commit", ended)

    gaps = [
        later - earlier
        for (kind, earlier), (next_kind, later) in itertools.pairwise(moments)
        if (kind, next_kind) == ("end", "begin")
    ][2 * opening :]
    assert len(gaps) >= 5, moments  # copies made, pages loaded, switched, old tables dropped
    assert min(gaps) >= TURN_S, (min(gaps), TURN_S)
