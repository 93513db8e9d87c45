"""Bad input through the API and configuration: a clear error naming the value, nothing written."""

from __future__ import annotations

import io
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pytest
from views import view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.api import Client, pipeline, step
from lineagelog.api.context import close_contexts
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    ConfigurationError,
    IntegrityError,
    InvalidArtifactNameError,
    LineageError,
    NoMaterializerError,
    NotFoundError,
    PipelineDefinitionError,
    RunFailedError,
    RunNotFoundError,
    StorageError,
)


@step
def make_numbers(n: int = 4) -> Annotated[list[int], "numbers"]:
    return list(range(n))


@step
def add_up(numbers: list[int]) -> Annotated[int, "total"]:
    return sum(numbers)


@pipeline
def counting(n: int = 4) -> None:
    add_up(make_numbers(n=n))


def _files(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def store(sqlite_store_urls: tuple[str, str]) -> tuple[str, str]:
    """A real SQLite log and artifact folder holding one completed run."""
    db, artifacts = sqlite_store_urls
    counting.run(database_url=db, artifact_store=artifacts)
    return db, artifacts


@contextmanager
def nothing_changes(db: str, artifacts: str) -> Iterator[Client]:
    """Assert that the log's end and every artifact byte are the same afterwards."""
    client = Client(db, artifacts)
    position = client.context.events.max_position()
    files = _files(Path(artifacts))
    yield client
    assert client.context.events.max_position() == position
    assert _files(Path(artifacts)) == files


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [("mongodb://db/lineage", "mongodb"), ("not a url", "not a url"), ("sqlite:", "sqlite:")],
)
def test_an_unknown_or_malformed_database_url_is_refused_by_name(url, shown, tmp_path):
    with pytest.raises(ConfigurationError, match="database URL") as raised:
        Client(url, str(tmp_path / "artifacts"))

    assert shown in str(raised.value)
    assert "use sqlite:///" in str(raised.value)
    assert not (tmp_path / "artifacts").exists()


def test_an_unreachable_database_is_a_storage_error_without_the_password(tmp_path):
    with pytest.raises(StorageError, match=r"127\.0\.0\.1") as raised:
        Client("postgresql://bob:s3cret@127.0.0.1:1/lineage", str(tmp_path / "a"))

    assert "s3cret" not in str(raised.value)
    assert "bob:***@" in str(raised.value)


def test_an_unsupported_artifact_store_protocol_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigurationError, match="'foo'"):
        Client(f"sqlite:///{tmp_path / 'lineage.db'}", "foo://bucket/prefix")


def test_a_database_from_a_newer_schema_is_refused_and_left_untouched(store):
    db, artifacts = store
    close_contexts()
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE lineagelog_schema SET value = '99' WHERE key = 'views'")
    before = Path(path).read_bytes()

    with pytest.raises(ConfigurationError, match=r"schema version '99'.*upgrade lineagelog"):
        Client(db, artifacts)

    assert Path(path).read_bytes() == before


# -- pipeline definitions ------------------------------------------------------------


def test_a_step_output_with_no_materializer_fails_the_run_naming_the_type(store):
    db, artifacts = store

    @step
    def make_lock() -> Any:
        return threading.Lock()

    @pipeline
    def locking() -> None:
        make_lock()

    with pytest.raises(RunFailedError) as raised:
        locking.run(database_url=db, artifact_store=artifacts)

    assert isinstance(raised.value.__cause__, NoMaterializerError)
    assert "lock" in str(raised.value.__cause__).lower()
    assert Client(db, artifacts).get_run(raised.value.run_id).status == "failed"


def test_outputs_that_do_not_match_their_annotation_count_fail_the_step(store):
    db, artifacts = store

    @step
    def two() -> tuple[Annotated[int, "a"], Annotated[int, "b"]]:
        if mismatched is None:  # never: a literal return declares the two outputs
            return 1, 2
        return 1  # type: ignore[return-value]

    @pipeline
    def mismatched() -> None:
        two()

    with pytest.raises(RunFailedError) as raised:
        mismatched.run(database_url=db, artifact_store=artifacts)

    assert isinstance(raised.value.__cause__, PipelineDefinitionError)
    assert "declares 2 outputs ['a', 'b'] but returned int" in str(raised.value.__cause__)


def test_a_pipeline_that_calls_itself_is_refused_before_anything_is_written(store):
    db, artifacts = store

    @pipeline
    def again() -> None:
        make_numbers()
        again()

    with nothing_changes(db, artifacts), pytest.raises(PipelineDefinitionError, match="'again'"):
        again.run(database_url=db, artifact_store=artifacts)


def test_a_step_that_starts_a_pipeline_from_its_body_fails_with_a_clear_error(store):
    db, artifacts = store

    @step
    def sneaky() -> int:
        counting.run(database_url=db, artifact_store=artifacts)
        return 1

    @pipeline
    def outer() -> None:
        sneaky()

    with pytest.raises(RunFailedError) as raised:
        outer.run(database_url=db, artifact_store=artifacts)

    cause = raised.value.__cause__
    assert isinstance(cause, PipelineDefinitionError)
    assert "'counting' was called from inside step 'sneaky' of pipeline 'outer'" in str(cause)
    assert len(Client(db, artifacts).list_runs(pipeline="counting")) == 1


def test_a_step_calling_a_step_in_its_body_runs_it_as_a_plain_function(store):
    db, artifacts = store

    @step
    def outer_step(n: int) -> Annotated[int, "via_plain_call"]:
        return add_up(list(range(n)))

    @pipeline
    def nested() -> None:
        outer_step(n=5)

    run = nested.run(database_url=db, artifact_store=artifacts)

    assert list(run.steps) == ["outer_step"]
    assert run.steps["outer_step"].outputs["via_plain_call"].load() == 10


def test_a_recursive_step_is_plain_recursion_inside_its_body(store):
    db, artifacts = store

    @step
    def factorial(n: int) -> Annotated[int, "factorial"]:
        return 1 if n <= 1 else n * factorial.func(n - 1)

    @pipeline
    def recursive() -> None:
        factorial(n=5)

    run = recursive.run(database_url=db, artifact_store=artifacts)

    assert run.steps["factorial"].outputs["factorial"].load() == 120


def test_a_non_json_pipeline_parameter_is_refused_before_anything_is_written(store):
    db, artifacts = store

    with nothing_changes(db, artifacts), pytest.raises(PipelineDefinitionError, match="'n'"):
        counting.run(n=object(), database_url=db, artifact_store=artifacts)


def test_a_non_json_step_parameter_is_refused_before_anything_is_written(store):
    db, artifacts = store

    @pipeline
    def bad_parameter() -> None:
        add_up(numbers=threading.Lock())

    with nothing_changes(db, artifacts), pytest.raises(PipelineDefinitionError, match="'numbers'"):
        bad_parameter.run(database_url=db, artifact_store=artifacts)


def test_a_pipeline_calling_no_step_is_refused(store):
    db, artifacts = store

    @pipeline
    def empty() -> None:
        pass

    with nothing_changes(db, artifacts), pytest.raises(PipelineDefinitionError, match="no steps"):
        empty.run(database_url=db, artifact_store=artifacts)


def test_a_step_called_with_arguments_that_do_not_fit_is_refused(store):
    db, artifacts = store

    @pipeline
    def misfit() -> None:
        add_up(1, 2, 3)

    with nothing_changes(db, artifacts), pytest.raises(PipelineDefinitionError, match="'add_up'"):
        misfit.run(database_url=db, artifact_store=artifacts)


# -- artifact names -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../escape", "a/b", "nul\x00byte", "bell\x07", "new\nline", "x" * 1000, "", ".hidden", "/abs"],
    ids=["dotdot", "slash", "nul", "control", "newline", "1000-chars", "empty", "dot", "absolute"],
)
def test_a_step_declaring_an_unsafe_artifact_name_is_refused_at_definition(name):
    def bad() -> int:
        return 1

    bad.__annotations__ = {"return": Annotated[int, name]}

    with pytest.raises(InvalidArtifactNameError) as raised:
        step(bad)

    assert "artifact name" in str(raised.value)
    assert len(str(raised.value)) < 400  # a 1,000-character name is cut short in the message


@pytest.mark.parametrize("name", ["../escape", "a/../../b", "x\x00y", "x" * 1000])
def test_registering_under_an_unsafe_name_writes_nothing(store, tmp_path, name):
    db, artifacts = store
    source = tmp_path / "data.txt"
    source.write_text("hello")

    with nothing_changes(db, artifacts) as client, pytest.raises(InvalidArtifactNameError):
        client.register_artifact(source, name)


# -- what does not exist --------------------------------------------------------------


def test_a_version_that_does_not_exist_names_the_latest(store):
    db, artifacts = store

    with nothing_changes(db, artifacts) as client, pytest.raises(ArtifactNotFoundError) as raised:
        client.get_artifact_version("numbers", 7)

    assert "7" in str(raised.value)


def test_a_version_that_is_not_a_number_is_refused(store):
    db, artifacts = store

    with (
        nothing_changes(db, artifacts) as client,
        pytest.raises(NotFoundError, match="'latest-ish'"),
    ):
        client.get_artifact_version("numbers", "latest-ish")


def test_an_artifact_name_that_does_not_exist_says_how_to_list_names(store):
    db, artifacts = store

    with (
        nothing_changes(db, artifacts) as client,
        pytest.raises(ArtifactNotFoundError, match="artifacts list"),
    ):
        client.get_artifact_version("no_such_name")


def test_a_run_id_that_is_not_a_uuid_is_refused(store):
    db, artifacts = store

    with nothing_changes(db, artifacts) as client, pytest.raises(NotFoundError, match="'run-42'"):
        client.get_run("run-42")


def test_a_run_that_does_not_exist_is_not_found(store):
    db, artifacts = store

    with (
        nothing_changes(db, artifacts) as client,
        pytest.raises(RunNotFoundError, match="runs list"),
    ):
        client.get_run("00000000-0000-4000-8000-000000000000")


def test_tagging_a_version_that_does_not_exist_writes_nothing(store):
    db, artifacts = store

    with nothing_changes(db, artifacts) as client, pytest.raises(ArtifactNotFoundError):
        client.tag_artifact("numbers", 99, "prod")


def test_as_of_something_that_is_not_a_time_or_position_is_refused(store):
    db, artifacts = store

    with nothing_changes(db, artifacts) as client, pytest.raises(LineageError, match="'yesterday'"):
        client.as_of("yesterday")  # type: ignore[arg-type]


# -- corrupted artifact bytes -----------------------------------------------------------


def _stored_file(client: Client, name: str) -> Path:
    version = client.get_artifact_version(name)
    return Path(version.uri.removeprefix("file://")) / "data.json"


def test_load_with_verify_refuses_corrupted_bytes(store):
    db, artifacts = store
    client = Client(db, artifacts)
    _stored_file(client, "numbers").write_bytes(b"[0, 1, 2, 999]")
    position = client.context.events.max_position()

    with pytest.raises(IntegrityError, match="numbers"):
        client.get_artifact_version("numbers").load(verify=True)

    assert client.context.events.max_position() == position


def test_a_plain_load_of_a_corrupted_json_artifact_is_a_clear_error(store):
    db, artifacts = store
    client = Client(db, artifacts)
    _stored_file(client, "numbers").write_bytes(b"[0, 1, 2,")

    with pytest.raises(LineageError) as raised:
        client.get_artifact_version("numbers").load()

    assert "artifact numbers:1" in str(raised.value)
    assert "verify=True" in str(raised.value)


# -- event files -------------------------------------------------------------------------


def _exported(db: str, artifacts: str) -> str:
    out = io.StringIO()
    export_events(Client(db, artifacts).context.events, out)
    return out.getvalue()


def test_a_truncated_event_file_imports_nothing(store, tmp_path):
    db, artifacts = store
    text = _exported(db, artifacts)
    target = Client(f"sqlite:///{tmp_path / 'target.db'}", str(tmp_path / "target"))

    with pytest.raises(LineageError, match="nothing was imported"):
        import_events(target.context.events, io.StringIO(text[: len(text) // 2]))

    assert target.context.events.max_position() == 0


def test_an_event_file_from_another_format_version_imports_nothing(store, tmp_path):
    db, artifacts = store
    header, rest = _exported(db, artifacts).split("\n", 1)
    other = header.replace('"version": 1', '"version": 99').replace('"version":1', '"version":99')
    assert other != header
    target = Client(f"sqlite:///{tmp_path / 'target.db'}", str(tmp_path / "target"))

    with pytest.raises(LineageError, match="format version 99"):
        import_events(target.context.events, io.StringIO(other + "\n" + rest))

    assert target.context.events.max_position() == 0


def test_an_event_file_that_is_not_one_imports_nothing(store, tmp_path):
    target = Client(f"sqlite:///{tmp_path / 'target.db'}", str(tmp_path / "target"))

    with pytest.raises(LineageError, match="header"):
        import_events(target.context.events, io.StringIO("id,name\n1,model\n"))

    assert target.context.events.max_position() == 0


# -- concurrency -------------------------------------------------------------------------


def test_a_rebuild_racing_a_catch_up_leaves_views_equal_to_a_clean_rebuild(store):
    db, artifacts = store
    for n in range(5, 9):
        counting.run(n=n, database_url=db, artifact_store=artifacts)
    client = Client(db, artifacts)
    projector = client.context.projector
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            for _ in range(3):
                projector.rebuild()
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=rebuild), threading.Thread(target=rebuild)]
    for thread in threads:
        thread.start()
    for _ in range(10):
        projector.catch_up()
    for thread in threads:
        thread.join(timeout=120)
    projector.catch_up()
    raced = view_rows(client.context)
    projector.rebuild()

    assert errors == []
    assert raced == view_rows(client.context)
    assert len(client.list_runs()) == 5
