"""A stored topic is data: it never chooses code to import, and it is under the event's hash.

A real SQLite file tampered with by hand, real events files, the real command
line in a subprocess. ``evilmodule`` writes a marker file when it is imported:
the marker must never appear.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cli import run_cli
from views import sqlite_database

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import ExportFormatError, export_events, import_events
from lineagelog.adapters.raw_events import decode_state, hash_content, topic_type
from lineagelog.adapters.stored_events import TOPIC_CODES
from lineagelog.api import Client
from lineagelog.api.context import close_contexts
from lineagelog.domain.errors import (
    ConfigurationError,
    IntegrityError,
    LineageError,
    StorageError,
)
from lineagelog.domain.seal import SEAL_GENESIS, advance_digest
from lineagelog.examples.numbers_pipeline import numbers
from lineagelog.projections.projector import SCHEMA_VERSION

_REGISTERED = "lineagelog.domain.artifact_name:ArtifactName.VersionRegistered"
_FORGED = "evilmodule:ArtifactName.VersionRegistered"
_EVIL = """\
import os
from pathlib import Path

Path(os.environ["LINEAGELOG_TEST_MARKER"]).write_text("evilmodule was imported")


class ArtifactName:
    class VersionRegistered:
        pass
"""


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``evilmodule`` on sys.path (here and in subprocesses); the file it writes when imported."""
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "evilmodule.py").write_text(_EVIL)
    path = tmp_path / "imported.txt"
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])
    )
    monkeypatch.setenv("LINEAGELOG_TEST_MARKER", str(path))
    yield path
    sys.modules.pop("evilmodule", None)


@pytest.fixture
def history(sqlite_stores: tuple[str, str]) -> Client:
    """Two runs of the numbers pipeline, each sealed when it ended."""
    numbers(n=5)
    numbers(n=7)
    return Client()


def _forge_topic(tmp_path: Path, name: str = "lineage.db") -> int:
    """Rewrite the module of the first ``VersionRegistered`` topic; return its position."""
    with sqlite_database(tmp_path / name) as conn:
        (position,) = conn.execute(
            "SELECT MIN(rowid) FROM stored_events WHERE topic IN (?, ?)",
            (_REGISTERED, TOPIC_CODES[_REGISTERED]),  # the compact code, or the whole topic
        ).fetchone()
        conn.execute("UPDATE stored_events SET topic = ? WHERE rowid = ?", (_FORGED, position))
    return int(position)


# -- the log --------------------------------------------------------------------------


def test_the_module_of_a_topic_is_under_the_event_hash() -> None:
    content = decode_state(b'{"previous_hash":"' + b"0" * 64 + b'","version":1}')

    genuine = hash_content("ab" * 16, 1, _REGISTERED, content)
    forged = hash_content("ab" * 16, 1, _FORGED, content)

    assert genuine != forged


def test_the_audit_reports_an_event_whose_topic_names_another_module_and_imports_nothing(
    history: Client, tmp_path: Path, marker: Path
) -> None:
    position = _forge_topic(tmp_path)
    close_contexts()

    report = Client().audit()

    assert not report.ok
    named = [p for p in report.problems if p.position == position]
    assert [p.kind for p in named] == ["undecodable"]
    assert _FORGED in named[0].message
    assert not marker.exists()


def test_a_new_run_over_a_forged_topic_stops_naming_it_and_imports_nothing(
    history: Client, tmp_path: Path, marker: Path
) -> None:
    _forge_topic(tmp_path)
    close_contexts()

    with pytest.raises(LineageError, match=_FORGED):
        numbers(n=9)  # registers version 3 of "numbers": loads that artifact name's stream

    assert not marker.exists()


def test_the_client_refuses_to_project_a_forged_topic_and_imports_nothing(
    history: Client, tmp_path: Path, marker: Path
) -> None:
    run_id = history.list_runs()[0].id
    close_contexts()
    shutil.copy(tmp_path / "lineage.db", tmp_path / "copy.db")
    with sqlite_database(tmp_path / "copy.db") as conn:  # the log and its marker, views dropped
        tables = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT IN ('stored_events', 'lineagelog_schema') AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'DROP TABLE "{table}"')
    _forge_topic(tmp_path, "copy.db")

    with pytest.raises(StorageError, match=f"{_FORGED}.*lineagelog audit"):
        Client(f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "artifacts")).get_run(run_id)

    assert not marker.exists()


def test_projections_rebuild_refuses_a_forged_topic_and_imports_nothing(
    history: Client, sqlite_stores: tuple[str, str], tmp_path: Path, marker: Path
) -> None:
    _forge_topic(tmp_path)
    close_contexts()
    db, artifacts = sqlite_stores

    rebuilt = run_cli("projections", "rebuild", stores=(db, artifacts))
    audited = run_cli("audit", "--no-artifacts", stores=(db, artifacts))

    assert rebuilt.returncode != 0
    assert _FORGED in rebuilt.stderr and "Traceback" not in rebuilt.stderr
    assert audited.returncode != 0 and _FORGED in audited.stdout + audited.stderr
    assert not marker.exists()


def test_events_tail_shows_a_forged_topic_whole_as_undecodable_and_imports_nothing(
    history: Client, sqlite_stores: tuple[str, str], tmp_path: Path, marker: Path
) -> None:
    position = _forge_topic(tmp_path)
    close_contexts()
    db, artifacts = sqlite_stores

    tail = run_cli("events", "tail", "-n", "1000", stores=(db, artifacts))

    assert tail.returncode == 0, tail.stderr
    (line,) = [x for x in tail.stdout.splitlines() if x.split()[0] == str(position)]
    assert f"undecodable {_FORGED}" in line
    assert not marker.exists()


def test_loading_a_stream_with_a_forged_topic_raises_an_integrity_error_naming_it(
    history: Client, tmp_path: Path, marker: Path
) -> None:
    _forge_topic(tmp_path)
    close_contexts()
    events = EventStore(f"sqlite:///{tmp_path / 'lineage.db'}")
    with sqlite_database(tmp_path / "lineage.db") as conn:
        (stream,) = conn.execute(
            "SELECT originator_id FROM stored_events WHERE topic = ?", (_FORGED,)
        ).fetchone()

    try:
        with pytest.raises(IntegrityError, match=f"{_FORGED}.*nothing was imported"):
            events.stream_events(UUID(hex=stream))
    finally:
        events.close()

    assert not marker.exists()


# -- events files -----------------------------------------------------------------------


@pytest.fixture
def exported(history: Client, tmp_path: Path) -> list[dict[str, Any]]:
    """The history as the lines of an events file (header, events, footer)."""
    path = tmp_path / "events.jsonl"
    with path.open("w", encoding="utf-8") as out:
        export_events(history.context.events, out)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def target(tmp_path: Path) -> Iterator[EventStore]:
    """An empty event store in another SQLite file."""
    store = EventStore(f"sqlite:///{tmp_path / 'target.db'}")
    yield store
    store.close()


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    """Write an events file whose hashes and footer digest agree with its events."""
    header, *events, footer = lines
    running = bytes.fromhex(SEAL_GENESIS)
    for event in events:
        stream = event["stream_id"].replace("-", "")
        state = json.dumps(event["payload"], separators=(",", ":")).encode()
        event["hash"] = hash_content(
            stream, event["stream_version"], event["type"], decode_state(state)
        )
        running = advance_digest(running, stream, event["stream_version"], event["hash"])
    footer.update(count=len(events), last_position=events[-1]["position"], digest=running.hex())
    path.write_text("".join(json.dumps(x) + "\n" for x in [header, *events, footer]))
    return path


def _limit_memory() -> None:
    """Cap a child's address space at 2 GiB (it and each worker process it starts)."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


def _import(store: EventStore, path: Path) -> Any:
    with path.open(encoding="utf-8") as source:
        return import_events(store, source, workers=1)


def test_an_events_file_naming_an_unknown_module_is_refused_and_imports_nothing(
    exported: list[dict[str, Any]], target: EventStore, tmp_path: Path, marker: Path
) -> None:
    # The last event (the final seal) is covered by no later hash or seal, so
    # this forgery re-hashes consistently: only the topic says otherwise.
    exported[-2]["type"] = "evilmodule:LogSeal.Sealed"
    path = _write(tmp_path / "forged.jsonl", exported)

    with pytest.raises(ExportFormatError, match=f"line {len(exported) - 1} .*evilmodule"):
        _import(target, path)

    assert target.max_position() == 0
    assert not marker.exists()


def test_a_position_of_2_63_minus_1_in_an_events_file_is_refused_naming_its_line(
    exported: list[dict[str, Any]], target: EventStore, tmp_path: Path
) -> None:
    exported[-2]["position"] = 2**63 - 1
    path = _write(tmp_path / "far.jsonl", exported)

    with pytest.raises(
        ExportFormatError,
        match=f"line {len(exported) - 1} of the events file has position {2**63 - 1}; "
        r"positions are whole numbers from 1 to 2\*\*53",
    ):
        _import(target, path)

    assert target.max_position() == 0


def test_the_audit_of_a_log_with_a_gap_of_2_53_positions_takes_time_in_events_not_positions(
    exported: list[dict[str, Any]], target: EventStore, tmp_path: Path
) -> None:
    events = exported[1:-1]
    seal = max(i for i, e in enumerate(events) if e["type"].endswith("LogSeal.Sealed"))
    shift = 2**53 - events[-1]["position"]
    for event in events[seal:]:  # the last seal and after: no seal covers their positions
        event["position"] += shift
    path = _write(tmp_path / "gap.jsonl", exported)
    result = _import(target, path)
    assert result.last_position == 2**53
    db = f"sqlite:///{tmp_path / 'target.db'}"

    # The real command, on every core, in bounded memory and time: ranges of
    # 20,000 positions over the gap would be 4.5e11 ranges.
    audited = run_cli(
        "audit",
        "--no-artifacts",
        settings={"LINEAGELOG_DATABASE_URL": db},
        timeout=60,
        preexec_fn=_limit_memory,
    )

    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert f"{len(events)} events" in audited.stdout


# -- databases of the old hash format ----------------------------------------------------


def test_a_database_whose_events_were_hashed_the_old_way_is_refused_and_left_untouched(
    history: Client, sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    close_contexts()
    # what the lineagelog before hash format 2 recorded
    with sqlite_database(tmp_path / "lineage.db") as conn:
        conn.execute("UPDATE lineagelog_schema SET value = '1' WHERE key = 'views'")
    before = (tmp_path / "lineage.db").read_bytes()

    with pytest.raises(ConfigurationError, match=r"schema version '1'.*hashed by an older"):
        Client(*sqlite_stores)

    assert (tmp_path / "lineage.db").read_bytes() == before


def test_an_empty_database_of_the_old_format_is_taken_up_as_it_holds_no_hash(
    tmp_path: Path,
) -> None:
    db, artifacts = f"sqlite:///{tmp_path / 'empty.db'}", str(tmp_path / "artifacts")
    Client(db, artifacts)
    close_contexts()
    with sqlite_database(tmp_path / "empty.db") as conn:
        conn.execute("UPDATE lineagelog_schema SET value = '1' WHERE key = 'views'")

    numbers.run(database_url=db, artifact_store=artifacts)

    assert Client(db, artifacts).audit().ok
    close_contexts()
    with sqlite_database(tmp_path / "empty.db") as conn:
        stored = conn.execute("SELECT value FROM lineagelog_schema WHERE key = 'views'")
        assert stored.fetchall() == [(SCHEMA_VERSION,)]


def test_an_events_file_hashed_by_an_older_lineagelog_is_refused_saying_so(
    exported: list[dict[str, Any]], target: EventStore, tmp_path: Path
) -> None:
    first = exported[1]
    state = json.dumps(first["payload"], separators=(",", ":")).encode()
    stream, version = first["stream_id"].replace("-", ""), first["stream_version"]
    # Format 1 hashed the class part of the topic only.
    first["hash"] = hash_content(stream, version, topic_type(first["type"]), decode_state(state))
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in exported))

    with pytest.raises(ExportFormatError, match=r"line 2 .*hash of an older lineagelog"):
        _import(target, path)

    assert target.max_position() == 0
