"""Choosing an executor, the attempt a step run records, and the cluster run's scheduling.

The scheduling is driven here through ``InProcessExecutor``, a fake that subclasses
the executor port and runs each task when the runner waits, so these tests need
no cluster; tests/integration/test_dask_executor.py runs the same on real workers.
"""

from __future__ import annotations

import collections
import uuid
from typing import Annotated, Any

import pytest

from lineagelog.adapters.executors import (
    ExecutorTask,
    Placement,
    StepExecutor,
    TaskFinished,
    TaskNews,
    TaskStarted,
)
from lineagelog.api import (
    Client,
    DaskExecutor,
    ExecutorError,
    PipelineDefinitionError,
    RunFailedError,
    pipeline,
    step,
)
from lineagelog.api.context import open_context
from lineagelog.api.executors import checked_executor, executor_for
from lineagelog.domain.errors import StepRunStateError
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome


class InProcessExecutor(StepExecutor):
    """Runs each submitted task in this process, one at a time, when the runner waits."""

    name = "in-process"

    def __init__(self) -> None:
        self.queue: collections.deque[ExecutorTask] = collections.deque()
        self.submitted: list[str] = []

    def open(self, artifact_store: Any) -> None:
        pass

    def check_sendable(self, what: Any, label: str) -> None:
        pass

    def submit(self, task: ExecutorTask) -> None:
        self.submitted.append(task.label)
        self.queue.append(task)

    def wait(self) -> list[TaskNews]:
        task = self.queue.popleft()
        news: list[TaskNews] = [TaskStarted(task.key, "here", 0.0)]
        try:
            news.append(TaskFinished(task.key, "here", result=task.work()))
        except Exception as error:
            news.append(TaskFinished(task.key, "here", error=error))
        return news

    def close(self) -> None:
        self.queue.clear()


class OneSlotExecutor(InProcessExecutor):
    """One worker, ``slot``, with one thread: a second task waits until the first ends."""

    name = "one-slot"

    def __init__(self, threads: int = 1) -> None:
        super().__init__()
        self.threads = threads
        self.placed: list[str | None] = []

    def place(self) -> Placement | None:
        return Placement("slot") if len(self.queue) < self.threads else None

    def submit(self, task: ExecutorTask) -> None:
        assert len(self.queue) < self.threads, "submitted while the only worker was busy"
        self.placed.append(task.worker)
        super().submit(task)


@step
def produce(n: int = 3) -> Annotated[list[int], "produced"]:
    return list(range(n))


@step
def explode(values: list[int]) -> int:
    raise ValueError(f"cannot handle {len(values)} values")


@step
def count(values: list[int]) -> int:
    return len(values)


@pipeline
def branches(n: int = 3) -> None:
    values = produce(n=n)
    count(explode(values))
    count(values)


@pipeline
def counted() -> None:
    count(produce(n=2))


def test_a_cache_hit_is_decided_in_the_driver_and_never_submitted(memory_stores) -> None:
    first, again = InProcessExecutor(), InProcessExecutor()
    counted.run(executor=first)

    run = counted.run(executor=again)

    assert len(first.submitted) == 2
    assert again.submitted == []
    assert {s.status for s in run.steps.values()} == {"cached"}


def test_continuing_after_a_failure_skips_only_the_steps_that_depend_on_it(
    memory_stores,
) -> None:
    executor = InProcessExecutor()

    with pytest.raises(RunFailedError) as raised:
        branches.run(executor=executor, on_failure="continue")

    run = Client().get_run(raised.value.run_id)
    assert {name: s.status for name, s in run.steps.items()} == {
        "produce": "completed",
        "explode": "failed",
        "count_2": "completed",
    }
    assert isinstance(raised.value.__cause__, ValueError)
    assert [a.worker for a in run.steps["count_2"].attempts] == ["here"]


def test_stopping_after_a_failure_submits_nothing_more(memory_stores) -> None:
    executor = InProcessExecutor()

    with pytest.raises(RunFailedError):
        branches.run(executor=executor)

    assert executor.submitted == [
        "step 'produce' of pipeline 'branches'",
        "step 'explode' of pipeline 'branches'",
        "step 'count_2' of pipeline 'branches'",  # was ready with explode: both submitted
    ]


@pytest.mark.parametrize(
    ("given", "address"),
    [("dask", None), ("dask://10.0.0.5:8786", "tcp://10.0.0.5:8786")],
)
def test_executor_names_choose_a_dask_executor(given: str, address: str | None) -> None:
    chosen = executor_for(given)

    assert isinstance(chosen, DaskExecutor)
    assert chosen.address == address


def test_the_first_choice_given_wins_and_local_means_this_process(monkeypatch) -> None:
    monkeypatch.setenv("LINEAGELOG_EXECUTOR", "dask")
    mine = DaskExecutor(address="tcp://127.0.0.1:1")

    assert executor_for(None, mine) is mine
    assert executor_for("local", mine) is None
    assert isinstance(executor_for(None, None), DaskExecutor)


@pytest.mark.parametrize("given", ["ray", "dask://", "", 3])
def test_an_unknown_executor_is_refused_naming_it(given: Any) -> None:
    with pytest.raises(ExecutorError, match="names no executor"):
        checked_executor("pipeline 'p'", given)


def test_a_bad_environment_executor_is_refused_naming_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("LINEAGELOG_EXECUTOR", "kubernetes")

    with pytest.raises(ExecutorError, match="LINEAGELOG_EXECUTOR='kubernetes'"):
        executor_for()


@pytest.mark.parametrize(
    "options",
    [
        {"address": "tcp://a:1", "client": object()},
        {"retries": -1},
        {"n_workers": 0},
        {"address": "tcp://a:1", "n_workers": 2},
    ],
)
def test_dask_executor_options_that_cannot_apply_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ExecutorError):
        DaskExecutor(**options)


def test_on_failure_accepts_stop_or_continue_only(memory_stores) -> None:
    with pytest.raises(PipelineDefinitionError, match="on_failure='later' is refused"):
        branches.run(on_failure="later")  # type: ignore[arg-type]
    with pytest.raises(PipelineDefinitionError, match="ZenML's failure hooks"):
        branches.configure(on_failure=print)  # type: ignore[arg-type]


def _decided(outcome: CacheOutcome) -> StepRun:
    step_run = StepRun.start(
        run_id=uuid.uuid4(),
        pipeline="p",
        invocation_id="s",
        step_name="s",
        source_ref="m:s",
        code_hash="0" * 64,
        parameters={},
        inputs={},
    )
    original = uuid.uuid4() if outcome is CacheOutcome.HIT else None
    step_run.decide_cache(
        cache_key="k" * 64,
        outcome=outcome,
        reason="r",
        ingredients={},
        original_step_run_id=original,
        reused_outputs={},
    )
    return step_run


def test_attempts_are_numbered_in_order_on_a_step_run_that_runs_its_body() -> None:
    step_run = _decided(CacheOutcome.MISS)

    numbers = [step_run.start_attempt(worker=w, executor="dask") for w in ("a", "b")]

    assert numbers == [1, 2]


def test_a_cache_hit_or_an_ended_step_run_starts_no_attempt() -> None:
    hit = _decided(CacheOutcome.HIT)
    ended = _decided(CacheOutcome.MISS)
    ended.succeed(0.1)

    with pytest.raises(StepRunStateError, match="runs no body"):
        hit.start_attempt(worker="a", executor="dask")
    with pytest.raises(StepRunStateError, match="already ended"):
        ended.start_attempt(worker="a", executor="dask")


class LostClusterExecutor(InProcessExecutor):
    """Takes the first task, then has lost its cluster: ``submit`` raises."""

    def submit(self, task: ExecutorTask) -> None:
        if self.submitted:
            raise OSError("connection to the scheduler was closed")
        super().submit(task)


def test_a_step_the_executor_cannot_take_fails_the_run_instead_of_leaving_it_running(
    memory_stores,
) -> None:
    with pytest.raises(RunFailedError) as raised:
        branches.run(executor=LostClusterExecutor())

    run = Client().get_run(raised.value.run_id)
    assert run.status == "failed"
    assert isinstance(raised.value.__cause__, OSError)
    assert {name: s.status for name, s in run.steps.items()} == {
        "produce": "completed",
        "explode": "failed",  # and nothing submitted after it
    }
    assert run.steps["explode"].error_message == "connection to the scheduler was closed"


class CountingExecutor(InProcessExecutor):
    """Remembers what the runner asked it to check before sending."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[Any] = []

    def check_sendable(self, what: Any, label: str) -> None:
        self.checked.append(what)


@pipeline
def counted_often() -> None:
    values = produce(n=2)
    for _ in range(5):
        count(values)


def test_a_step_called_many_times_is_checked_and_packed_once_per_run(memory_stores) -> None:
    executor = CountingExecutor()

    counted_often.run(executor=executor)

    steps = [what for what in executor.checked if not isinstance(what, dict)]
    assert sorted(s.name for s in steps) == ["count", "produce"]  # not one per call
    assert {"n": 2} in executor.checked  # parameters are checked for each call that has them


def test_a_packed_step_is_unpickled_once_per_process_and_runs_the_same() -> None:
    from lineagelog.api.remote_step import PackedStep

    packed = PackedStep.of(count)
    again = PackedStep(packed.digest, packed.data)

    unpacked = packed.unpack()
    assert again.unpack() is unpacked  # the same digest: served from the cache
    assert unpacked.func([1, 2, 3]) == 3
    assert PackedStep.of(produce).digest != packed.digest


@pipeline
def three_counts() -> None:
    values = produce(n=4)
    count(values)
    count(values)
    count(values)


def test_steps_wait_for_a_place_and_their_step_started_names_it(memory_stores) -> None:
    executor = OneSlotExecutor()

    run = three_counts.run(executor=executor, enable_cache=False)

    assert executor.placed == ["slot"] * 4  # one at a time: submit asserts the slot was free
    steps = Client().get_run(run.id).steps.values()
    assert {s.started_worker for s in steps} == {"slot"}


@step(enable_cache=False)
def measure(values: list[int]) -> int:
    return len(values)


@step
def scale(values: list[int], factor: int = 1) -> list[int]:
    return [v * factor for v in values]


@pipeline
def busy_then_cached(factor: int = 1) -> None:
    values = produce(n=4)
    measure(values)  # takes the only place
    count(values)  # cached: served while the place is taken
    scale(values, factor=factor)  # a miss when the factor changes: waits for the place


def test_a_step_waiting_for_a_place_is_served_by_the_cache_without_one(memory_stores) -> None:
    busy_then_cached.run(factor=1, executor=InProcessExecutor())
    executor = OneSlotExecutor()

    run = busy_then_cached.run(factor=2, executor=executor)

    assert executor.placed == ["slot", "slot"]  # `measure`, then `scale` once it was free
    steps = Client().get_run(run.id).steps
    assert steps["count"].cache_hit and steps["count"].started_worker is None
    served, busy = steps["count"].ended_at, steps["measure"].ended_at
    assert served is not None and busy is not None and served < busy  # did not wait for it
    assert steps["scale"].started_worker == "slot" and not steps["scale"].cache_hit
    started = [
        r.event
        for r in open_context().events.read_for_projection(0, 10_000)
        if type(r.event).__name__ == "StepStarted"
    ]
    assert len(started) == 8  # four per run: the lookup that found no hit recorded nothing


def test_an_executor_that_never_has_a_place_fails_the_run_saying_so(memory_stores) -> None:
    with pytest.raises(ExecutorError, match=r"no free place for steps \['produce'\]"):
        three_counts.run(executor=OneSlotExecutor(threads=0), enable_cache=False)
