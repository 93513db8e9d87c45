"""Tags as ZenML's documentation uses them (imports changed to ``lineagelog.api``).

The code in each test follows ZenML's "Tags" and "Tag your pipeline runs" pages;
the assertions check what a user can see afterwards: a run's and an artifact
version's tags, filtered lists, the events recorded, and that every view of
them survives a rebuild, the audit, an export/import and ``as_of``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from views import view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.api import (
    Client,
    InvalidTagError,
    InvalidTagTargetError,
    Tag,
    add_tags,
    pipeline,
    remove_tags,
    step,
)
from lineagelog.api.config import resolve_settings
from lineagelog.api.context import build_context, open_context
from lineagelog.api.tagging import Tagger


@step
def data_loader() -> Annotated[list[int], "my_output"]:
    return [1, 2, 3]


@step
def tagging_step() -> None:
    add_tags(tags=["my_tag"])


@step
def single_output_step() -> Annotated[int, "accuracy"]:
    add_tags(tags=["inferred_tag"], infer_artifact=True)
    return 1


@step
def two_output_step() -> tuple[Annotated[int, "train"], Annotated[int, "test"]]:
    add_tags(tags=["holdout"], artifact_name="test", infer_artifact=True)
    return 1, 2


@pipeline(tags=["my_tag"])
def my_pipeline() -> None:
    data_loader()


@pipeline(tags=["not_an_exclusive_tag", Tag(name="an_exclusive_tag", exclusive=True)])
def exclusive_pipeline() -> None:
    data_loader()


@pipeline(tags=["normal_tag", Tag(name="cascade_tag", cascade=True)])
def cascade_pipeline() -> None:
    data_loader()
    single_output_step()


@pipeline(enable_cache=False)
def step_tagging_pipeline() -> None:
    tagging_step()
    single_output_step()
    two_output_step()


def _event_types(client: Client) -> list[str]:
    return [type(r.event).__name__ for r in client.context.events.iter_all()]


def test_the_pipeline_decorator_tags_every_run_and_runs_are_listed_by_tag(
    sqlite_stores: tuple[str, str],
) -> None:
    first = my_pipeline()
    other = step_tagging_pipeline.with_options(tags=["other"])()

    client = Client()
    assert first.tags == ("my_tag",)
    assert [r.id for r in client.list_runs(tag="my_tag")] == [other.id, first.id]
    assert [r.id for r in client.list_runs(tag="other")] == [other.id]
    assert _event_types(client).count("RunTagged") == 3  # my_tag; other, and my_tag from a step


def test_tags_from_the_decorator_with_options_and_configure_are_merged_onto_the_run(
    sqlite_stores: tuple[str, str],
) -> None:
    @pipeline(tags=["tag_on_decorator"])
    def tagged() -> None:
        data_loader()

    tagged.configure(tags=["tag_in_configure"])
    run = tagged.with_options(tags=["tag_on_with_options"])()
    replaced = tagged.with_options(tags=["only_this"], merge=False)()

    assert run.tags == ("tag_in_configure", "tag_on_decorator", "tag_on_with_options")
    assert replaced.tags == ("only_this",)
    assert tagged.tags == [Tag("tag_on_decorator"), Tag("tag_in_configure")]


def test_add_tags_inside_a_step_without_arguments_tags_the_run(
    sqlite_stores: tuple[str, str],
) -> None:
    run = step_tagging_pipeline()

    assert Client().get_run(run.id).tags == ("my_tag",)


def test_add_tags_with_infer_artifact_tags_the_output_of_the_step_calling_it(
    sqlite_stores: tuple[str, str],
) -> None:
    run = step_tagging_pipeline()

    assert run.steps["single_output_step"].outputs["accuracy"].tags == ("inferred_tag",)
    outputs = run.steps["two_output_step"].outputs
    assert (outputs["train"].tags, outputs["test"].tags) == ((), ("holdout",))


def test_infer_artifact_with_an_output_the_step_does_not_have_fails_the_step_naming_it(
    sqlite_stores: tuple[str, str],
) -> None:
    @step
    def wrong_output() -> Annotated[int, "accuracy"]:
        add_tags(tags=["x"], artifact_name="loss", infer_artifact=True)
        return 1

    @pipeline
    def wrong() -> None:
        wrong_output()

    with pytest.raises(Exception, match="failed at step 'wrong_output'") as failed:
        wrong()

    cause = failed.value.__cause__
    assert isinstance(cause, InvalidTagTargetError)
    assert "has no output 'loss'; its outputs are ['accuracy']" in str(cause)


def test_runs_are_tagged_and_untagged_by_name_or_id_outside_a_step(
    sqlite_stores: tuple[str, str],
) -> None:
    run = my_pipeline()

    add_tags(tags=["my_tag", "reviewed"], run=run.run_name)
    add_tags(tags=["approved"], run=run.id)
    remove_tags(tags=["my_tag"], run=str(run.id)[:8])

    assert Client().get_run(run.id).tags == ("approved", "reviewed")


def test_artifact_versions_are_tagged_by_name_and_version_or_by_id(
    sqlite_stores: tuple[str, str],
) -> None:
    my_pipeline()
    my_pipeline.with_options(enable_cache=False)()
    client = Client()
    second = client.get_artifact_version("my_output", 2)

    add_tags(tags=["my_tag"], artifact_name="my_output", artifact_version="1")
    add_tags(tags=["checked"], artifact_version_id=second.id)
    remove_tags(tags=["my_tag"], artifact_name="my_output", artifact_version="1")

    assert [(v.version, v.tags) for v in client.list_artifact_versions("my_output")] == [
        ("1", ()),
        ("2", ("checked",)),
    ]
    assert _event_types(client).count("VersionUntagged") == 1


def test_an_exclusive_tag_is_on_the_latest_run_only_and_the_move_is_recorded(
    sqlite_stores: tuple[str, str],
) -> None:
    first = exclusive_pipeline()
    client = Client()
    before_second = client.context.events.max_position()
    second = exclusive_pipeline.with_options(enable_cache=False)()

    assert client.get_run(first.id).tags == ("not_an_exclusive_tag",)
    assert client.get_run(second.id).tags == ("an_exclusive_tag", "not_an_exclusive_tag")
    assert [r.id for r in client.list_runs(tag="an_exclusive_tag")] == [second.id]
    assert _event_types(client).count("RunUntagged") == 1
    past = client.as_of(before_second)
    assert [r.id for r in past.list_runs(tag="an_exclusive_tag")] == [first.id]
    assert past.get_run(first.id).tags == ("an_exclusive_tag", "not_an_exclusive_tag")


def test_an_exclusive_tag_stays_exclusive_when_used_by_its_bare_name(
    sqlite_stores: tuple[str, str],
) -> None:
    first = exclusive_pipeline()
    second = exclusive_pipeline.with_options(enable_cache=False)()

    add_tags(tags=["an_exclusive_tag"], run=first.id)

    client = Client()
    assert [r.id for r in client.list_runs(tag="an_exclusive_tag")] == [first.id]
    assert "an_exclusive_tag" not in client.get_run(second.id).tags
    with pytest.raises(InvalidTagError, match="'an_exclusive_tag' is an exclusive tag"):
        add_tags(tags=[Tag(name="an_exclusive_tag", exclusive=False)], run=second.id)


def test_a_tag_created_exclusive_beforehand_is_exclusive_on_the_pipeline_decorator(
    sqlite_stores: tuple[str, str],
) -> None:
    client = Client()
    before = client.context.events.max_position()
    Client().create_tag(name="an_exclusive_tag", exclusive=True)

    @pipeline(tags=["an_exclusive_tag"], enable_cache=False)
    def my_pipeline() -> None:
        data_loader()

    my_pipeline()
    latest = my_pipeline()

    assert [r.id for r in client.list_runs(tag="an_exclusive_tag")] == [latest.id]
    assert [(t.name, t.exclusive) for t in client.list_tags()] == [("an_exclusive_tag", True)]
    assert client.as_of(before).list_tags() == []
    with pytest.raises(InvalidTagError, match="'an_exclusive_tag' exists already"):
        client.create_tag(name="an_exclusive_tag")


def test_an_exclusive_tag_moves_between_versions_of_one_artifact(
    sqlite_stores: tuple[str, str],
) -> None:
    my_pipeline()
    my_pipeline.with_options(enable_cache=False)()

    add_tags(
        tags=[Tag(name="production", exclusive=True)],
        artifact_name="my_output",
        artifact_version="1",
    )
    add_tags(tags=["production"], artifact_name="my_output", artifact_version="2")

    versions = Client().list_artifact_versions(tag="production")
    assert [(v.name, v.version) for v in versions] == [("my_output", "2")]


def test_a_cascade_tag_goes_on_every_artifact_version_the_run_writes(
    sqlite_stores: tuple[str, str],
) -> None:
    run = cascade_pipeline()

    assert run.tags == ("cascade_tag", "normal_tag")
    loader = run.steps["data_loader"].outputs["my_output"]
    scored = run.steps["single_output_step"].outputs["accuracy"]
    assert loader.tags == ("cascade_tag",)
    assert scored.tags == ("cascade_tag", "inferred_tag")


def test_tagging_refuses_what_zenml_refuses_or_lineagelog_cannot_tag(
    sqlite_stores: tuple[str, str],
) -> None:
    run = my_pipeline()

    with pytest.raises(InvalidTagTargetError, match="no step is running; name what to tag"):
        add_tags(tags=["my_tag"])
    with pytest.raises(ValueError, match="does not name one thing to tag"):
        add_tags(tags=["my_tag"], run=run.id, artifact_name="my_output")
    with pytest.raises(InvalidTagError, match="only be used with the pipeline decorator"):
        add_tags(tags=[Tag(name="c", cascade=True)], run=run.id)
    with pytest.raises(InvalidTagTargetError, match="lineagelog does not tag a pipeline"):
        add_tags(tags=["one"], pipeline="my_pipeline")
    with pytest.raises(InvalidTagError, match="colours are a ZenML dashboard setting"):
        Tag(name="blue", color="blue")
    with pytest.raises(InvalidTagError, match="must be a non-empty string"):
        add_tags(tags=[""], run=run.id)
    assert Client().get_run(run.id).tags == ("my_tag",)


def test_rebuilt_views_equal_the_incremental_ones_and_the_audit_is_clean(
    sqlite_stores: tuple[str, str],
) -> None:
    exclusive_pipeline()
    exclusive_pipeline.with_options(enable_cache=False)()
    cascade_pipeline()
    run = step_tagging_pipeline()
    remove_tags(tags=["my_tag"], run=run.id)
    context = open_context()
    context.catch_up()
    incremental = view_rows(context)

    context.projector.rebuild()

    assert view_rows(context) == incremental
    assert Client().audit().ok


def test_an_exported_and_imported_history_has_the_same_tags(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    exclusive_pipeline()
    exclusive_pipeline.with_options(enable_cache=False)()
    cascade_pipeline()
    source = Client()
    exported = tmp_path / "events.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(source.context.events, out)

    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "artifacts"))
    with exported.open(encoding="utf-8") as events:
        import_events(copy.context.events, events)

    assert copy.audit().ok
    assert [(r.id, r.tags) for r in copy.list_runs()] == [
        (r.id, r.tags) for r in source.list_runs()
    ]
    assert [(v.id, v.tags) for v in copy.list_artifact_versions()] == [
        (v.id, v.tags) for v in source.list_artifact_versions()
    ]
    assert _event_types(copy).count("TagCreated") == 5  # with `inferred_tag` from a step


def test_a_run_completes_when_another_writer_moves_its_exclusive_tag_while_it_runs(
    sqlite_stores: tuple[str, str],
) -> None:
    earlier = exclusive_pipeline()
    other_writer = build_context(resolve_settings())  # its own repository, as another process

    @step
    def moves_the_tag_away() -> None:
        Tagger(other_writer).tag_run(earlier.id, [Tag("an_exclusive_tag")])

    @pipeline(name="exclusive_pipeline", tags=[Tag(name="an_exclusive_tag", exclusive=True)])
    def long_running() -> None:
        moves_the_tag_away()

    try:
        run = long_running()
    finally:
        other_writer.close()

    assert run.status == "completed"
    client = Client()
    assert [r.id for r in client.list_runs(tag="an_exclusive_tag")] == [earlier.id]


def test_two_runs_taking_an_exclusive_tag_at_the_same_moment_end_with_one_holder(
    sqlite_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lineagelog.domain.tag_name import TagName

    first, second = my_pipeline(), my_pipeline.with_options(enable_cache=False)()
    client = Client()
    client.create_tag("champion", exclusive=True)
    take = TagName.take_for_run
    raced: list[bool] = []

    def racing(self: TagName, pipeline_name: str, run_id: str) -> str | None:
        if not raced:  # the first taker has read the tag; the second takes it meanwhile
            raced.append(True)
            Tagger(client.context).tag_run(second.id, [Tag("champion")])
        return take(self, pipeline_name, run_id)

    monkeypatch.setattr(TagName, "take_for_run", racing)
    Tagger(client.context).tag_run(first.id, [Tag("champion")])

    assert raced
    assert [r.id for r in client.list_runs(tag="champion")] == [first.id]
    assert "champion" not in client.get_run(second.id).tags
    assert client.audit(verify_artifacts=False).ok


def test_an_exclusive_tag_given_to_save_artifact_moves_as_on_any_other_path(
    sqlite_stores: tuple[str, str],
) -> None:
    from lineagelog.api import save_artifact

    client = Client()
    client.create_tag("best", exclusive=True)
    save_artifact([1], "scores", tags=["best"])
    save_artifact([2], "scores", tags=["best"])

    tagged = [str(v.version) for v in client.list_artifact_versions("scores", tag="best")]
    assert tagged == ["2"]
    assert client.audit(verify_artifacts=False).ok
