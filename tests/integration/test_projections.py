from __future__ import annotations

import gc
import random
import threading
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import pytest
from sqlalchemy import delete, select, text, update

from lineagelog.api import Client, RunFailedError, pipeline, step
from lineagelog.api.context import open_context
from lineagelog.domain.errors import StorageError
from lineagelog.domain.step_run import StepRun
from lineagelog.projections import schema as t
from lineagelog.projections import views
from lineagelog.projections.batch import PageBatch
from lineagelog.projections.projector import SCHEMA_VERSION, Projector


@step
def source(n: int = 3, salt: int = 0) -> Annotated[list[int], "source"]:
    return [salt + i for i in range(n)]


@step
def scale(values: list[int], factor: int = 2) -> Annotated[list[int], "scaled"]:
    if factor < 0:
        raise ValueError("negative factor")
    return [v * factor for v in values]


@step
def summarize(
    values: list[int], extra: list[int]
) -> tuple[Annotated[int, "total"], Annotated[int, "count"]]:
    return sum(values) + sum(extra), len(values)


@pipeline
def random_pipeline(n: int = 3, salt: int = 0, factor: int = 2) -> None:
    values = source(n=n, salt=salt)
    scaled = scale(values, factor=factor)
    summarize(scaled, values)
    scale(scaled, factor=factor + 1)


def snapshot(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    rows = {}
    with engine.connect() as conn:
        for name, tables in t.VIEW_TABLES.items():
            for table in tables:
                rows[f"{name}.{table.name}"] = sorted(
                    (tuple(str(v) for v in row) for row in conn.execute(select(table))), key=repr
                )
    return rows


def random_history(seed: int, runs: int = 12) -> None:
    rng = random.Random(seed)
    client = Client()
    for _ in range(runs):
        factor = rng.choice([-1, 2, 2, 3])
        try:
            run = random_pipeline(n=rng.randint(1, 4), salt=rng.choice([0, 0, 1]), factor=factor)
        except RunFailedError:
            continue
        if rng.random() < 0.4:
            version = run.steps["source"].outputs["source"].version
            client.tag_artifact("source", version, rng.choice(["prod", "staging"]))
        if rng.random() < 0.2:
            versions = client.list_artifact_versions("source")
            tagged = [v for v in versions if v.tags]
            if tagged:
                v = rng.choice(tagged)
                client.untag_artifact("source", v.version, v.tags[0])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuilt_views_equal_the_incrementally_maintained_ones(sqlite_stores, seed):
    random_history(seed)
    context = open_context()
    context.catch_up()
    incremental = snapshot(context.engine)

    count, _ = context.projector.rebuild()

    assert count == context.events.max_position()
    assert snapshot(context.engine) == incremental
    assert incremental["runs.lineagelog_runs"], "the history produced no runs"


def test_a_failing_page_leaves_rows_and_position_untouched_and_catch_up_resumes(
    sqlite_stores, monkeypatch
):
    random_history(seed=4, runs=4)
    context = open_context()
    context.catch_up()
    expected = snapshot(context.engine)
    # Start the views again from nothing, then crash half-way through a page.
    with context.engine.begin() as conn:
        for tables in t.VIEW_TABLES.values():
            for table in tables:
                conn.execute(table.delete())
        conn.execute(t.tracking.update().values(position=0))
    projector = Projector(context.engine, context.events, page_size=7)
    calls = {"n": 0}
    original = views.HANDLERS["catalog"][StepRun.ArtifactWritten]

    def crash_on_fifth(batch: Any, position: int, event: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("simulated crash while applying")
        original(batch, position, event)

    monkeypatch.setitem(views.HANDLERS["catalog"], StepRun.ArtifactWritten, crash_on_fifth)
    with pytest.raises(RuntimeError, match="simulated crash"):
        projector.catch_up()
    stopped_at = projector.positions()
    partial = snapshot(context.engine)

    monkeypatch.setitem(views.HANDLERS["catalog"], StepRun.ArtifactWritten, original)
    projector.catch_up()

    assert 0 < min(stopped_at.values()) < context.events.max_position()
    assert all(len(partial[k]) <= len(expected[k]) for k in expected)
    assert snapshot(context.engine) == expected


def test_two_projectors_at_once_never_apply_an_event_twice(sqlite_stores):
    random_history(seed=5, runs=6)
    context = open_context()
    context.catch_up()
    expected = snapshot(context.engine)
    with context.engine.begin() as conn:
        for tables in t.VIEW_TABLES.values():
            for table in tables:
                conn.execute(table.delete())
        conn.execute(t.tracking.update().values(position=0))
    projectors = [Projector(context.engine, context.events, page_size=5) for _ in range(2)]
    errors: list[BaseException] = []

    def run(projector: Projector) -> None:
        try:
            projector.catch_up()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in projectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert snapshot(context.engine) == expected


def test_get_run_as_of_a_position_before_the_end_shows_it_running(sqlite_stores):
    run = random_pipeline(n=2)
    client = Client()
    started = client.get_run(run.id)
    first_step_done = min(s.started_at for s in started.steps.values())
    del first_step_done
    events = client.context.events
    stream = UUID(str(run.id)).hex
    positions = [p for p, s, *_ in events.read_rows(0, events.max_position()) if s == stream]

    before_end = client.as_of(positions[-1] - 1).get_run(run.id)

    assert before_end.status == "running"
    assert client.get_run(run.id).status == "completed"
    assert len(before_end.steps) == len(started.steps)


def test_as_of_a_position_before_a_run_started_does_not_know_it(sqlite_stores):
    first = random_pipeline(n=2)
    position = Client().context.events.max_position()
    second = random_pipeline(n=3)

    past = Client().as_of(position)

    assert [r.id for r in past.list_runs()] == [first.id]
    with pytest.raises(Exception, match="no run with the id"):
        past.get_run(second.id)


def test_a_damaged_view_is_a_clear_error_and_rebuild_repairs_it(sqlite_stores):
    random_pipeline(n=2)
    context = open_context()
    expected = snapshot(context.engine)
    with context.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE lineagelog_step_outputs")

    with pytest.raises(StorageError, match="projections rebuild"):
        Client().get_run(Client().list_runs()[0].id)
    context.projector.rebuild()

    assert snapshot(context.engine) == expected


def _index_names(engine: Any) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index'")))


def _table_sql(engine: Any, name: str) -> str:
    with engine.connect() as conn:
        sql = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name})
    return str(sql).rstrip()


def test_a_rebuild_cut_short_gets_its_indexes_back_when_the_views_are_next_opened(
    sqlite_stores, monkeypatch
):
    random_history(seed=6, runs=4)
    context = open_context()
    context.catch_up()
    expected, indexes = snapshot(context.engine), _index_names(context.engine)
    original = views.HANDLERS["lineage"][StepRun.StepStarted]

    def crash(batch: Any, position: int, event: Any) -> None:
        raise RuntimeError("simulated crash while rebuilding")

    monkeypatch.setitem(views.HANDLERS["lineage"], StepRun.StepStarted, crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        context.projector.rebuild()

    assert gc.isenabled(), "the rebuild left the garbage collector paused"
    assert not indexes <= _index_names(context.engine), "the rebuild should bulk-load unindexed"
    monkeypatch.setitem(views.HANDLERS["lineage"], StepRun.StepStarted, original)
    assert not _table_sql(context.engine, "lineagelog_lineage_edges").endswith("WITHOUT ROWID")
    Projector(context.engine, context.events).create_tables()  # what every client does on open
    assert _index_names(context.engine) == indexes
    assert _table_sql(context.engine, "lineagelog_lineage_edges").endswith("WITHOUT ROWID")
    with context.engine.connect() as conn:
        assert (
            conn.scalar(select(t.schema_info.c.value).where(t.schema_info.c.key == "bulk_load"))
            is None
        )
    context.projector.catch_up()
    assert snapshot(context.engine) == expected


def test_a_page_whose_rows_name_different_columns_writes_each_row_whole(sqlite_stores):
    random_pipeline(n=1)
    context = open_context()
    moment = datetime(2026, 1, 1, 12, tzinfo=UTC)
    row = {
        "id": "n1",
        "pipeline": "p",
        "run_name": "one",
        "parameters": {},
        "dag": {},
        "environment": {},
        "status": "failed",
        "started_at": moment,
        "started_pos": 1,
        "failed_step": "s",
    }
    with context.engine.begin() as conn:
        batch = PageBatch(conn)
        batch.insert(t.runs, row)
        reordered = {k: row[k] for k in reversed(row)}
        batch.insert(t.runs, reordered | {"id": "n2"})
        without_step = {k: v for k, v in row.items() if k != "failed_step"}
        batch.insert(t.runs, without_step | {"id": "n3"})
        batch.flush()
        stored = conn.execute(
            select(t.runs.c.id, t.runs.c.run_name, t.runs.c.failed_step)
            .where(t.runs.c.id.in_(["n1", "n2", "n3"]))
            .order_by(t.runs.c.id)
        ).all()
        stamps = set(
            conn.scalars(
                text("SELECT started_at FROM lineagelog_runs WHERE id IN ('n1', 'n2', 'n3')")
            )
        )

    assert [tuple(r) for r in stored] == [
        ("n1", "one", "s"),
        ("n2", "one", "s"),
        ("n3", "one", None),
    ]
    assert stamps == {"2026-01-01T12:00:00.000000+00:00"}


def test_rebuild_recreates_a_view_table_made_in_an_older_layout(sqlite_stores):
    random_pipeline(n=2)
    context = open_context()
    expected = snapshot(context.engine)
    with context.engine.begin() as conn:  # the timeline as lineagelog 0.1 made it
        conn.exec_driver_sql("DROP TABLE lineagelog_timeline")
        conn.exec_driver_sql(
            "CREATE TABLE lineagelog_timeline (position BIGINT NOT NULL, "
            "timestamp VARCHAR(32) NOT NULL, stream_id VARCHAR(36) NOT NULL, "
            "stream_version INTEGER NOT NULL, event_type VARCHAR(64) NOT NULL, "
            "PRIMARY KEY (position))"
        )

    context.projector.rebuild()

    assert "position INTEGER NOT NULL" in _table_sql(context.engine, "lineagelog_timeline")
    assert _table_sql(context.engine, "lineagelog_lineage_edges").endswith("WITHOUT ROWID")
    assert snapshot(context.engine) == expected


def test_views_of_an_older_layout_are_rebuilt_from_the_log_when_opened(sqlite_stores):
    random_pipeline(n=2)
    context = open_context()
    expected = snapshot(context.engine)
    older = str(int(SCHEMA_VERSION) - 1)
    with context.engine.begin() as conn:  # views an older lineagelog made, in its layout
        conn.execute(delete(t.runs))
        conn.exec_driver_sql("DROP TABLE lineagelog_timeline")
        conn.exec_driver_sql(  # schema 3's timeline: a stream id and text timestamp per event
            "CREATE TABLE lineagelog_timeline (position INTEGER NOT NULL, "
            "timestamp VARCHAR(32) NOT NULL, stream_id VARCHAR(36) NOT NULL, "
            "stream_version INTEGER NOT NULL, event_type VARCHAR(64) NOT NULL, "
            "PRIMARY KEY (position))"
        )
        version = t.schema_info.c.key == "views"
        conn.execute(update(t.schema_info).where(version).values(value=older))

    Projector(context.engine, context.events).create_tables()  # what every client does on open

    assert snapshot(context.engine) == expected
    assert "stream_id" not in _table_sql(context.engine, "lineagelog_timeline")
    assert "timestamp BIGINT" in _table_sql(context.engine, "lineagelog_timeline")
    with context.engine.connect() as conn:
        stored = conn.scalar(select(t.schema_info.c.value).where(t.schema_info.c.key == "views"))
        assert stored == SCHEMA_VERSION
        assert (
            conn.scalar(select(t.schema_info.c.value).where(t.schema_info.c.key == "bulk_load"))
            is None
        )
