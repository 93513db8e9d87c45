"""Comparing runs and tracing two artifact versions to their root causes, on real pipelines.

Each pipeline is a module written to a file and imported (``load_module``), so
a step's code can change between two runs as it does when someone edits it.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from views import sqlite_database, view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.adapters.stored_events import TOPIC_CODES
from lineagelog.api import Client, InvalidComparisonError, save_artifact
from lineagelog.api.context import open_context
from lineagelog.domain.root_causes import ArtifactComparison

TRAINING = """
from typing import Annotated

from lineagelog.api import BuiltInContainerMaterializer, Client, pipeline, step


MODEL_MATERIALIZER

@step
def load_raw() -> Annotated[list[int], "raw"]:
    return [1, 2, 3, 4]


@step
def clean(raw: list[int]) -> Annotated[list[int], "data"]:
    return [x CLEAN for x in raw]


@step
def train(data: list[int], lr: float = 0.1) -> Annotated[dict, "model"]:
    return {"w": [x * lr for x in data], "n": len(data)}


@pipeline
def training(lr: float = 0.1):
    train.with_options(output_materializers=MATERIALIZER)(clean(load_raw()), lr=lr)


@pipeline
def from_registered(lr: float = 0.1):
    train(clean(Client().get_artifact_version("raw")), lr=lr)
"""


_MODEL_MATERIALIZER = '''
class ModelMaterializer(BuiltInContainerMaterializer):
    """Models as JSON, under a materializer of their own."""

    ASSOCIATED_TYPES = (dict,)
'''


def _training(load_module: Any, clean: str = "* 1", materializer: str = "None") -> ModuleType:
    source = (
        TRAINING.replace(
            "MODEL_MATERIALIZER", _MODEL_MATERIALIZER if materializer != "None" else ""
        )
        .replace("CLEAN", clean)
        .replace("MATERIALIZER", materializer)
    )
    module: ModuleType = load_module("training_flow", source)
    return module


def _causes(comparison: ArtifactComparison) -> list[tuple[str, str | None]]:
    return [(cause.kind, cause.step) for cause in comparison.root_causes]


def test_a_changed_parameter_is_the_one_root_cause(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _training(load_module)
    flow.training(lr=0.1)
    flow.training(lr=0.2)

    compared = Client().diff_artifacts("model:1", "model:2")

    assert _causes(compared) == [("parameter", "train")]
    cause = compared.root_causes[0]
    assert cause.description == "parameter `lr` of step `train` changed 0.1 -> 0.2"
    assert (cause.old, cause.new) == (0.1, 0.2)
    assert compared.path_labels(cause) == ["train", "model:1 -> model:2"]
    assert compared.value is not None and compared.value.how == "values"
    assert [(c.path, c.old, c.new) for c in compared.value.changes] == [
        ("$.w[0]", "0.1", "0.2"),
        ("$.w[1]", "0.2", "0.4"),
        ("$.w[2]", "0.30000000000000004", "0.6000000000000001"),
        ("$.w[3]", "0.4", "0.8"),
    ]


def test_a_code_change_upstream_is_the_root_cause_and_what_followed_are_consequences(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    _training(load_module, clean="* 1").training()
    _training(load_module, clean="* 10").training()

    compared = Client().diff_artifacts("model:1", "model:2")

    assert _causes(compared) == [("code", "clean")]
    cause = compared.root_causes[0]
    assert compared.path_labels(cause) == [
        "clean",
        "data:1 -> data:2",
        "train",
        "model:1 -> model:2",
    ]
    assert cause.consequences == ["data:1 -> data:2", "model:1 -> model:2"]
    assert cause.code is not None and cause.code.diff is not None
    assert (
        "-    return [x * 1 for x in raw]\n+    return [x * 10 for x in raw]\n" in cause.code.diff
    )


def test_an_input_registered_outside_any_pipeline_is_the_root_cause(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _training(load_module)
    save_artifact([1, 2, 3], name="raw")
    flow.from_registered()
    save_artifact([1, 2, 3, 5], name="raw")
    flow.from_registered()

    compared = Client().diff_artifacts("model:1", "model:2")

    assert _causes(compared) == [("input version", None)]
    cause = compared.root_causes[0]
    assert cause.description == "raw was version 1, now 2, registered outside any pipeline"
    assert compared.path_labels(cause) == [
        "raw:1 -> raw:2",
        "clean",
        "data:1 -> data:2",
        "train",
        "model:1 -> model:2",
    ]


def test_a_materializer_change_is_found_although_the_bytes_are_the_same(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    _training(load_module).training()
    _training(load_module, materializer="ModelMaterializer").training()

    compared = Client().diff_artifacts("model:1", "model:2")

    assert _causes(compared) == [("materializer", "train")]
    assert compared.root_causes[0].new.endswith("training_flow:ModelMaterializer")
    assert compared.same_content and compared.value is None


def test_several_changes_at_once_are_each_a_root_cause_and_nothing_else_is(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    _training(load_module).training(lr=0.1)
    _training(load_module, clean="+ 1").training(lr=0.3)

    compared = Client().diff_artifacts("model:1", "model:2")

    assert _causes(compared) == [("code", "clean"), ("parameter", "train")]


def test_two_runs_compare_step_by_step(sqlite_stores: tuple[str, str], load_module: Any) -> None:
    _training(load_module).training(lr=0.1)
    _training(load_module, clean="* 10").training(lr=0.2)
    first, second = Client().list_runs()[::-1]

    compared = Client().diff_runs(first.id, second.id)

    assert [p.reason() for p in compared.parameters] == ["parameter `lr` changed 0.1 -> 0.2"]
    steps = {s.invocation_id: s for s in compared.steps}
    assert [(s.invocation_id, s.change) for s in compared.steps] == [
        ("load_raw", "same"),
        ("clean", "changed"),
        ("train", "changed"),
    ]
    assert steps["load_raw"].b is not None and steps["load_raw"].b.cache_outcome == "hit"
    assert [d.reason() for d in steps["clean"].differences] == ["code changed"]
    assert [d.reason() for d in steps["train"].differences] == [
        "parameter `lr` changed 0.1 -> 0.2",
        "input `data` changed",
    ]
    assert [(i.name, i.a and i.a.label, i.b and i.b.label) for i in steps["train"].inputs] == [
        ("data", "data:1", "data:2")
    ]
    assert [(o.name, o.same) for o in steps["train"].outputs] == [("model", False)]
    assert steps["load_raw"].outputs[0].same
    assert all(s.a and s.b and s.a.duration_s and s.b.duration_s for s in compared.steps)


def test_a_run_against_itself_and_a_cached_run_against_its_original_show_no_difference(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _training(load_module)
    original = flow.training()
    cached = flow.training()

    assert Client().diff_runs(original.id, original.id).same
    compared = Client().diff_runs(original.id, cached.id)

    assert compared.same
    assert [s.b.cache_outcome for s in compared.steps if s.b] == ["hit", "hit", "hit"]
    assert Client().diff_artifacts("model:1", "model:1").root_causes == ()


def test_runs_of_different_pipelines_align_by_invocation_id(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _training(load_module)
    inside = flow.training()
    save_artifact([1, 2, 3, 4], name="raw")
    registered = flow.from_registered()

    compared = Client().diff_runs(inside.id, registered.id)

    assert (compared.a.pipeline, compared.b.pipeline) == ("training", "from_registered")
    assert [(s.invocation_id, s.change) for s in compared.steps] == [
        ("clean", "same"),
        ("train", "same"),
        ("load_raw", "removed"),
    ]


def test_a_failed_run_shows_its_error_and_the_missing_outputs(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _training(load_module)
    good = flow.training()
    broken = _training(load_module, clean="/ 0")
    with pytest.raises(Exception, match="division by zero"):
        broken.training()
    failed = Client().list_runs()[0]

    compared = Client().diff_runs(good.id, failed.id)

    steps = {s.invocation_id: s for s in compared.steps}
    assert compared.b.status == "failed"
    assert steps["clean"].change == "changed"
    assert steps["clean"].b is not None and steps["clean"].b.error is not None
    assert "ZeroDivisionError" in steps["clean"].b.error
    assert [(o.name, o.same, o.b) for o in steps["clean"].outputs] == [("data", False, None)]
    assert steps["train"].change == "removed"


def test_a_deleted_version_is_traced_from_what_the_log_recorded(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _training(load_module)
    flow.training(lr=0.1)
    flow.training(lr=0.2)
    Client().delete_artifact_version("model", "1")

    compared = Client().diff_artifacts("model:1", "model:2")

    assert compared.a.deleted
    assert _causes(compared) == [("parameter", "train")]
    assert compared.value is not None and compared.value.how == "metadata"
    assert compared.value.note is not None and "deleted" in compared.value.note


def test_comparisons_as_of_a_past_position_see_only_what_existed_then(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    _training(load_module).training(lr=0.1)
    _training(load_module, clean="* 10").training(lr=0.1)
    before_third = Client().context.events.max_position()
    _training(load_module, clean="* 10").training(lr=0.5)

    past = Client().as_of(before_third)

    assert _causes(past.diff_artifacts("model:1", "model")) == [("code", "clean")]
    assert _causes(Client().diff_artifacts("model:1", "model")) == [
        ("code", "clean"),
        ("parameter", "train"),
    ]


def test_source_is_recorded_once_per_code_hash_and_as_of_before_it_is_not_seen(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    flow = _training(load_module)
    flow.training(lr=0.1)
    flow.training(lr=0.2)
    context = Client().context
    context.catch_up()
    recorded = [r for r in context.events.iter_all() if type(r.event).__name__ == "CodeRecorded"]
    clean = next(r.event for r in recorded if r.event.step_name == "clean")
    at = next(r.position for r in recorded if r.event is clean)

    assert len(recorded) == 3  # load_raw, clean, train: once each, not once per run
    assert "return [x * 1 for x in raw]" in clean.source
    assert context.queries.code_sources([clean.code_hash]) == {clean.code_hash: clean.source}
    assert context.queries.code_sources([clean.code_hash], as_of=at - 1) == {}


def test_rebuilt_views_equal_the_incremental_ones_and_the_audit_is_clean(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    _training(load_module).training()
    _training(load_module, clean="* 3").training()
    context = open_context()
    context.catch_up()
    incremental = view_rows(context)

    context.projector.rebuild()

    assert view_rows(context) == incremental
    assert any(rows for table, rows in incremental.items() if table.endswith("step_code"))
    assert Client().audit().ok


def test_an_exported_and_imported_history_compares_the_same(
    sqlite_stores: tuple[str, str], load_module: Any, tmp_path: Path
) -> None:
    _training(load_module).training()
    _training(load_module, clean="* 3").training()
    exported = tmp_path / "events.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(Client().context.events, out)

    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "artifacts"))
    with exported.open(encoding="utf-8") as events:
        import_events(copy.context.events, events)

    assert copy.audit().ok
    compared = copy.diff_artifacts("model:1", "model:2", compare_values=False)
    assert _causes(compared) == [("code", "clean")]
    assert compared.root_causes[0].code is not None
    assert compared.root_causes[0].code.diff is not None


def test_a_history_recorded_before_sources_says_it_has_no_source(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    _training(load_module).training()
    _training(load_module, clean="* 3").training()
    with sqlite_database(sqlite_stores[0]) as db:  # the log as an older lineagelog wrote it
        recorded = "lineagelog.domain.step_code:StepCode.CodeRecorded"  # stored whole or as code
        db.execute(
            "DELETE FROM stored_events WHERE topic IN (?, ?)", (recorded, TOPIC_CODES[recorded])
        )
    context = open_context()
    context.projector.rebuild()

    code = Client().diff_artifacts("model:1", "model:2").root_causes[0].code

    assert code is not None
    assert code.diff is None
    assert code.note is not None and code.note.startswith("no source was recorded")


def test_a_run_and_an_artifact_version_cannot_be_compared(
    sqlite_stores: tuple[str, str], load_module: Any
) -> None:
    from lineagelog.api.diffing import comparison_kind
    from lineagelog.projections.references import References

    run = _training(load_module).training()
    client = Client()

    with pytest.raises(InvalidComparisonError, match="is a run and 'model:1' is an artifact"):
        comparison_kind(References(client.context.queries), str(run.id), "model:1")
