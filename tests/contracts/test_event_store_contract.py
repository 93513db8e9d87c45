"""The EventStore contract: one set of assertions, run against every backend.

Modelled on eventsourcing's recorder test cases: ``EventStoreContract`` holds
every assertion and asks for a database URL through the ``url`` fixture; each
backend is a small subclass that only says how to get one (memory, a SQLite
file, PostgreSQL in the default and in a named schema, MariaDB).

Several operations take a SQLite-only fast path (``read_rows``,
``stream_version_at``, bulk insert); the same assertions run on both branches.
Where a backend genuinely behaves differently (only SQLite keeps the positions
an import gives), the subclass says so in a class attribute and the contract
asserts the behaviour of each kind explicitly.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import PersistenceError
from sqlalchemy import update

from lineagelog.adapters.bulk_insert import Row, bulk_insert
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import ExportFormatError, export_events, import_events
from lineagelog.adapters.point_in_time import aggregate_as_of, stream_version_at
from lineagelog.adapters.stored_events import stored_row
from lineagelog.adapters.view_engine import create_view_engine
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.errors import ConcurrencyConflict, ConfigurationError, StorageError
from lineagelog.domain.run import PipelineRun
from lineagelog.projections import schema as t
from lineagelog.projections.projector import SCHEMA_VERSION, Projector

RUN_STARTED = "lineagelog.domain.run:PipelineRun.RunStarted"


def start_run(name: str) -> PipelineRun:
    return PipelineRun.start(
        pipeline="contract", run_name=name, parameters={}, dag={}, environment={}
    )


def named(name: str, versions: int = 0) -> ArtifactName:
    aggregate = ArtifactName.register_name(name)
    for _ in range(versions):
        aggregate.register_version(uuid.uuid4(), None, "0" * 64)
    return aggregate


def stored_rows(events: EventStore) -> list[tuple[int, UUID, int, str, bytes]]:
    """Every event of the log as (position, stream id, version, topic, state)."""
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
        for n in events.read_notifications(0, 1_000_000)
    ]


def exported_log(runs: int) -> str:
    """An export of a memory log holding ``runs`` completed runs."""
    source = EventStore("memory://")
    for i in range(runs):
        run = start_run(f"r{i}")
        run.complete()
        source.save(run)
    out = io.StringIO()
    export_events(source, out)
    return out.getvalue()


def run_row(position: int, name: str) -> Row:
    """A stored ``RunStarted`` event as an import would insert it."""
    run = start_run(name)
    event = run.collect_events()[0]
    stored = EventStore("memory://").mapper.to_stored_event(event)
    return (position, stored.originator_id.hex, 1, *stored_row(stored.topic, stored.state))


class EventStoreContract:
    """What every event store backend must do; subclasses provide ``url``."""

    keeps_import_positions: bool
    """True: bulk insert stores each row at the position it is given, gaps kept,
    and refuses a position not after the store's last. False: the backend
    numbers rows itself, in the order they were added (an import reports them
    as renumbered)."""

    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError("a backend's subclass gives its database URL")

    @pytest.fixture
    def events(self, url: str) -> Iterator[EventStore]:
        store = EventStore(url)
        yield store
        store.close()

    # -- saving --------------------------------------------------------------

    def test_an_empty_log_is_at_position_zero_and_reads_nothing(self, events: EventStore) -> None:
        assert events.max_position() == 0
        assert events.read(0, 10) == []
        assert events.read_rows(0, 10) == []
        assert list(events.iter_all()) == []
        assert events.get(uuid.uuid4()) is None
        assert events.last_event(uuid.uuid4()) is None
        assert events.stream_events(uuid.uuid4()) == []

    def test_save_returns_the_ascending_positions_of_the_appended_events(
        self, events: EventStore
    ) -> None:
        name = named("contract-a", versions=2)

        positions = events.save(name)

        assert len(positions) == 3
        assert positions == sorted(set(positions))
        assert events.max_position() == positions[-1]
        assert [r.position for r in events.read(0, 10)] == positions

    def test_save_with_nothing_pending_appends_nothing(self, events: EventStore) -> None:
        name = named("contract-a")
        events.save(name)

        assert events.save(name) == []
        assert events.save() == []
        assert events.max_position() == 1

    def test_a_stale_writer_gets_a_concurrency_conflict_naming_the_stream(
        self, events: EventStore
    ) -> None:
        events.save(named("contract-a"))
        first = events.get(ArtifactName.register_name("contract-a").id)
        second = events.get(first.id)
        first.register_version(uuid.uuid4(), None, "1" * 64)
        second.register_version(uuid.uuid4(), None, "2" * 64)
        events.save(first)

        with pytest.raises(ConcurrencyConflict) as caught:
            events.save(second)

        assert str(first.id) in str(caught.value)
        stored = events.stream_events(first.id)
        assert [type(e).__name__ for e in stored] == ["NameRegistered", "VersionRegistered"]
        assert stored[1].content_hash == "1" * 64

    def test_a_conflict_in_one_stream_appends_nothing_of_the_others_saved_with_it(
        self, events: EventStore
    ) -> None:
        stale = named("contract-a")
        events.save(stale)
        fresh = events.get(stale.id)
        fresh.register_version(uuid.uuid4(), None, "1" * 64)
        events.save(fresh)
        stale.register_version(uuid.uuid4(), None, "2" * 64)
        bystander = start_run("bystander")
        before = events.max_position()

        with pytest.raises(ConcurrencyConflict):
            events.save(bystander, stale)

        assert events.max_position() == before
        assert events.get(bystander.id) is None

    # -- reading streams -----------------------------------------------------

    def test_get_rebuilds_an_aggregate_whole_up_to_a_version_or_from_a_loaded_one(
        self, events: EventStore
    ) -> None:
        name = named("contract-a", versions=3)
        events.save(name)

        whole = events.get(name.id)
        early = events.get(name.id, up_to_version=2)
        advanced = events.get(name.id, after=events.get(name.id, up_to_version=2))

        assert whole.name == "contract-a"
        assert (whole.version, whole.latest_version) == (4, 3)
        assert (early.version, early.latest_version) == (2, 1)
        assert (advanced.version, advanced.versions) == (4, whole.versions)

    def test_stream_events_and_last_event_read_one_stream_only(self, events: EventStore) -> None:
        name, run = named("contract-a", versions=2), start_run("r")
        events.save(run, name)
        run.complete()
        events.save(run)

        stream = events.stream_events(name.id)
        last = events.last_event(name.id)

        assert [type(e).__name__ for e in stream] == [
            "NameRegistered",
            "VersionRegistered",
            "VersionRegistered",
        ]
        assert [e.originator_version for e in stream] == [1, 2, 3]
        assert all(e.originator_id == name.id for e in stream)
        assert (type(last).__name__, last.version) == ("VersionRegistered", 2)
        assert type(events.last_event(run.id)).__name__ == "RunCompleted"

    # -- reading the notification log ------------------------------------------

    def test_reads_by_position_take_after_exclusive_until_inclusive_and_limit(
        self, events: EventStore
    ) -> None:
        positions = [p for i in range(5) for p in events.save(start_run(f"r{i}"))]
        p = positions

        assert [r.position for r in events.read(0, 100)] == p
        assert [r.position for r in events.read(p[0], 2)] == p[1:3]
        assert [r.position for r in events.read(p[0], 100, until=p[3])] == p[1:4]
        assert [r.position for r in events.read(p[-1], 100)] == []
        assert [n.id for n in events.read_notifications(p[1], 100, until=p[2])] == [p[2]]
        assert [row[0] for row in events.read_rows(p[1], 2)] == p[2:4]
        assert [row[0] for row in events.read_rows(p[0], 100, until=p[2])] == p[1:3]

    def test_read_rows_leave_out_skipped_topics_and_count_only_the_rest(
        self, events: EventStore
    ) -> None:
        name = named("contract-skip", versions=3)  # NameRegistered, 3 x VersionRegistered
        positions = events.save(name, start_run("r1"), start_run("r2"))
        skipped = ["lineagelog.domain.artifact_name:ArtifactName.VersionRegistered"]

        first = events.read_rows(0, 2, skip_topics=skipped)
        rest = events.read_rows(first[-1][0], 2, skip_topics=skipped)
        until = events.read_rows(0, 100, until=positions[4], skip_topics=skipped)

        assert [row[0] for row in first] == [positions[0], positions[4]]
        assert [row[0] for row in rest] == [positions[5]]
        assert [row[0] for row in until] == [positions[0], positions[4]]
        assert {row[3] for row in first + rest} == {
            "lineagelog.domain.artifact_name:ArtifactName.NameRegistered",
            RUN_STARTED,
        }

    def test_read_rows_give_the_stored_fields_of_read_notifications(
        self, events: EventStore
    ) -> None:
        name, run = named("contract-a", versions=1), start_run("r")
        events.save(name, run)

        rows = events.read_rows(0, 100)

        # The stream id is hex text on SQLite's fast path and a UUID elsewhere:
        # both name the same stream.
        assert [(p, UUID(str(s)), v, topic, bytes(state)) for p, s, v, topic, state in rows] == (
            stored_rows(events)
        )
        assert [(UUID(str(s)), v) for _, s, v, _, _ in rows] == [
            (name.id, 1),
            (name.id, 2),
            (run.id, 1),
        ]
        assert rows[2][3] == RUN_STARTED
        assert json.loads(rows[2][4])["run_name"] == "r"

    def test_read_decodes_the_domain_events_in_log_order(self, events: EventStore) -> None:
        name, run = named("contract-a", versions=1), start_run("r")
        positions = events.save(name, run)

        recorded = events.read(0, 100)

        assert [r.position for r in recorded] == positions
        assert [type(r.event).__name__ for r in recorded] == [
            "NameRegistered",
            "VersionRegistered",
            "RunStarted",
        ]
        assert recorded[2].event.originator_id == run.id
        assert recorded[2].event.run_name == "r"

    def test_iter_all_reads_every_event_page_by_page_after_a_position(
        self, events: EventStore
    ) -> None:
        positions = [p for i in range(7) for p in events.save(start_run(f"r{i}"))]

        every = [r.position for r in events.iter_all(page=3)]
        later = [r.event.run_name for r in events.iter_all(after=positions[4], page=2)]

        assert every == positions
        assert later == ["r5", "r6"]

    def test_read_for_projection_gives_light_records_of_the_same_events(
        self, events: EventStore
    ) -> None:
        name, run = named("contract-a", versions=1), start_run("r")
        positions = events.save(name, run)

        projected = events.read_for_projection(0, 100)

        assert [r.position for r in projected] == positions
        assert [type(r.event).__name__ for r in projected] == [
            "NameRegistered",
            "VersionRegistered",
            "RunStarted",
        ]
        started = projected[2].event
        assert (started.originator_id, started.originator_version) == (str(run.id), 1)
        assert (started.run_name, started.pipeline) == ("r", "contract")
        assert projected[1].event.originator_id == str(name.id)
        assert [r.position for r in events.read_for_projection(positions[0], 1)] == [positions[1]]
        assert [r.position for r in events.read_for_projection(0, 100, until=positions[1])] == (
            positions[:2]
        )

    def test_read_for_projection_refuses_a_damaged_payload_pointing_at_the_audit(
        self, events: EventStore
    ) -> None:
        position, stream, version, topic, _ = run_row(1, "r")
        with bulk_insert(events) as batches:
            batches.add([(position, stream, version, topic, b"{not json")])

        with pytest.raises(StorageError, match=r"at log position 1 .*lineagelog audit"):
            events.read_for_projection(0, 100)

    # -- aggregate state as of a position -----------------------------------------

    def test_stream_version_at_gives_the_version_recorded_at_or_before_a_position(
        self, events: EventStore
    ) -> None:
        name, other = named("contract-a"), named("contract-b")
        at: list[int] = []
        for _ in range(3):
            at += events.save(name)  # versions 1, 2, 3 of ``name``
            events.save(other)
            name.register_version(uuid.uuid4(), None, "0" * 64)
            other.register_version(uuid.uuid4(), None, "0" * 64)

        versions = [stream_version_at(events, name.id, p) for p in (at[0] - 1, *at, at[2] + 1)]

        assert versions == [0, 1, 2, 3, 3]
        assert stream_version_at(events, uuid.uuid4(), events.max_position()) == 0
        assert aggregate_as_of(events, name.id, at[0] - 1) is None
        assert aggregate_as_of(events, name.id, at[1] + 1).latest_version == 1

    # -- bulk insert (import) ----------------------------------------------------

    def test_bulk_insert_appends_every_batch_after_the_log_and_reports_positions(
        self, events: EventStore
    ) -> None:
        events.save(start_run("before"))
        rows = [run_row(2 + i, f"r{i}") for i in range(5)]

        with bulk_insert(events) as batches:
            batches.add(rows[:2])
            batches.add(rows[2:])

        assert batches.count == 5
        stored = stored_rows(events)
        assert [p for p, *_ in stored[1:]] == [2, 3, 4, 5, 6]
        assert (batches.last_position, batches.renumbered) == (6, False)
        assert [(s.hex, v, topic, state) for _, s, v, topic, state in stored[1:]] == [
            (s, v, topic, state) for _, s, v, topic, state in rows
        ]
        assert [r.event.run_name for r in events.read(1, 100)] == [f"r{i}" for i in range(5)]

    def test_bulk_insert_keeps_given_positions_only_where_the_backend_can(
        self, events: EventStore
    ) -> None:
        rows = [run_row(p, f"r{p}") for p in (5, 9, 10)]

        with bulk_insert(events) as batches:
            batches.add(rows)

        stored = [p for p, *_ in stored_rows(events)]
        assert batches.last_position == stored[-1]
        if self.keeps_import_positions:
            assert stored == [5, 9, 10]
            assert not batches.renumbered
        else:
            assert stored == [1, 2, 3]
            assert batches.renumbered
        assert events.max_position() == stored[-1]

    def test_bulk_insert_of_a_position_not_after_the_log_is_refused_or_renumbered(
        self, events: EventStore
    ) -> None:
        events.save(start_run("first"), start_run("second"))
        rows = [run_row(1, "again")]

        if self.keeps_import_positions:
            with (
                pytest.raises(PersistenceError, match="not after position 2"),
                bulk_insert(events) as batches,
            ):
                batches.add(rows)
            assert events.max_position() == 2
        else:
            with bulk_insert(events) as batches:
                batches.add(rows)
            assert (batches.last_position, batches.renumbered) == (3, True)
            assert events.read(2, 10)[0].event.run_name == "again"

    def test_an_error_inside_a_bulk_insert_writes_none_of_its_batches(
        self, events: EventStore
    ) -> None:
        events.save(start_run("before"))

        with (
            pytest.raises(RuntimeError, match="verification failed"),
            bulk_insert(events) as batches,
        ):
            batches.add([run_row(2, "a"), run_row(3, "b")])
            raise RuntimeError("verification failed")

        assert events.max_position() == 1
        assert [r.event.run_name for r in events.iter_all()] == ["before"]

    def test_a_bulk_insert_clashing_with_a_recorded_stream_version_writes_nothing(
        self, events: EventStore
    ) -> None:
        run = start_run("recorded")
        events.save(run)
        _, _, _, topic, state = run_row(0, "clash")
        rows: list[Row] = [run_row(2, "fine"), (3, run.id.hex, 1, topic, state)]

        with pytest.raises(PersistenceError), bulk_insert(events) as batches:
            batches.add(rows)

        assert [r.event.run_name for r in events.iter_all()] == ["recorded"]

    # -- import (the caller of bulk insert) ----------------------------------------

    def test_an_export_imports_into_an_empty_store_event_for_event(
        self, events: EventStore
    ) -> None:
        exported = exported_log(3)

        result = import_events(events, io.StringIO(exported), workers=1)

        again = io.StringIO()
        export_events(events, again, workers=1)
        assert (result.count, result.last_position, result.renumbered) == (6, 6, False)
        assert again.getvalue().splitlines()[1:] == exported.splitlines()[1:]
        assert [r.event.run_name for r in events.iter_all() if r.event.originator_version == 1] == [
            "r0",
            "r1",
            "r2",
        ]

    def test_an_import_found_bad_after_its_rows_went_in_writes_nothing(
        self, events: EventStore
    ) -> None:
        # The footer is checked after every event line was verified and handed
        # to the bulk insert: the rows must go with the error.
        exported = exported_log(3)
        cut = exported.replace('"count":6,', '"count":5,')
        assert cut != exported

        with pytest.raises(ExportFormatError, match="footer says 5 events"):
            import_events(events, io.StringIO(cut), workers=1)

        assert events.max_position() == 0
        assert events.read_rows(0, 100) == []

    def test_an_import_into_a_store_that_holds_events_is_refused(self, events: EventStore) -> None:
        events.save(start_run("here"))

        with pytest.raises(StorageError, match="already holds 1 event position"):
            import_events(events, io.StringIO(exported_log(1)), workers=1)

        assert [r.event.run_name for r in events.iter_all()] == ["here"]

    # -- the views' schema version -------------------------------------------------

    def test_views_of_this_schema_version_open_again_and_a_newer_one_is_refused(
        self, events: EventStore
    ) -> None:
        engine = create_view_engine(events.location)
        try:
            with events.setup_lock():
                Projector(engine, events).create_tables()
            with events.setup_lock():
                Projector(engine, events).create_tables()  # the same version: fine
            with engine.begin() as conn:
                stored = t.schema_info.c.key == "views"
                conn.execute(update(t.schema_info).where(stored).values(value="99"))

            with pytest.raises(ConfigurationError) as caught:
                Projector(engine, events).create_tables()

            message = str(caught.value)
            assert "schema version '99'" in message
            assert f"understands schema version {SCHEMA_VERSION}" in message
            assert "upgrade lineagelog" in message
        finally:
            engine.dispose()


class TestMemoryEventStore(EventStoreContract):
    keeps_import_positions = False

    @pytest.fixture
    def url(self) -> str:
        return "memory://"


class TestSQLiteEventStore(EventStoreContract):
    keeps_import_positions = True

    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'lineage.db'}"


@pytest.mark.postgres
class TestPostgresEventStore(EventStoreContract):
    keeps_import_positions = False

    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url


@pytest.mark.postgres
class TestPostgresSchemaEventStore(EventStoreContract):
    """The log and the views in a named schema (``?schema=``), not ``public``."""

    keeps_import_positions = False

    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url + "?schema=contract"


@pytest.mark.mariadb
class TestMariaDBEventStore(EventStoreContract):
    keeps_import_positions = False

    @pytest.fixture
    def url(self, mariadb_url: str) -> str:
        return mariadb_url
