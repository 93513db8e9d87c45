"""The event log and the views on PostgreSQL: schema, versions, errors, the daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from log_checks import append_runs
from sqlalchemy import select, update
from views import view_rows
from waiting import wait_until

from lineagelog.adapters.database_url import parse_database_url
from lineagelog.adapters.event_store import EventStore
from lineagelog.api.client import Client
from lineagelog.api.context import close_contexts, open_context
from lineagelog.domain.errors import ConfigurationError, StorageError
from lineagelog.examples.numbers_pipeline import numbers
from lineagelog.projections import schema as t
from lineagelog.projections.batch import PageBatch

pytestmark = pytest.mark.postgres


def tables_in(url: str, schema: str) -> set[str]:
    with psycopg.connect(url.split("?")[0]) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    return {row[0] for row in rows}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "lineagelog.api.cli", *args]


def follow_daemon(database_url: str, store: str, interval: float) -> subprocess.Popen[str]:
    """Start ``lineagelog projections run --follow`` and wait until it follows the log.

    Its first line comes after it has installed its SIGTERM handler: a test that
    stopped a daemon still importing would see it killed, not stopped.
    """
    daemon = subprocess.Popen(
        cli(
            "projections",
            "run",
            "--follow",
            "--interval",
            str(interval),
            "--database-url",
            database_url,
            "--artifact-store",
            store,
        ),
        env=os.environ.copy(),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert daemon.stderr is not None
    first = daemon.stderr.readline()
    assert "following the log" in first, first + daemon.stderr.read()
    return daemon


def test_a_pipeline_run_on_postgres_keeps_log_and_views_in_the_chosen_schema(
    postgres_url: str, tmp_path: Path
) -> None:
    database_url = postgres_url + "?schema=team_a"

    numbers.run(n=6, database_url=database_url, artifact_store=str(tmp_path / "artifacts"))

    client = Client(database_url, str(tmp_path / "artifacts"))
    assert client.get_artifact_version("evens").load() == [0, 2, 4]
    assert {"stored_events", "lineagelog_runs", "lineagelog_schema"} <= tables_in(
        postgres_url, "team_a"
    )
    assert not tables_in(postgres_url, "public")


def test_postgresql_psycopg_urls_open_the_same_log(postgres_url: str, tmp_path: Path) -> None:
    store = str(tmp_path / "artifacts")
    numbers.run(n=3, database_url=postgres_url, artifact_store=store)
    close_contexts()

    same = postgres_url.replace("postgresql://", "postgresql+psycopg://")

    assert len(Client(same, store).list_runs()) == 1


def test_a_database_written_by_a_newer_version_is_refused_with_the_versions_named(
    postgres_url: str, tmp_path: Path
) -> None:
    context = open_context(postgres_url, str(tmp_path / "a"))
    with context.engine.begin() as conn:
        conn.execute(update(t.schema_info).where(t.schema_info.c.key == "views").values(value="7"))
    close_contexts()

    with pytest.raises(ConfigurationError, match=r"schema version '7'.*upgrade lineagelog"):
        open_context(postgres_url, str(tmp_path / "a"))


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    url = "postgresql://bob:s3cret-pw@127.0.0.1:1/lineage?connect_timeout=2"

    with pytest.raises(StorageError) as caught:
        EventStore(url)

    assert "s3cret-pw" not in str(caught.value)
    assert "bob:***@127.0.0.1:1" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("postgresql://bob:pw@db/lineage?schema=a;drop", "not a plain SQL identifier"),
        ("postgresql://bob:pw@db/lineage?pool=3", "unknown or invalid parameter"),
        ("postgresql://bob:pw@db/", "names no database"),
        ("postgresql+asyncpg://bob:pw@db/x", "not a SQLAlchemy URL lineagelog can use|driver"),
    ],
)
def test_bad_postgres_urls_say_what_is_wrong_and_hide_the_password(
    url: str, complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint) as caught:
        parse_database_url(url)

    assert ":pw@" not in str(caught.value)


def test_the_daemon_follows_the_log_stops_on_sigterm_and_resumes_where_it_stopped(
    postgres_url: str, tmp_path: Path
) -> None:
    database_url = postgres_url + "?schema=lineage"
    store = str(tmp_path / "artifacts")
    context = open_context(database_url, store)  # creates the tables
    daemon = follow_daemon(database_url, store, interval=5)
    try:
        last = append_runs(database_url, 30)
        wait_until(lambda: min(context.projector.positions().values()) >= last, 30, "the daemon")
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert "stopped" in err

    last = append_runs(database_url, 7)
    once = subprocess.run(
        cli("projections", "run", "--database-url", database_url, "--artifact-store", store),
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert "applied 7 events" in once.stderr
    assert min(context.projector.positions().values()) == last
    assert len(Client(_context=context).list_runs()) == 37


def test_two_daemons_at_once_never_apply_an_event_twice(postgres_url: str, tmp_path: Path) -> None:
    database_url = postgres_url
    store = str(tmp_path / "artifacts")
    context = open_context(database_url, store)
    daemons = [follow_daemon(database_url, store, interval=0.05) for _ in range(2)]
    try:
        for _ in range(5):
            last = append_runs(database_url, 40)
        wait_until(lambda: min(context.projector.positions().values()) >= last, 60, "the daemons")
        alive = [d.poll() is None for d in daemons]
    finally:
        for d in daemons:
            d.send_signal(signal.SIGTERM)
        errors = [d.communicate(timeout=30)[1] for d in daemons]

    assert alive == [True, True], errors
    assert [d.returncode for d in daemons] == [0, 0], errors
    assert len(Client(_context=context).list_runs(limit=1000)) == 200
    before = view_rows(context)
    context.projector.rebuild()
    assert view_rows(context) == before


def test_a_fresh_schema_name_per_team_keeps_two_logs_apart(
    postgres_url: str, tmp_path: Path
) -> None:
    store = str(tmp_path / "artifacts")
    numbers.run(n=3, database_url=postgres_url + "?schema=one", artifact_store=store)

    other = Client(postgres_url + f"?schema=t{uuid.uuid4().hex[:8]}", store)

    assert other.list_runs() == []


def test_rows_copied_in_are_the_rows_sqlalchemy_would_insert(
    postgres_url: str, tmp_path: Path
) -> None:
    context = open_context(postgres_url + "?schema=views_copy", str(tmp_path / "artifacts"))
    moment = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    row = {
        "run_id": "r",
        "pipeline": "p",
        "invocation_id": "s",
        "step_name": "s",
        "source_ref": "m:s",
        "code_hash": "0" * 64,
        "parameters": {"lr": 0.1, "tags": ["a", "é"], "nested": {"x": None}},
        "inputs": {},
        "status": "running",
        "started_at": "2026-03-01T09:30:15.123456+00:00",
        "started_pos": 7,
        "ingredients": None,
        "ended_at": moment,
        "duration_s": 1.5,
        "error_message": "tab\tnewline\nbackslash\\ quote'",
    }
    with context.engine.begin() as conn:
        copied = PageBatch(conn)
        copied.insert(t.step_runs, {"id": "copied"} | row)
        copied._copy_inserts()
        core = PageBatch(conn)
        core.insert(t.step_runs, {"id": "core"} | row)
        core._insert_core()
        stored = {
            r.id: {k: v for k, v in r._asdict().items() if k != "id"}
            for r in conn.execute(select(t.step_runs))
        }

    assert stored["copied"] == stored["core"]
    assert stored["copied"]["parameters"] == row["parameters"]
    assert stored["copied"]["started_at"] == moment
    assert stored["copied"]["error_message"] == row["error_message"]


def _listening(url: str) -> bool:
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND (query LIKE 'LISTEN %' OR query = 'SELECT 1') AND pid <> pg_backend_pid()"
        ).fetchone()
    return row is not None and row[0] > 0


def test_the_daemon_outlives_its_connections_being_cut(postgres_url: str, tmp_path: Path) -> None:
    store = str(tmp_path / "artifacts")
    context = open_context(postgres_url, store)
    daemon = follow_daemon(postgres_url, store, interval=0.1)
    try:
        first = append_runs(postgres_url, 3)
        wait_until(lambda: min(context.projector.positions().values()) >= first, 30, "the daemon")
        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as admin:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        wait_until(lambda: _listening(postgres_url), 30, "the daemon to LISTEN again")
        last = append_runs(postgres_url, 4)
        wait_until(lambda: min(context.projector.positions().values()) >= last, 30, "the daemon")
        alive = daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        errors = daemon.communicate(timeout=30)[1]

    assert cut is not None and cut[0] >= 2, "the daemon's LISTEN and pool connections were open"
    assert alive, errors
    assert daemon.returncode == 0, errors
    assert "lost the LISTEN connection" in errors, errors
    assert "listening for new events again" in errors, errors
    assert len(Client(_context=context).list_runs()) == 7


def test_worker_processes_hash_a_postgresql_log_as_this_process_does(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workers open the log without claiming the database again (it is the job's
    # own process that checked it is lineagelog's): their digest must be this one's.
    from lineagelog.adapters import hash_pool
    from lineagelog.adapters.audit import audit_log

    append_runs(postgres_url, 12)
    store = EventStore(postgres_url)
    try:
        alone = audit_log(store, workers=1)
        monkeypatch.setattr(hash_pool, "_PARALLEL_ABOVE", 0)
        monkeypatch.setattr(hash_pool, "_CHUNK", 5)
        shared = audit_log(store, workers=2)
    finally:
        store.close()

    assert shared.digest == alone.digest
    assert shared.problems == alone.problems == []
