"""Bad input through the CLI: one line on stderr naming the value, non-zero exit, no writes."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from cli import run_cli, store_options

from lineagelog.api.context import close_contexts
from lineagelog.examples.numbers_pipeline import numbers


def lineagelog(
    *args: str, db: str | None = None, store: str | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, *store_options(db, store))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def stores(sqlite_store_urls: tuple[str, str], tmp_path: Path) -> tuple[str, str, Path]:
    """A log with one run; its URL, the artifact folder, and the tmp folder."""
    db, store = sqlite_store_urls
    numbers.run(database_url=db, artifact_store=store)
    close_contexts()
    return db, store, tmp_path


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 or result.returncode == 2, result.stderr  # usage errors draw a box
    for text in expected:
        assert text in result.stderr, result.stderr


def test_an_unknown_database_url_scheme_is_one_line(tmp_path):
    result = lineagelog("runs", "list", db="mongodb://db/lineage", store=str(tmp_path / "a"))

    assert_one_line_error(result, "mongodb")


def test_an_unreachable_database_names_it_without_the_password(tmp_path):
    result = lineagelog(
        "runs", "list", db="postgresql://bob:s3cret@127.0.0.1:1/lineage", store=str(tmp_path / "a")
    )

    assert_one_line_error(result, "127.0.0.1")
    assert "s3cret" not in result.stderr + result.stdout


def test_an_unsupported_artifact_store_protocol_is_one_line(stores):
    db, _, _ = stores

    result = lineagelog("runs", "list", db=db, store="foo://bucket/x")

    assert_one_line_error(result, "'foo'")


def test_a_database_from_a_newer_schema_is_refused(stores):
    db, store, _ = stores
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE lineagelog_schema SET value = '99' WHERE key = 'views'")

    result = lineagelog("runs", "list", db=db, store=store)

    assert_one_line_error(result, "'99'", "upgrade lineagelog")


def test_an_unknown_run_is_one_line_that_says_how_to_list_runs(stores):
    db, store, _ = stores

    result = lineagelog("runs", "show", "no-such-run", db=db, store=store)

    assert_one_line_error(result, "no-such-run")


def test_an_unknown_status_filter_lists_the_statuses(stores):
    db, store, _ = stores

    result = lineagelog("runs", "list", "--status", "exploded", db=db, store=store)

    assert_one_line_error(result, "'exploded'", "completed")


def test_a_version_that_does_not_exist_is_one_line(stores):
    db, store, _ = stores

    result = lineagelog("artifacts", "show", "numbers:42", db=db, store=store)

    assert_one_line_error(result, "42")


def test_an_unsafe_artifact_name_on_register_writes_nothing(stores):
    db, store, tmp_path = stores
    source = tmp_path / "data.txt"
    source.write_text("x")
    before = _files(Path(store))

    result = lineagelog(
        "artifacts", "register", str(source), "--name", "../../etc", db=db, store=store
    )

    assert_one_line_error(result, "../../etc")
    assert _files(Path(store)) == before


def test_a_truncated_event_file_imports_nothing(stores):
    db, store, tmp_path = stores
    exported = tmp_path / "events.jsonl"
    assert lineagelog("events", "export", "-o", str(exported), db=db, store=store).returncode == 0
    text = exported.read_text()
    exported.write_text(text[: len(text) // 2])
    target = f"sqlite:///{tmp_path / 'target.db'}"

    result = lineagelog("events", "import", str(exported), db=target, store=str(tmp_path / "t"))

    assert_one_line_error(result, "nothing was imported")
    assert not (tmp_path / "target.db").exists()
    listed = lineagelog("runs", "list", "--json", db=target, store=str(tmp_path / "t"))
    assert_one_line_error(listed, "no lineagelog database")


def test_an_as_of_that_is_neither_time_nor_position_is_one_line(stores):
    db, store, _ = stores

    result = lineagelog("lineage", "numbers", "--as-of", "last tuesday", db=db, store=store)

    assert_one_line_error(result, "'last tuesday'")


def test_a_negative_recovery_timeout_is_a_usage_error(stores):
    db, store, _ = stores

    result = lineagelog("runs", "recover", "--timeout", "-1", db=db, store=store)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--timeout" in result.stderr and "greater than or equal to 0" in result.stderr


def test_a_missing_import_file_is_one_line(stores):
    db, store, tmp_path = stores

    result = lineagelog("events", "import", str(tmp_path / "nope.jsonl"), db=db, store=store)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nope.jsonl" in result.stderr


HUGE = str(10**30)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("runs", "list", "--limit", HUGE), "--limit"),
        (("artifacts", "list", "--limit", HUGE), "--limit"),
        (("cache", "list", "--limit", HUGE), "--limit"),
        (("lineage", "numbers", "--depth", HUGE), "--depth"),
        (("events", "export", "--since", HUGE), "--since"),
        (("lineage", "numbers", "--as-of", HUGE), "--as-of"),
        (("lineage", "numbers", "--as-of", "²"), "--as-of"),
        (("replay", "--until", HUGE), "--until '1000"),
        (("replay", "--until", "last tuesday"), "--until 'last tuesday'"),
    ],
)
def test_numbers_are_checked_before_they_reach_sql(stores, args, named):
    db, store, _ = stores

    result = lineagelog(*args, db=db, store=store)

    assert_one_line_error(result, named)


def test_a_confirmation_without_a_terminal_names_the_flag_that_skips_it(stores):
    db, store, _ = stores
    before = _files(Path(store))

    result = lineagelog("artifacts", "delete", "numbers:1", db=db, store=store)

    assert_one_line_error(result, "-y")
    assert result.returncode == 1  # not 130, as for an interrupt
    assert _files(Path(store)) == before


def test_version_and_export_to_standard_output(stores):
    db, store, _ = stores

    version = run_cli("--version")
    exported = lineagelog("events", "export", db=db, store=store)

    assert version.returncode == 0 and version.stdout.startswith("lineagelog ")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith('{"format":"lineagelog-events"')
