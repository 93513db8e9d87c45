"""Pipelines and steps used the way ZenML's documentation uses them, on a SQLite file."""

from __future__ import annotations

from typing import Annotated, Tuple  # noqa: UP035  (ZenML's documentation writes Tuple)

import pytest

from lineagelog.api import Client, PipelineDefinitionError, pipeline, step


@step
def tuple_producer() -> Tuple[int, int]:  # noqa: UP006
    pair = (3, 4)
    return pair


@step
def tuple_consumer(pair: tuple[int, int]) -> int:
    return pair[0] * pair[1]


@step
def split_numbers() -> Tuple[Annotated[int, "low"], Annotated[int, "high"]]:  # noqa: UP006
    return 1, 9


def test_a_tuple_variable_is_stored_as_one_artifact_and_passed_whole(sqlite_stores):
    @pipeline
    def tuple_pipeline() -> None:
        tuple_consumer(tuple_producer())

    run = tuple_pipeline()

    produced = run.steps["tuple_producer"].outputs
    assert list(produced) == ["output"]
    assert tuple(produced["output"].load()) == (3, 4)
    assert run.steps["tuple_consumer"].outputs["output"].load() == 12


def test_a_literal_tuple_return_stores_each_named_output(sqlite_stores):
    @pipeline
    def split_pipeline() -> None:
        split_numbers()

    run = split_pipeline()

    outputs = run.steps["split_numbers"].outputs
    assert {name: v.load() for name, v in outputs.items()} == {"high": 9, "low": 1}
    assert Client().get_artifact_version("low").load() == 1


# -- caching: which setting decides (ZenML's "Control caching behavior") ---------------


@step(enable_cache=True)
def load_data(parameter: int) -> dict[str, int]:
    return {"value": parameter}


@step
def follow_pipeline(data: dict[str, int]) -> int:
    return data["value"] + 1


@step(enable_cache=False)
def train_model(data: dict[str, int]) -> int:
    return data["value"] * 2


@pipeline(enable_cache=True)
def simple_ml_pipeline(parameter: int) -> None:
    data = load_data(parameter)
    follow_pipeline(data)
    train_model(data)


def _outcomes(run) -> dict[str, str]:
    return {name: step_run.cache_outcome for name, step_run in run.steps.items()}


def test_step_settings_override_the_pipeline_setting(sqlite_stores):
    simple_ml_pipeline(parameter=1)

    second = simple_ml_pipeline(parameter=1)

    assert _outcomes(second) == {
        "load_data": "hit",
        "follow_pipeline": "hit",
        "train_model": "disabled",
    }
    assert "step 'train_model' has enable_cache=False" in second.steps["train_model"].cache_reason


def test_a_pipeline_configured_without_cache_still_caches_a_step_that_enables_it(sqlite_stores):
    simple_ml_pipeline(parameter=2)
    uncached = simple_ml_pipeline.with_options(enable_cache=False)

    second = uncached(parameter=2)

    assert _outcomes(second) == {
        "load_data": "hit",
        "follow_pipeline": "disabled",
        "train_model": "disabled",
    }
    assert "pipeline 'simple_ml_pipeline' has enable_cache=False" in (
        second.steps["follow_pipeline"].cache_reason
    )
    assert simple_ml_pipeline.enable_cache is True  # with_options left the original alone


def test_run_enable_cache_false_executes_every_step_whatever_the_steps_say(sqlite_stores):
    simple_ml_pipeline(parameter=3)

    second = simple_ml_pipeline.run(parameter=3, enable_cache=False)

    assert set(_outcomes(second).values()) == {"disabled"}
    assert "run(enable_cache=False) overrides every step" in second.steps["load_data"].cache_reason


def test_configure_on_a_step_changes_its_cache_setting(sqlite_stores):
    @step
    def configurable(x: int) -> int:
        return x

    @pipeline
    def configured_pipeline() -> None:
        configurable(1)

    configured_pipeline()
    configurable.configure(enable_cache=False)

    second = configured_pipeline()

    assert _outcomes(second) == {"configurable": "disabled"}


# -- with_options, parameters, ids and ordering ---------------------------------------


@step
def scale(value: int, factor: int = 1) -> int:
    return value * factor


@step
def record_order(label: str, log: list[str]) -> str:
    log.append(label)
    return label


def test_step_with_options_inside_a_pipeline_applies_to_that_call_only(sqlite_stores):
    @pipeline
    def scaled() -> None:
        scale.with_options(parameters={"factor": 10})(2)
        scale(3, id="plain")

    run = scaled()

    assert run.steps["scale"].outputs["output"].load() == 20
    assert run.steps["plain"].outputs["output"].load() == 3
    assert scale.parameters == {}


def test_pipeline_with_options_sets_step_options_by_invocation_id(sqlite_stores):
    @pipeline
    def twice() -> None:
        scale(2)
        scale(2)

    run = twice.with_options(steps={"scale_2": {"parameters": {"factor": 5}}})()

    assert run.steps["scale"].outputs["output"].load() == 2
    assert run.steps["scale_2"].outputs["output"].load() == 10


def test_pipeline_parameters_from_with_options_fill_the_function_arguments(sqlite_stores):
    @pipeline
    def parametrized(gamma: int) -> None:
        scale(gamma, factor=2)

    run = parametrized.with_options(parameters={"gamma": 7})()

    assert run.parameters == {"gamma": 7}
    assert run.steps["scale"].outputs["output"].load() == 14


def test_after_runs_a_step_first_even_when_it_is_called_later(sqlite_stores):
    @step(enable_cache=False)
    def step_1() -> int:
        order.append("step_1")
        return 1

    @step(enable_cache=False)
    def step_2() -> int:
        order.append("step_2")
        return 2

    @step(enable_cache=False)
    def step_3(a: int, b: int) -> int:
        order.append("step_3")
        return a + b

    @pipeline
    def example_pipeline() -> None:
        step_1_output = step_1(after="step_2")
        step_2_output = step_2()
        step_3(step_1_output, step_2_output)

    order: list[str] = []
    run = example_pipeline()

    assert order == ["step_2", "step_1", "step_3"]
    assert run.dag["steps"]["step_1"]["after"] == ["step_2"]
    assert run.steps["step_3"].outputs["output"].load() == 3


# -- run names ----------------------------------------------------------------------


def test_run_name_templates_fill_date_time_and_substitutions(sqlite_stores):
    @pipeline(substitutions={"experiment": "baseline"})
    def named_pipeline() -> None:
        scale(1)

    run = named_pipeline.with_options(run_name="{experiment}_run_{date}_{time}")()

    experiment, _, date_time = run.run_name.partition("_run_")
    assert experiment == "baseline"
    assert len(date_time.split("_")) == 7  # YYYY_MM_DD_HH_MM_SS_ffffff
    assert [r.id for r in Client().list_runs() if r.run_name == run.run_name] == [run.id]


def test_a_run_name_placeholder_without_a_substitution_is_refused_before_running(sqlite_stores):
    @pipeline
    def unnamed() -> None:
        scale(1)

    with pytest.raises(PipelineDefinitionError, match=r"placeholder\(s\) \['custom'\]"):
        unnamed.with_options(run_name="run_{custom}")()

    assert Client().list_runs() == []


# -- names with spaces ----------------------------------------------------------------


def test_pipeline_and_step_names_with_spaces_give_valid_artifact_names(sqlite_stores):
    @step(name="load the data")
    def loader() -> int:
        return 5

    @pipeline(name="my training pipeline")
    def spaced() -> None:
        loader()

    run = spaced()

    version = run.steps["load the data"].outputs["output"]
    assert version.name == "my_training_pipeline::load_the_data::output"
    assert version.load() == 5
    assert run.pipeline_name == "my training pipeline"


# -- a fully cached run -----------------------------------------------------------------


@step
def cached_source() -> int:
    return 4


@step
def cached_double(x: int) -> int:
    return 2 * x


@pipeline
def fully_cacheable() -> None:
    cached_double(cached_source())


def test_a_run_whose_every_step_was_cached_reports_the_status_cached(sqlite_stores):
    first = fully_cacheable()

    second = fully_cacheable()

    assert first.status == "completed"
    assert second.status == "cached"
    assert {s.status for s in second.steps.values()} == {"cached"}
    assert Client().get_run(second.id).status == "cached"
    assert [r.id for r in Client().list_runs(status="cached")] == [second.id]
    assert [r.id for r in Client().list_runs(status="completed")] == [first.id]


def test_a_cached_run_reads_running_as_of_before_its_end_and_cached_after(sqlite_stores):
    from lineagelog.api.context import open_context

    fully_cacheable()
    before_second = open_context().events.max_position()
    second = fully_cacheable()
    after_second = open_context().events.max_position()
    client = Client()

    during = client.as_of(before_second + 1).get_run(second.id)
    after = client.as_of(after_second).get_run(second.id)

    assert during.status == "running"
    assert after.status == "cached"


# -- definition errors, found before anything is recorded ------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (lambda: scale(1, after="nowhere"), r"waits for \['nowhere'\].*does not call"),
        (lambda: (scale(1, id="same"), scale(2, id="same")), "id='same', which another"),
        (lambda: scale(1, after="scale"), "is the step itself"),
        (
            lambda: (scale(1, id="a", after="b"), scale(2, id="b", after="a")),
            r"wait for each other \(after=\) in a cycle",
        ),
        (lambda: scale.with_options(parameters={"factor": 3})(1, factor=4), "set it in one place"),
    ],
)
def test_bad_step_calls_are_refused_before_the_run_starts(sqlite_stores, body, says):
    @pipeline
    def bad() -> None:
        body()

    with pytest.raises(PipelineDefinitionError, match=says):
        bad()

    assert Client().list_runs() == []


def test_step_options_for_an_invocation_the_pipeline_lacks_are_refused(sqlite_stores):
    @pipeline
    def one_step() -> None:
        scale(1)

    with pytest.raises(PipelineDefinitionError, match=r"\['trainer'\].*does not call"):
        one_step.with_options(steps={"trainer": {"enable_cache": False}})()


# -- artifact name templates (ZenML's "dynamic artifact names") ----------------------


@step(substitutions={"custom_placeholder": "some_substitute"})
def dynamic_single_string() -> Annotated[str, "name_{custom_placeholder}_{date}"]:
    return "null"


@step
def dynamic_tuple() -> Tuple[  # noqa: UP006
    Annotated[str, "name_{stage}_first"], Annotated[str, "name_{stage}_second"]
]:
    return "a", "b"


def test_artifact_name_templates_are_filled_from_step_and_pipeline_substitutions(sqlite_stores):
    @pipeline(substitutions={"stage": "prod"})
    def dynamic_pipeline() -> None:
        dynamic_single_string()
        dynamic_tuple()

    run = dynamic_pipeline()

    single = run.steps["dynamic_single_string"].outputs
    assert list(single) == ["name_{custom_placeholder}_{date}"]  # the output keeps its template
    name = single["name_{custom_placeholder}_{date}"].name
    assert name.startswith("name_some_substitute_") and len(name.split("_")) == 6
    assert sorted(v.name for v in run.steps["dynamic_tuple"].outputs.values()) == [
        "name_prod_first",
        "name_prod_second",
    ]
    assert Client().get_artifact_version("name_prod_first").load() == "a"


def test_an_artifact_name_placeholder_nothing_fills_is_refused_before_the_run(sqlite_stores):
    @pipeline
    def unfilled() -> None:
        dynamic_tuple()

    with pytest.raises(PipelineDefinitionError, match=r"placeholder\(s\) \['stage'\]"):
        unfilled()

    assert Client().list_runs() == []


def test_extra_of_the_pipeline_and_its_steps_is_recorded_with_the_run(sqlite_stores):
    @pipeline(extra={"owner": "data-team"})
    def annotated_pipeline() -> None:
        scale.with_options(extra={"tier": 1})(2)

    run = annotated_pipeline()

    assert run.dag["extra"] == {"owner": "data-team"}
    assert run.dag["steps"]["scale"]["extra"] == {"tier": 1}
