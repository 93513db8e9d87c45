"""The executor port: run tasks the runner hands over somewhere, and say how they went.

The runner owns the DAG, the cache and the log; an executor only runs a task it is
handed (a picklable callable without arguments) and reports, for each task, when an
attempt started on which worker (``TaskStarted``) and how it ended (``TaskFinished``).
It never sees steps, artifacts or events. An adapter for another engine (Ray, a
process pool) implements the five abstract methods of ``StepExecutor``, and
``place`` when it can tell where the next task will run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = [
    "ExecutorTask",
    "Placement",
    "StepExecutor",
    "TaskFinished",
    "TaskNews",
    "TaskStarted",
]


@dataclass(frozen=True)
class Placement:
    """Where the next task will start: on ``worker``, or wherever the engine chooses (None)."""

    worker: str | None


@dataclass(frozen=True)
class ExecutorTask:
    """One unit of work: ``work()`` runs on a worker and returns a picklable result."""

    key: str
    """Unique among the tasks of one executor session (the runner uses the step run id)."""
    label: str
    """How messages name the task (``step 'train'``)."""
    work: Callable[[], Any]
    worker: str | None = None
    """Where to run it (what ``place`` gave), or None for wherever the engine chooses."""


@dataclass(frozen=True)
class TaskStarted:
    """An attempt at ``key`` began on ``worker`` (reported once per attempt)."""

    key: str
    worker: str
    at: float
    """The worker's clock (``time.time()``) when the attempt began."""


@dataclass(frozen=True)
class TaskFinished:
    """The task ``key`` ended: ``result`` on success, else ``error`` (never both).

    ``lost_worker`` names the worker that died running the last attempt when the
    engine gave up on the task because its workers kept dying.
    """

    key: str
    worker: str | None
    result: Any = None
    error: BaseException | None = None
    traceback: str | None = None
    lost_worker: str | None = None


TaskNews = TaskStarted | TaskFinished


class StepExecutor(ABC):
    """Runs tasks somewhere else than the calling thread, and reports their progress.

    The runner calls ``open`` once, ``check_sendable`` on what it will send, then,
    for each ready task, ``place`` and (when it gives a place) ``submit``, and
    ``wait`` until every submitted task has finished, then ``close`` (also after
    an error). ``wait`` returns the news of
    one task in the order it happened: the ``TaskStarted`` of an attempt always
    comes before the task's ``TaskFinished``.
    """

    name: str
    """The executor as the log records it (``dask tcp://127.0.0.1:8786``)."""

    @abstractmethod
    def open(self, artifact_store: ArtifactStore) -> None:
        """Get ready to run tasks that read and write ``artifact_store``.

        Raises:
            ExecutorError: the workers cannot be reached.
            UnreachableStoreError: some worker cannot read what this process writes there.
        """

    @abstractmethod
    def check_sendable(self, what: Any, label: str) -> None:
        """Refuse ``what`` (a step function, its parameters) unless it can travel to the workers.

        Raises:
            StepNotSerializableError: naming ``label``.
        """

    def place(self) -> Placement | None:
        """Where a task submitted now would start, or None while every worker is busy.

        The runner records the place as the step's worker and submits the task with
        it; while None, it waits for news (a task finishing frees a place). This
        default lets the engine place every task: ``Placement(None)``, the worker
        then known from the attempt's ``TaskStarted`` only.
        """
        return Placement(None)

    @abstractmethod
    def submit(self, task: ExecutorTask) -> None:
        """Start running ``task`` on ``task.worker`` (or as soon as a worker is free).

        Raises:
            ExecutorError: the task cannot be sent to the workers (e.g. not serializable).
        """

    @abstractmethod
    def wait(self) -> list[TaskNews]:
        """Block until there is news of a submitted task; return all news so far."""

    @abstractmethod
    def close(self) -> None:
        """Release what ``open`` acquired (a temporary cluster is shut down)."""
