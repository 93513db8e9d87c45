"""The aggregate repository: load, command, save in one append, retry on a conflict."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.repository import AggregateRepository, Changes
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.errors import ConcurrencyConflict, LineageError, NotFoundError
from lineagelog.domain.names import artifact_name_id
from lineagelog.domain.run import PipelineRun

NAME_ID = artifact_name_id("model")


@pytest.fixture(params=["memory", "sqlite"])
def events(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'lineage.db'}"
    store = EventStore(url)
    yield store
    store.close()


def _register(repository: AggregateRepository, **kwargs: object) -> int:
    return repository.change(
        NAME_ID,
        ArtifactName,
        lambda name: name.register_version(uuid.uuid4(), None, "sha256:0"),
        create=lambda: ArtifactName.register_name("model"),
        **kwargs,  # type: ignore[arg-type]
    )


def _new_run() -> PipelineRun:
    return PipelineRun.start(pipeline="p", run_name="r", parameters={}, dag={}, environment={})


def test_a_stale_aggregate_conflicts_and_the_retry_reloads_it(events: EventStore) -> None:
    ours, theirs = AggregateRepository(events), AggregateRepository(events)
    _register(ours)  # ours now keeps "model" at version 1
    _register(theirs)  # another writer takes version 2 behind our back
    attempts = []

    version = ours.change(
        NAME_ID,
        ArtifactName,
        lambda name: (
            attempts.append(name.latest_version)
            or name.register_version(uuid.uuid4(), None, "sha256:0")
        ),
    )

    assert version == 3
    assert attempts == [1, 2]  # the stale copy first, then the stream as the log has it
    assert ours.get(NAME_ID, ArtifactName).versions.keys() == {1, 2, 3}


def test_giving_up_names_the_change_and_the_stream_and_says_what_to_do(
    events: EventStore,
) -> None:
    ours, theirs = AggregateRepository(events), AggregateRepository(events)
    _register(ours)
    calls = []

    def always_overtaken(changes: Changes) -> None:
        name = changes.get(NAME_ID, ArtifactName)
        calls.append(name.version)
        _register(theirs)  # someone appends between our read and our save, every time
        name.tag(1, "prod")

    with pytest.raises(ConcurrencyConflict) as caught:
        ours.change_together(always_overtaken, attempts=3, what="tag artifact 'model'")

    message = str(caught.value)
    assert isinstance(caught.value, LineageError)
    assert "could not tag artifact 'model' after 3 attempt(s)" in message
    assert f"ArtifactName {NAME_ID}" in message and "try again" in message
    assert len(calls) == 3
    assert ours.get(NAME_ID, ArtifactName).tags.get(1, set()) == set()


def test_a_conflict_on_one_aggregate_appends_none_of_the_others(events: EventStore) -> None:
    ours, theirs = AggregateRepository(events), AggregateRepository(events)
    _register(ours)
    _register(theirs)  # our kept "model" is stale now
    before = events.max_position()
    runs: list[PipelineRun] = []

    def run_and_tag(changes: Changes) -> None:
        runs.append(changes.add(_new_run()))
        changes.get(NAME_ID, ArtifactName).tag(1, "prod")

    with pytest.raises(ConcurrencyConflict):
        ours.change_together(run_and_tag, attempts=1)

    assert events.max_position() == before
    with pytest.raises(NotFoundError):
        ours.get(runs[0].id, PipelineRun)


def test_saves_several_aggregates_in_one_append(events: EventStore) -> None:
    repository = AggregateRepository(events)
    positions: list[int] = []

    def run_and_name(changes: Changes) -> uuid.UUID:
        changes.get(NAME_ID, ArtifactName, create=lambda: ArtifactName.register_name("model"))
        return changes.add(_new_run()).id

    run_id = repository.change_together(run_and_name, on_saved=positions.extend)

    assert len(positions) == 2
    assert repository.get(run_id, PipelineRun).run_name == "r"
    assert repository.get(NAME_ID, ArtifactName).name == "model"


def test_a_command_that_raises_leaves_no_event_applied(events: EventStore) -> None:
    repository = AggregateRepository(events)
    _register(repository)

    def register_then_fail(name: ArtifactName) -> None:
        name.register_version(uuid.uuid4(), None, "sha256:0")
        raise ValueError("the materializer failed")

    with pytest.raises(ValueError, match="materializer failed"):
        repository.change(NAME_ID, ArtifactName, register_then_fail)

    # The next change starts from the log, not from the half-changed copy: no gap, no conflict.
    assert _register(repository, attempts=1) == 2


def test_get_of_a_missing_or_other_aggregate_is_not_found(events: EventStore) -> None:
    repository = AggregateRepository(events)
    run_id = repository.change_together(lambda changes: changes.add(_new_run()).id)
    missing = uuid.uuid4()

    with pytest.raises(NotFoundError, match=f"no PipelineRun with id {missing}: its stream"):
        repository.get(missing, PipelineRun)
    with pytest.raises(NotFoundError, match="holds a PipelineRun"):
        repository.get(run_id, ArtifactName)
    with pytest.raises(NotFoundError, match="no ArtifactName"):
        repository.change(missing, ArtifactName, lambda name: name.tag(1, "prod"))
