"""lineagelog never harms a database that is not its own.

Pointed at another application's database (a SQLite file, PostgreSQL's public
schema), it creates nothing there and drops nothing, not even on
``projections rebuild``; a database of the previous lineagelog (unprefixed
tables) is renamed to the prefixed names, its history kept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli import run_cli, store_options
from trust_pipelines import small

from lineagelog.api import Client
from lineagelog.api.context import close_contexts
from lineagelog.domain.errors import ConfigurationError
from lineagelog.projections import schema as t

FOREIGN_RUNS = [(1, "nightly import", "done"), (2, "weekly report", "failed")]


def _foreign_sqlite_app(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT, state TEXT)")
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO runs VALUES (?, ?, ?)", FOREIGN_RUNS)
        conn.execute("INSERT INTO users VALUES (1, 'ada')")
    conn.close()


def _sqlite_tables(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def _close_contexts() -> Any:
    yield
    close_contexts()


def test_a_foreign_sqlite_database_is_refused_and_left_byte_for_byte_as_it_was(tmp_path):
    app_db = tmp_path / "app.db"
    _foreign_sqlite_app(app_db)
    before = app_db.read_bytes()
    url = f"sqlite:///{app_db}"

    with pytest.raises(ConfigurationError, match=r"runs, users.*\?schema=") as refused:
        small.run(database_url=url, artifact_store=str(tmp_path / "artifacts"))
    rebuild = run_cli("projections", "rebuild", *store_options(url, str(tmp_path / "artifacts")))

    assert "new SQLite" in str(refused.value)
    assert rebuild.returncode != 0
    assert "not lineagelog's" in rebuild.stderr + rebuild.stdout
    assert "Traceback" not in rebuild.stderr
    assert app_db.read_bytes() == before
    assert _sqlite_tables(app_db) == ["runs", "users"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]  # no WAL, no artifacts


@pytest.mark.postgres
def test_a_foreign_postgres_schema_is_refused_and_its_runs_table_survives(postgres_url, tmp_path):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT, state TEXT)")
        for row in FOREIGN_RUNS:
            conn.execute("INSERT INTO runs VALUES (%s, %s, %s)", row)
    artifacts = str(tmp_path / "artifacts")

    with pytest.raises(ConfigurationError, match=r"\?schema=lineagelog"):
        small.run(database_url=postgres_url, artifact_store=artifacts)
    rebuild = run_cli("projections", "rebuild", *store_options(postgres_url, artifacts))

    assert rebuild.returncode != 0
    assert "not lineagelog's" in rebuild.stderr + rebuild.stdout
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        rows = conn.execute("SELECT * FROM runs ORDER BY id").fetchall()
    assert tables == [("runs",)]
    assert rows == FOREIGN_RUNS


@pytest.mark.postgres
def test_postgres_with_a_schema_of_its_own_works_beside_a_foreign_public_schema(
    postgres_url, tmp_path
):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT, state TEXT)")
    url = postgres_url + "?schema=lineagelog"

    run = small.run(database_url=url, artifact_store=str(tmp_path / "artifacts"))

    assert run.status == "completed"
    with psycopg.connect(postgres_url) as conn:
        public = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert public == [("runs",)]


def test_rebuild_drops_only_lineagelogs_own_tables_beside_a_table_added_later(tmp_path):
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    artifacts = str(tmp_path / "artifacts")
    small.run(database_url=url, artifact_store=artifacts)
    close_contexts()
    with sqlite3.connect(tmp_path / "lineage.db") as conn:  # someone adds a table of theirs
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT)")
        conn.execute("INSERT INTO runs VALUES (7, 'mine')")
    conn.close()

    rebuild = run_cli("projections", "rebuild", *store_options(url, artifacts))

    assert rebuild.returncode == 0, rebuild.stderr
    conn = sqlite3.connect(tmp_path / "lineage.db")
    try:
        assert conn.execute("SELECT * FROM runs").fetchall() == [(7, "mine")]
    finally:
        conn.close()
    assert [r.status for r in Client(url, artifacts).list_runs()] == ["completed"]


def _as_previous_version(path: Path) -> None:
    """Give a lineagelog database the table names lineagelog used before the prefix."""
    conn = sqlite3.connect(path)
    try:
        for old, new in t.LEGACY_NAMES.items():
            conn.execute(f'ALTER TABLE "{new}" RENAME TO "{old}"')
        conn.commit()
    finally:
        conn.close()


def test_a_database_of_the_previous_version_with_events_is_refused_untouched(tmp_path):
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    artifacts = str(tmp_path / "artifacts")
    small.run(database_url=url, artifact_store=artifacts)
    close_contexts()
    _as_previous_version(tmp_path / "lineage.db")
    before = (tmp_path / "lineage.db").read_bytes()

    with pytest.raises(ConfigurationError, match=r"hashed by an older lineagelog"):
        small.run(database_url=url, artifact_store=artifacts)

    assert (tmp_path / "lineage.db").read_bytes() == before


def test_an_empty_database_of_the_previous_version_is_renamed_and_taken_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    artifacts = str(tmp_path / "artifacts")
    Client(url, artifacts)
    close_contexts()
    _as_previous_version(tmp_path / "lineage.db")

    run = small.run(database_url=url, artifact_store=artifacts)

    assert Client(url, artifacts).get_run(run.id).status == "completed"
    tables = set(_sqlite_tables(tmp_path / "lineage.db"))
    assert tables >= t.OWN_TABLES
    assert not tables & set(t.LEGACY_NAMES)


def test_a_previous_version_database_whose_runs_table_is_foreign_is_refused_untouched(tmp_path):
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    artifacts = str(tmp_path / "artifacts")
    small.run(database_url=url, artifact_store=artifacts)
    close_contexts()
    _as_previous_version(tmp_path / "lineage.db")
    with sqlite3.connect(tmp_path / "lineage.db") as conn:  # an old clash: not our columns
        conn.execute("DROP TABLE runs")
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, job TEXT)")
    conn.close()
    before = _sqlite_tables(tmp_path / "lineage.db")

    with pytest.raises(ConfigurationError, match=r"table 'runs' is not lineagelog's"):
        Client(url, artifacts)

    assert _sqlite_tables(tmp_path / "lineage.db") == before
