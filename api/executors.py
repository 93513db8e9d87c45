"""Choosing where steps run: ``executor=`` on a pipeline, its run, ``configure``, the environment.

``"local"`` (the default) runs every step in the calling process, one after
another, as always. ``"dask"`` runs them on a temporary ``distributed.LocalCluster``
of worker processes; ``"dask://HOST:PORT"`` on the scheduler at that address; a
``DaskExecutor(...)`` (or any ``StepExecutor``) as given. The first of these that
is set wins: ``pipeline.run(executor=...)``, the pipeline's own
(``@pipeline(executor=...)``, ``configure``, ``with_options``), the process-wide
``configure(executor=...)``, then ``LINEAGELOG_EXECUTOR``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

from lineagelog.domain.errors import ExecutorError, PipelineDefinitionError

if TYPE_CHECKING:
    from lineagelog.adapters.executors import StepExecutor

__all__ = [
    "EXECUTOR_VARIABLE",
    "ExecutorChoice",
    "OnFailure",
    "checked_executor",
    "checked_on_failure",
    "configure_executor",
    "executor_for",
]

EXECUTOR_VARIABLE = "LINEAGELOG_EXECUTOR"

ExecutorChoice: TypeAlias = "str | StepExecutor"
"""``"local"``, ``"dask"``, ``"dask://HOST:PORT"``, or an executor object."""

OnFailure = Literal["stop", "continue"]
"""What a run does after a step fails: start no new step, or every step not depending on it."""

_configured: list[ExecutorChoice | None] = [None]


def checked_executor(owner: str, given: Any) -> ExecutorChoice:
    """``given`` if it names an executor, else a clear error naming it.

    Raises:
        ExecutorError: naming ``owner``, the value and the accepted forms.
    """
    from lineagelog.adapters.executors import StepExecutor  # only a run given an executor

    if isinstance(given, StepExecutor):
        return given
    if isinstance(given, str):
        text = given.strip()
        if text in ("local", "dask"):
            return text
        if text.startswith("dask://") and len(text) > len("dask://"):
            return text
    raise ExecutorError(
        f"{owner}: executor={given!r} names no executor; use 'local', 'dask' (a temporary "
        "local cluster), 'dask://HOST:PORT' (a running scheduler) or DaskExecutor(...)"
    )


def checked_on_failure(owner: str, given: Any) -> OnFailure:
    """``given`` if it is ``"stop"`` or ``"continue"``, else a clear error naming it.

    Raises:
        PipelineDefinitionError: naming ``owner`` and the value (a ZenML failure hook,
            a callable, is said to be one).
    """
    if given in get_args(OnFailure):
        return given  # type: ignore[no-any-return]
    hook = (
        "ZenML's failure hooks (a function as on_failure) are not part of lineagelog; "
        if callable(given)
        else ""
    )
    raise PipelineDefinitionError(
        f"{owner}: on_failure={given!r} is refused: {hook}give 'stop' (start no step after a "
        "failure, the default) or 'continue' (run every step that does not depend on the "
        "failed one)"
    )


def configure_executor(executor: ExecutorChoice | None) -> None:
    """Set the process-wide executor (None: back to ``LINEAGELOG_EXECUTOR``, else local)."""
    _configured[0] = None if executor is None else checked_executor("configure()", executor)


def executor_for(*choices: ExecutorChoice | None) -> StepExecutor | None:
    """The executor the first set choice names, then ``configure``, then the environment.

    None means this process (``"local"``). A ``"dask"`` choice gives a new
    ``DaskExecutor`` for each run, so each run has its own temporary cluster.

    Raises:
        ExecutorError: ``LINEAGELOG_EXECUTOR`` names no executor.
    """
    for choice in (*choices, _configured[0]):
        if choice is not None:
            return _made(choice)
    from_environment = os.environ.get(EXECUTOR_VARIABLE, "").strip()
    if not from_environment:
        return None
    return _made(checked_executor(f"{EXECUTOR_VARIABLE}={from_environment!r}", from_environment))


def _made(choice: ExecutorChoice) -> StepExecutor | None:
    from lineagelog.adapters.executors import StepExecutor

    if isinstance(choice, StepExecutor):
        return choice
    if choice == "local":
        return None
    from lineagelog.adapters.executors.dask import DaskExecutor  # only a Dask run loads it

    if choice == "dask":
        return DaskExecutor()
    return DaskExecutor(address="tcp://" + choice.removeprefix("dask://"))
