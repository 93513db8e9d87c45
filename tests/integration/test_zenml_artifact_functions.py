"""save_artifact, load_artifact and external inputs, written as ZenML's docs write them.

From ZenML's "Passing artifacts between pipelines" and "ExternalArtifact" pages,
with only the imports changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from artifact_history import check_history

from lineagelog.api import (
    Client,
    DuplicateVersionError,
    ExternalArtifact,
    PipelineDefinitionError,
    load_artifact,
    pipeline,
    save_artifact,
    step,
)


def _event_types(client: Client) -> list[str]:
    return [type(r.event).__name__ for r in client.context.events.iter_all()]


def test_save_and_load_outside_a_pipeline_with_a_version_name(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    before = Client().context.events.max_position()

    saved = save_artifact(
        [1, 2, 3], name="my_numbers", version="1.0", tags=["v1"], user_metadata={"n": 3}
    )
    later = save_artifact([4], name="my_numbers")

    assert (saved.version, saved.number, saved.tags) == ("1.0", 1, ("v1",))
    assert saved.user_metadata == {"n": 3} and saved.run_metadata["n"] == 3
    assert saved.producer_step_run_id is None
    assert (later.version, later.number) == ("2", 2)
    assert load_artifact("my_numbers", "1.0") == [1, 2, 3]
    assert load_artifact("my_numbers") == [4]
    assert load_artifact(saved.id) == [1, 2, 3]
    with pytest.raises(DuplicateVersionError, match=r"'1\.0'"):
        save_artifact([9], name="my_numbers", version="1.0")
    assert Client().as_of(before).list_artifact_versions() == []
    check_history(Client(), tmp_path)


@step
def f() -> Annotated[int, "one"]:
    save_artifact(data=[1, 2], name="saved_in_step", version="draft")
    return 1


@pipeline
def saving_pipeline() -> None:
    f()


def test_an_artifact_saved_inside_a_step_is_linked_to_its_step_run(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    run = saving_pipeline()

    client = Client()
    step_run = client.get_run(run.id).steps["f"]
    saved = client.get_artifact_version("saved_in_step", "draft")
    assert step_run.outputs["saved_in_step"].id == saved.id
    assert saved.producer_step_run_id == step_run.id
    assert str(step_run.id) in client.lineage("saved_in_step:draft", direction="upstream").nodes
    written = [
        r.event.save_type
        for r in client.context.events.iter_all()
        if type(r.event).__name__ == "ArtifactWritten"
    ]
    assert sorted(written) == ["manual", "step_output"]
    check_history(client, tmp_path)


@step
def clash() -> Annotated[int, "one"]:
    save_artifact(data=2, name="one")
    return 1


@pipeline
def clashing_pipeline() -> None:
    clash()


def test_saving_inside_a_step_under_an_output_name_is_refused(
    sqlite_stores: tuple[str, str],
) -> None:
    with pytest.raises(Exception, match="also the name of one of its outputs"):
        clashing_pipeline()


calls: list[list[int]] = []


@step
def print_data(data: list[int]) -> Annotated[int, "total"]:
    calls.append(data)
    return sum(data)


@pipeline
def printing_pipeline(values: list[int]) -> None:
    data = ExternalArtifact(value=values)
    print_data(data=data)


def test_an_external_artifact_is_saved_once_consumed_with_lineage_and_cached_by_hash(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    calls.clear()

    first = printing_pipeline(values=[1, 2, 3])
    second = printing_pipeline(values=[1, 2, 3])
    third = printing_pipeline(values=[5])

    client = Client()
    consumed = client.get_run(first.id).steps["print_data"].inputs["data"]
    assert consumed.load() == [1, 2, 3]
    assert consumed.name == "printing_pipeline::print_data::external_data"
    assert str(consumed.id) in client.lineage("total:1", direction="upstream").nodes
    assert client.get_run(second.id).steps["print_data"].cache_hit
    assert not client.get_run(third.id).steps["print_data"].cache_hit
    assert calls == [[1, 2, 3], [5]]
    assert [v.version for v in client.list_artifact_versions(consumed.name)] == ["1", "2", "3"]
    check_history(client, tmp_path)


@pipeline
def reusing_pipeline() -> None:
    print_data(data=Client().get_artifact_version("my_numbers", "1.0"))


def test_an_artifact_version_from_the_client_is_a_step_input(
    sqlite_stores: tuple[str, str],
) -> None:
    calls.clear()
    saved = save_artifact([7, 8], name="my_numbers", version="1.0")

    run = reusing_pipeline()

    assert Client().get_run(run.id).steps["print_data"].inputs["data"].id == saved.id
    assert calls == [[7, 8]]
    assert Client().get_artifact_version("total").load() == 15


def test_external_artifact_lookups_point_to_the_client() -> None:
    with pytest.raises(PipelineDefinitionError, match="get_artifact_version"):
        ExternalArtifact(name="my_numbers")
