from __future__ import annotations

import importlib.util
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Annotated

import pytest

from lineagelog.api import (
    Client,
    InvalidArtifactNameError,
    NoMaterializerError,
    PipelineDefinitionError,
    RunFailedError,
    RunNotFoundError,
    pipeline,
    step,
)
from lineagelog.examples.numbers_pipeline import numbers


@step
def produce(n: int = 3) -> Annotated[list[int], "produced"]:
    return list(range(n))


@step
def pair(values: list[int]) -> tuple[int, int]:
    return min(values), max(values)


@step
def explode(values: list[int]) -> int:
    raise ValueError(f"cannot handle {len(values)} values")


@step
def after_explode(x: int) -> int:
    return x


@pipeline
def unnamed_tuple(n: int = 3) -> None:
    pair(produce(n=n))


@pipeline
def failing() -> None:
    after_explode(explode(produce()))


def test_readme_example_runs_and_loads_back(memory_stores):
    run = numbers(n=10)

    assert run.status == "completed"
    assert run.steps["total_2"].outputs["output"].load() == 25
    assert Client().get_run(run.id).steps["load"].outputs["numbers"].version == "1"


def test_repeated_invocations_get_numbered_ids(memory_stores):
    run = numbers(n=4)

    assert list(run.steps) == ["load", "split", "total", "total_2"]
    assert run.steps["total"].outputs["output"].load() == 2
    assert run.steps["total_2"].outputs["output"].load() == 4


def test_multi_output_steps_name_tuple_members_and_default_artifact_names(memory_stores):
    run = unnamed_tuple(n=5)

    outputs = run.steps["pair"].outputs
    assert sorted(outputs) == ["output_0", "output_1"]
    assert outputs["output_0"].load() == 0
    assert outputs["output_1"].name == "unnamed_tuple::pair::output_1"
    assert outputs["output_1"].load() == 4


def test_second_run_is_served_from_cache_without_new_versions(memory_stores):
    first = numbers(n=6)

    second = numbers(n=6)

    load = second.steps["load"]
    assert load.status == "cached" and load.cache_hit
    assert load.original_step_run_id == first.steps["load"].id
    assert load.outputs["numbers"].id == first.steps["load"].outputs["numbers"].id
    assert Client().get_artifact_version("numbers").version == "1"
    assert second.steps["total"].cache_outcome == "disabled"
    assert second.steps["total"].status == "completed"


def test_changing_a_parameter_misses_and_says_which(memory_stores):
    numbers(n=6)

    run = numbers(n=7)

    assert run.steps["load"].cache_outcome == "miss"
    assert run.steps["load"].cache_reason == "parameter `n` changed 6 -> 7"
    assert run.steps["split"].cache_reason == "input `numbers` changed"
    assert Client().get_artifact_version("numbers").version == "2"


def test_same_content_from_a_new_execution_still_hits_downstream(memory_stores):
    numbers(n=6)
    numbers.run(n=6, enable_cache=False)

    run = numbers(n=6)

    assert run.steps["split"].cache_hit


def test_changing_the_code_misses_with_code_changed(memory_stores, tmp_path: Path):
    def load_module(body: str) -> object:
        source = textwrap.dedent(
            f"""
            from lineagelog.api import pipeline, step

            @step
            def compute(x: int = 1) -> int:
                return {body}

            @pipeline(name="versioned")
            def versioned() -> None:
                compute()
            """
        )
        name = f"versioned_{uuid.uuid4().hex}"
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    load_module("x + 1").versioned()  # type: ignore[attr-defined]

    run = load_module("x + 2").versioned()  # type: ignore[attr-defined]

    assert run.steps["compute"].cache_reason == "code changed"
    assert run.steps["compute"].outputs["output"].load() == 3


def test_failing_step_fails_the_run_and_skips_downstream(memory_stores):
    with pytest.raises(RunFailedError) as excinfo:
        failing()

    error = excinfo.value
    assert isinstance(error.__cause__, ValueError)
    assert error.failed_step == "explode"
    run = Client().get_run(error.run_id)
    assert run.status == "failed"
    assert run.failed_step == "explode"
    assert run.steps["explode"].status == "failed"
    assert run.steps["explode"].error_type == "builtins.ValueError"
    assert "cannot handle 3 values" in (run.steps["explode"].traceback or "")
    assert "after_explode" not in run.steps


def test_deleted_cached_outputs_are_not_served(memory_stores):
    first = numbers(n=6)
    client = Client()
    client.context.artifacts.rmtree(first.steps["load"].outputs["numbers"].uri)

    run = numbers(n=6)

    assert run.steps["load"].cache_outcome == "miss"
    assert run.steps["load"].cache_reason == "cached outputs were deleted from the artifact store"
    assert run.steps["load"].outputs["numbers"].version == "2"


def test_run_records_environment_without_subprocesses(memory_stores):
    run = numbers(n=2)

    env = run.environment
    assert env["pid"] > 0 and env["python"].count(".") == 2
    assert "host" in env and "platform" in env


def test_list_runs_is_newest_first_and_filters_by_pipeline(memory_stores):
    a = numbers(n=2)
    b = unnamed_tuple()
    c = numbers(n=3)

    assert [r.id for r in Client().list_runs()] == [c.id, b.id, a.id]
    assert [r.id for r in Client().list_runs(pipeline="numbers")] == [c.id, a.id]
    assert [r.id for r in Client().list_runs(status="completed", limit=1)] == [c.id]


def test_get_run_accepts_a_string_id_and_names_what_a_run_reference_can_be(memory_stores):
    run = numbers(n=2)

    assert Client().get_run(str(run.id)).id == run.id
    with pytest.raises(RunNotFoundError, match="no run with the id, id prefix or run name"):
        Client().get_run("not-an-id")


def test_artifact_versions_are_listed_by_name(memory_stores):
    numbers(n=2)
    numbers(n=3)

    versions = Client().list_artifact_versions("numbers")

    assert [v.version for v in versions] == ["1", "2"]
    assert versions[1].load() == [0, 1, 2]
    assert Client().get_artifact_version("numbers", 1).load() == [0, 1]


def test_unknown_artifact_version_names_the_versions_that_exist(memory_stores):
    numbers(n=2)

    with pytest.raises(Exception, match="has no version '9'; its versions are 1 "):
        Client().get_artifact_version("numbers", 9)


class Opaque:
    pass


@step
def opaque() -> Opaque:
    return Opaque()


@pipeline
def opaque_pipeline() -> None:
    opaque()


def test_output_without_materializer_names_type_step_and_output(memory_stores):
    with pytest.raises(RunFailedError) as excinfo:
        opaque_pipeline()

    cause = excinfo.value.__cause__
    assert isinstance(cause, NoMaterializerError)
    message = str(cause)
    assert "Opaque" in message and "'opaque'" in message and "'output'" in message


@step
def too_few() -> tuple[Annotated[int, "a"], Annotated[int, "b"]]:
    if too_few_pipeline is None:  # never: a literal return declares the two outputs
        return 1, 2
    return (1,)  # type: ignore[return-value]


@pipeline
def too_few_pipeline() -> None:
    too_few()


def test_returning_fewer_values_than_declared_outputs_fails_clearly(memory_stores):
    with pytest.raises(RunFailedError) as excinfo:
        too_few_pipeline()

    assert "declares 2 outputs ['a', 'b'] but returned a tuple of 1" in str(excinfo.value.__cause__)


def test_non_json_parameters_are_refused_before_anything_runs(memory_stores):
    @pipeline
    def with_object() -> None:
        produce(n=object())  # type: ignore[arg-type]

    with pytest.raises(PipelineDefinitionError, match="parameter 'n' of step 'produce'"):
        with_object()
    assert Client().list_runs() == []


def test_bad_annotated_artifact_names_are_refused_at_definition():
    with pytest.raises(InvalidArtifactNameError, match=r"\.\./escape"):

        @step
        def bad() -> Annotated[int, "../escape"]:
            return 1


def test_a_pipeline_without_steps_is_refused(memory_stores):
    @pipeline
    def empty() -> None:
        pass

    with pytest.raises(PipelineDefinitionError, match="called no steps"):
        empty()


def test_steps_called_with_wrong_arguments_are_refused(memory_stores):
    @pipeline
    def wrong() -> None:
        produce(1, 2, 3)

    with pytest.raises(PipelineDefinitionError, match="do not fit its signature"):
        wrong()


def test_step_outside_a_pipeline_is_a_plain_function():
    assert produce(n=2) == [0, 1]
