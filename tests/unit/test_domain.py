from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lineagelog.domain.artifact_name import (
    ArtifactName,
    DeletedVersionError,
    InvalidTagError,
    VersionInUseError,
)
from lineagelog.domain.base import GENESIS_HASH, event_hash
from lineagelog.domain.cache import CacheIngredients, explain_miss
from lineagelog.domain.canonical import digest
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    DuplicateVersionError,
    InvalidArtifactNameError,
    InvalidVersionError,
)
from lineagelog.domain.names import artifact_name_id, check_artifact_name, tag_name_id
from lineagelog.domain.run import PipelineRun, RunAlreadyEndedError
from lineagelog.domain.step_run import StepRun, StepRunStateError
from lineagelog.domain.tag_name import TagName
from lineagelog.domain.values import CacheOutcome, RunStatus, StepStatus

ONE_SECOND = timedelta(seconds=1)


def start_run() -> PipelineRun:
    return PipelineRun.start(pipeline="p", run_name="r", parameters={}, dag={}, environment={})


def start_step(run_id: uuid.UUID) -> StepRun:
    return StepRun.start(
        run_id=run_id,
        pipeline="p",
        invocation_id="load",
        step_name="load",
        source_ref="m:load",
        code_hash="c" * 64,
        parameters={"n": 1},
        inputs={},
    )


def test_each_event_commits_to_its_predecessor_in_the_stream():
    run = start_run()
    run.complete()

    started, completed = run.collect_events()

    assert started.previous_hash == GENESIS_HASH
    assert completed.previous_hash == event_hash(started)
    assert run.chain_head == event_hash(completed)


def test_changing_any_field_changes_the_event_hash():
    run = start_run()
    (started,) = run.collect_events()
    forged = type(started)(**{**vars(started), "run_name": "other"})

    assert event_hash(forged) != event_hash(started)


def test_a_run_ends_exactly_once():
    run = start_run()
    run.fail("train", "boom")

    with pytest.raises(RunAlreadyEndedError, match="already ended"):
        run.complete()
    assert run.status is RunStatus.FAILED


def test_step_run_records_cache_hit_as_cached_status():
    step = start_step(uuid.uuid4())
    original = uuid.uuid4()

    step.decide_cache(
        cache_key="k",
        outcome=CacheOutcome.HIT,
        reason="same",
        ingredients={},
        original_step_run_id=original,
        reused_outputs={"output": "a"},
    )
    step.succeed(0.1)

    assert step.status is StepStatus.CACHED
    assert step.outputs == {"output": "a"}


def test_step_run_cannot_succeed_before_its_cache_decision():
    step = start_step(uuid.uuid4())

    with pytest.raises(StepRunStateError, match="cache decision"):
        step.succeed(0.1)


def test_a_cache_hit_must_name_the_original_step_run():
    step = start_step(uuid.uuid4())

    with pytest.raises(StepRunStateError, match="original"):
        step.decide_cache(cache_key="k", outcome=CacheOutcome.HIT, reason="", ingredients={})


def test_a_failed_step_run_accepts_no_more_artifacts():
    step = start_step(uuid.uuid4())
    step.decide_cache(cache_key="k", outcome=CacheOutcome.MISS, reason="new", ingredients={})
    step.fail(error_type="ValueError", message="bad", traceback="", duration_s=0.0)

    with pytest.raises(StepRunStateError, match="already ended as 'failed'"):
        step.record_artifact(
            output_name="output",
            artifact_version_id=uuid.uuid4(),
            name="x",
            version=1,
            uri="u",
            materializer="m",
            data_type="builtins:int",
            artifact_type="data",
            content_hash="h",
            size=1,
            metadata={},
            visualizations=[],
        )


def test_artifact_name_hands_out_consecutive_versions():
    name = ArtifactName.register_name("model")

    versions = [name.register_version(uuid.uuid4(), None, "h") for _ in range(3)]

    assert versions == [1, 2, 3]
    assert name.id == artifact_name_id("model")


def test_tagging_a_missing_version_names_the_existing_ones():
    name = ArtifactName.register_name("model")
    name.register_version(uuid.uuid4(), None, "h")

    with pytest.raises(ArtifactNotFoundError, match="no version 5; its versions are 1"):
        name.tag(5, "prod")


def test_a_deleted_version_cannot_be_reused_from_the_cache():
    name = ArtifactName.register_name("model")
    version_id = uuid.uuid4()
    name.register_version(version_id, None, "h")
    name.delete_version(1, "file:///store/model/x", "pruned")

    with pytest.raises(DeletedVersionError, match="model:1 is deleted"):
        name.reuse_version(1, version_id, uuid.uuid4())


def test_reusing_a_version_takes_a_place_in_the_names_stream():
    name = ArtifactName.register_name("model")
    version_id, step_run_id = uuid.uuid4(), uuid.uuid4()
    name.register_version(version_id, None, "h")
    before = name.version

    name.reuse_version(1, version_id, step_run_id)

    (reused,) = [e for e in name.collect_events() if isinstance(e, ArtifactName.VersionReused)]
    assert (reused.version, reused.artifact_version_id, reused.step_run_id) == (
        1,
        version_id,
        step_run_id,
    )
    assert name.version == before + 1


def test_reusing_a_version_under_another_artifact_version_id_is_refused():
    name = ArtifactName.register_name("model")
    name.register_version(uuid.uuid4(), None, "h")

    with pytest.raises(ArtifactNotFoundError, match=r"model:1 is .* in the log, not"):
        name.reuse_version(1, uuid.uuid4(), uuid.uuid4())


def test_a_retention_delete_refuses_a_version_reused_within_its_window():
    name = ArtifactName.register_name("model")
    version_id = uuid.uuid4()
    name.register_version(version_id, None, "h")
    name.reuse_version(1, version_id, uuid.uuid4())
    reused_at = name.last_reused[1]

    with pytest.raises(VersionInUseError, match=r"model:1 was reused by a cache hit"):
        name.delete_version(1, "uri", "pruned", unless_reused_since=reused_at)

    assert name.delete_version(1, "uri", "pruned", unless_reused_since=reused_at + ONE_SECOND)
    assert 1 in name.deleted


def test_tags_must_be_printable():
    name = ArtifactName.register_name("model")
    name.register_version(uuid.uuid4(), None, "h")

    with pytest.raises(InvalidTagError):
        name.tag(1, "bad\ntag")


@pytest.mark.parametrize(
    "bad", ["", "../etc", "a/b", "/abs", "a\\b", "a\x00b", "ctl\x07", ".hidden", "x" * 1000, "a..b"]
)
def test_unsafe_artifact_names_are_refused_with_the_name_in_the_message(bad):
    with pytest.raises(InvalidArtifactNameError) as excinfo:
        check_artifact_name(bad)

    assert "artifact name" in str(excinfo.value)


def test_default_names_with_double_colons_are_accepted():
    assert check_artifact_name("numbers::load::output") == "numbers::load::output"


def test_cache_key_changes_with_every_ingredient():
    base = CacheIngredients("code", {"lr": 0.1}, {"data": "h1"}, {"output": "M"}, "store")
    variants = [
        CacheIngredients("code2", {"lr": 0.1}, {"data": "h1"}, {"output": "M"}, "store"),
        CacheIngredients("code", {"lr": 0.2}, {"data": "h1"}, {"output": "M"}, "store"),
        CacheIngredients("code", {"lr": 0.1}, {"data": "h2"}, {"output": "M"}, "store"),
        CacheIngredients("code", {"lr": 0.1}, {"data": "h1"}, {"output": "N"}, "store"),
        CacheIngredients("code", {"lr": 0.1}, {"data": "h1"}, {"output": "M"}, "store2"),
        CacheIngredients("code", {"lr": 0.1}, {"data": "h1"}, {"output": "M"}, "store", format=1),
    ]

    keys = {v.key for v in variants}

    assert base.key not in keys
    assert len(keys) == len(variants)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ((1, 2), [1, 2]),
        ({1, 2}, [1, 2]),
        ({1}, frozenset({1})),
        (datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00+00:00"),
        ((1,), {"__tuple__": [1]}),
        ([float("nan")], ["nan"]),
    ],
)
def test_cache_key_tells_apart_values_the_log_shows_alike(one, other):
    keys = [CacheIngredients("c", {"p": v}, {}, {}, "s").key for v in (one, other)]

    assert keys[0] != keys[1]


def test_cache_key_ignores_dict_order():
    a = CacheIngredients("c", {"a": 1, "b": 2}, {}, {}, "s")
    b = CacheIngredients("c", {"b": 2, "a": 1}, {}, {}, "s")

    assert a.key == b.key


def test_miss_reasons_name_each_changed_ingredient():
    before = CacheIngredients("c", {"lr": 0.1, "old": 1}, {"data": "h1"}, {"output": "M"}, "s")
    after = CacheIngredients("c", {"lr": 0.2, "new": 2}, {"data": "h2"}, {"output": "M"}, "s")

    reasons = explain_miss(after.as_dict(), before.as_dict())

    assert reasons == [
        "parameter `lr` changed 0.1 -> 0.2",
        "parameter `new` added (2)",
        "parameter `old` removed (was 1)",
        "input `data` changed",
    ]


def test_a_run_is_tagged_and_untagged_once_each_even_after_it_ended():
    run = start_run()
    run.complete()

    run.tag("prod")
    run.tag("prod")
    run.untag("prod")
    run.untag("prod")

    events = [type(e).__name__ for e in run.collect_events()]
    assert events[-2:] == ["RunTagged", "RunUntagged"]
    assert events.count("RunTagged") == 1 and run.tags == set()


def test_a_run_refuses_an_unusable_tag():
    run = start_run()

    with pytest.raises(InvalidTagError, match="control character"):
        run.tag("bad\ttag")


def test_an_exclusive_tag_moves_to_the_version_tagged_last():
    name = ArtifactName.register_name("model")
    for _ in range(3):
        name.register_version(uuid.uuid4(), None, "h")
    name.tag(1, "best", exclusive=True)

    name.tag(3, "best", exclusive=True)
    name.tag(2, "other")

    assert {v: tags for v, tags in name.tags.items() if tags} == {2: {"other"}, 3: {"best"}}
    moved = [type(e).__name__ for e in name.collect_events()][-3:-1]
    assert moved == ["VersionUntagged", "VersionTagged"]


def test_a_tag_keeps_the_exclusive_setting_it_was_created_with():
    tag = TagName.create("latest", exclusive=True)

    tag.check_exclusive(None)
    tag.check_exclusive(True)
    with pytest.raises(InvalidTagError, match="'latest' is an exclusive tag"):
        tag.check_exclusive(False)
    assert tag.id == tag_name_id("latest") != artifact_name_id("latest")


def test_versions_are_named_by_their_number_unless_a_name_is_chosen():
    name = ArtifactName.register_name("model")

    first = name.register_version(uuid.uuid4(), None, "h1")
    second = name.register_version(uuid.uuid4(), None, "h2", version_name="1.0")
    third = name.register_version(uuid.uuid4(), None, "h3")

    assert (first, second, third) == (1, 2, 3)
    assert name.version_names == {1: "1", 2: "1.0", 3: "3"}
    assert (name.number_of("1.0"), name.number_of("3"), name.number_of(1)) == (2, 3, 1)
    assert name.label(2) == "model:1.0"


def test_a_version_name_is_given_once():
    name = ArtifactName.register_name("model")
    name.register_version(uuid.uuid4(), None, "h1", version_name="1.0")

    with pytest.raises(DuplicateVersionError, match=r"already has a version named '1\.0'"):
        name.register_version(uuid.uuid4(), None, "h2", version_name="1.0")
    assert name.latest_version == 1


@pytest.mark.parametrize("bad", ["", "a:b", "x" * 101, "7", "new\nline"])
def test_an_unusable_version_name_is_refused_naming_it(bad: str):
    name = ArtifactName.register_name("model")

    with pytest.raises(InvalidVersionError, match="version"):
        name.register_version(uuid.uuid4(), None, "h", version_name=bad)
    assert name.version_names == {}


def test_an_event_stored_before_version_names_hashes_as_it_was_stored():
    name = ArtifactName.register_name("model")
    name.register_version(uuid.uuid4(), None, "h")
    event = name.collect_events()[-1]
    stored = {k: v for k, v in vars(event).items() if k != "version_name"}
    old = object.__new__(type(event))
    object.__setattr__(old, "__dict__", stored)  # as the event store's mapper rebuilds it

    without = {**stored, "__type__": f"{type(event).__module__}:{type(event).__qualname__}"}

    assert old.version_name is None
    assert event_hash(old) == digest(without)
    assert event_hash(old) != event_hash(event)
