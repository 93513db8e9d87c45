"""The DAG being built in this context, if a pipeline function is running.

A step called inside a pipeline function adds an invocation to it instead of
running; outside one it just runs its function. ``lineagelog.api.building``
sets it; ``lineagelog.api.step`` reads it, knowing only what it can be asked.
"""

from __future__ import annotations

import contextvars
from typing import Any, Protocol

__all__ = ["DagRecorder", "active_dag", "current_builder"]


class DagRecorder(Protocol):
    """What a step asks of the DAG being built: record one call of it."""

    def add_invocation(
        self,
        step: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        invocation_id: str | None = None,
        after: Any = None,
    ) -> Any:
        """Record a call of ``step`` and return placeholders for its outputs."""


active_dag: contextvars.ContextVar[DagRecorder | None] = contextvars.ContextVar(
    "lineagelog_builder", default=None
)
"""The DAG of the pipeline function running in this context (None: none is)."""


def current_builder() -> DagRecorder | None:
    """The DAG being built in this context, if a pipeline function is running."""
    return active_dag.get()
