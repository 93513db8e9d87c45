"""Parameters reach a step exactly as passed, or the run is refused; faults end runs ``failed``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lineagelog.api import Client, pipeline, step
from lineagelog.domain.errors import PipelineDefinitionError, RunFailedError

received: list[Any] = []


@step
def take(x: Any = None) -> int:
    received.append(x)
    return 1


@pipeline
def passing(x: Any = None) -> None:
    take(x=x)


@pipeline
def passing_to_the_step_only() -> None:
    take(x="a\udc80b")


@step(enable_cache=False)
def explode() -> None:
    raise ValueError("bad byte \udc80 in the input")


@pipeline
def exploding() -> None:
    explode()


@pytest.mark.parametrize(
    "value",
    [float("inf"), (1, (2, 3)), datetime(2026, 1, 2, 3, 4, tzinfo=UTC), {3, 1}, frozenset({2})],
    ids=["inf", "tuple", "datetime", "set", "frozenset"],
)
def test_a_parameter_reaches_the_step_as_passed(sqlite_stores: tuple[str, str], value: Any) -> None:
    received.clear()

    passing(x=value)

    assert received == [value]
    assert type(received[0]) is type(value)


def test_the_cache_key_tells_nan_from_the_string_nan_and_a_tuple_from_a_list(
    sqlite_stores: tuple[str, str],
) -> None:
    outcomes = [
        passing(x=value).steps["take"] for value in ("nan", float("nan"), [1, 2], (1, 2), (1, 2))
    ]

    assert [s.cache_outcome for s in outcomes] == ["miss", "miss", "miss", "miss", "hit"]
    assert outcomes[1].cache_reason == "parameter `x` changed 'nan' -> nan"
    assert outcomes[3].cache_reason == "parameter `x` changed [1, 2] -> (1, 2)"


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (
            lambda: passing(x="a\udc80b"),
            r"parameter 'x' of pipeline 'passing' cannot be recorded \(str value 'a\\udc80b' "
            r"holds the lone surrogate",
        ),
        (
            passing_to_the_step_only,
            r"parameter 'x' of step 'take' cannot be recorded \(str value 'a\\udc80b'",
        ),
        (
            lambda: passing(x=10**5000),
            r"parameter 'x' of pipeline 'passing' cannot be recorded \(int value with 5001 "
            r"digits is too large to record \(at most 4000\); pass it as a string\)",
        ),
    ],
    ids=["surrogate-in-pipeline-parameter", "surrogate-in-step-parameter", "huge-int"],
)
def test_a_parameter_that_cannot_be_recorded_refuses_the_run_before_it_starts(
    sqlite_stores: tuple[str, str], run: Any, message: str
) -> None:
    with pytest.raises(PipelineDefinitionError, match=message):
        run()

    assert Client().list_runs() == []


def test_an_exception_message_with_a_lone_surrogate_ends_the_run_failed_and_readable(
    sqlite_stores: tuple[str, str],
) -> None:
    with pytest.raises(RunFailedError, match=r"ValueError: bad byte \\udc80 in the input") as e:
        exploding()

    run = Client().get_pipeline_run(str(e.value.run_id))
    failed = run.steps["explode"]
    assert run.status == "failed"
    assert (failed.status, failed.error_message) == ("failed", "bad byte \\udc80 in the input")
    assert "bad byte \\udc80 in the input" in (failed.traceback or "")


ESCAPE = "\x1b[2J"  # clears a terminal


def test_a_pipeline_step_or_run_name_with_a_terminal_escape_is_refused_before_anything_runs(
    sqlite_stores: tuple[str, str],
) -> None:
    with pytest.raises(PipelineDefinitionError, match=r"pipeline name 'p\\x1b\[2J' contains"):
        pipeline(name=f"p{ESCAPE}")(lambda: None)
    with pytest.raises(PipelineDefinitionError, match=r"step name 's\\x1b\[2J' contains"):
        step(name=f"s{ESCAPE}")(lambda: None)
    with pytest.raises(PipelineDefinitionError, match=r"run name 'r\\x1b\[2J' contains .*\\x1b"):
        passing.with_options(run_name=f"r{ESCAPE}")(x=1)

    assert Client().list_runs() == []


def test_configured_parameters_reach_the_step_as_given(sqlite_stores: tuple[str, str]) -> None:
    received.clear()

    passing.with_options(parameters={"x": (1, 2)})()
    passing_through_configured_step = pipeline(name="configured")(
        lambda: take.with_options(parameters={"x": frozenset({3})})()
    )
    passing_through_configured_step()

    assert received == [(1, 2), frozenset({3})]
    assert [type(x) for x in received] == [tuple, frozenset]
