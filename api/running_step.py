"""The step whose body runs now in this context, for calls that act on "the current run".

``add_tags()`` / ``remove_tags()`` without a target tag the run of the step
that calls them, and ``infer_artifact=True`` tags one of its outputs, as in
ZenML. The runner sets this around a step body; outside one it is None.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uuid import UUID

    from lineagelog.api.context import LineageContext
    from lineagelog.api.tagging import Tag

__all__ = ["RunningStep", "running_step", "step_running"]


@dataclass
class RunningStep:
    """A step body running now: its run, its outputs, and tags waiting for those outputs."""

    context: LineageContext
    run_id: UUID
    invocation_id: str
    output_names: tuple[str, ...]
    output_tags: dict[str, list[Tag]] = field(default_factory=dict)
    """Tags for outputs not written yet, recorded with each output's version."""

    def tag_output(self, output_name: str, tags: list[Tag]) -> None:
        """Tag output ``output_name`` when it is recorded (in the same append)."""
        self.output_tags.setdefault(output_name, []).extend(tags)

    def untag_output(self, output_name: str, names: list[str]) -> None:
        """Drop tags waiting for ``output_name``: it has no version yet to remove them from."""
        waiting = self.output_tags.get(output_name, [])
        self.output_tags[output_name] = [t for t in waiting if t.name not in names]


_running: contextvars.ContextVar[RunningStep | None] = contextvars.ContextVar(
    "lineagelog_running_step", default=None
)


def running_step() -> RunningStep | None:
    """The step whose body runs now in this context, or None outside a step."""
    return _running.get()


@contextmanager
def step_running(step: RunningStep) -> Iterator[RunningStep]:
    """Mark ``step`` as the one running in this context while the block runs."""
    token = _running.set(step)
    try:
        yield step
    finally:
        _running.reset(token)
