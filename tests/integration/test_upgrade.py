"""A database written by the previous release opens with this one, whole.

The fixture (``tests/fixtures/release_0_1``) was written by lineagelog at view schema 2:
its views are rebuilt from the log on open, its hash chains and seals still verify,
and everything it recorded (runs, a cache hit, a tag, a deletion) reads the same.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from views import sqlite_database

from lineagelog.api import Client
from lineagelog.projections.projector import SCHEMA_VERSION

FIXTURE = Path(__file__).parents[1] / "fixtures" / "release_0_1"


def _copy(tmp_path: Path) -> tuple[str, str]:
    target = tmp_path / "release"
    shutil.copytree(FIXTURE, target)
    with sqlite_database(target / "lineage.db") as conn:
        (stored,) = conn.execute(
            "SELECT value FROM lineagelog_schema WHERE key = 'views'"
        ).fetchone()
    assert stored == "2"  # the fixture really is of the older layout
    return f"sqlite:///{target / 'lineage.db'}", str(target / "artifacts")


def test_a_previous_release_database_opens_rebuilt_and_audits_clean(tmp_path: Path) -> None:
    db, store = _copy(tmp_path)

    client = Client(db, store)
    report = client.audit(verify_artifacts=False)

    assert report.ok, [p.message for p in report.problems]
    assert report.seals_checked >= 1 and report.unsealed_tail == 0
    with sqlite_database(tmp_path / "release" / "lineage.db") as conn:
        (stored,) = conn.execute(
            "SELECT value FROM lineagelog_schema WHERE key = 'views'"
        ).fetchone()
    assert stored == SCHEMA_VERSION


def test_what_the_previous_release_recorded_reads_the_same(tmp_path: Path) -> None:
    db, store = _copy(tmp_path)

    client = Client(db, store)
    runs = client.list_runs()
    numbers = {str(v.version): v for v in client.list_artifact_versions(name="numbers")}

    assert [r.status for r in runs] == ["completed"] * 3  # `total` never caches
    assert numbers["1"].tags == ("prod",) and not numbers["1"].deleted
    assert numbers["2"].deleted
    steps = [s for r in runs for s in r.steps.values()]
    assert {(s.executor, s.worker, s.attempts) for s in steps} == {(None, None, ())}  # not said
    hit = runs[1].steps["load"]
    assert hit.cache_hit and hit.cache_reason and not runs[2].steps["load"].cache_hit
    assert str(numbers["1"].version) == "1" and numbers["1"].number == 1


def test_the_previous_release_artifacts_load_after_the_project_moved(tmp_path: Path) -> None:
    db, store = _copy(tmp_path)  # written under /tmp/fx/release, read from tmp_path now

    client = Client(db, store)
    numbers = client.get_artifact_version("numbers", 1)
    reused = client.list_runs()[1].steps["load"].outputs["numbers"]

    assert numbers.load(verify=True) == [0, 1, 2, 3, 4]
    assert reused.id == numbers.id  # the cache hit of that release reused version 1
    assert client.audit().ok  # artifact bytes included
