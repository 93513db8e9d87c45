"""The ``StepCode`` aggregate: a step's source text, recorded once per distinct code hash.

Comparing two runs shows how a step's code changed, so the log must hold the
source each code hash stood for. A run records it only when no run recorded that
hash before: the stream id is derived from the hash, so two writers racing to
record the same code collide on the stream's first version, and the loser finds
it recorded. Runs recorded before this existed have no source; a comparison says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineagelog.domain.base import GENESIS_HASH, LineageAggregate
from lineagelog.domain.names import step_code_id

__all__ = ["MAX_SOURCE_LENGTH", "StepCode"]

MAX_SOURCE_LENGTH = 1_000_000
"""Characters of source kept (a generated step may be huge; the rest is cut, and said to be)."""


class StepCode(LineageAggregate):
    """The source text a step's code hash stood for."""

    class Event(LineageAggregate.Event):
        """Base of the events of ``StepCode``.

        Its events derive from it as written: eventsourcing would otherwise redefine each
        one under a base of its own making, a second dataclass per event class at import.
        """

    class CodeRecorded(LineageAggregate.Created, Event):
        """A step's source was recorded for the first run of its code hash.

        ``source`` is None when Python could not read it (a step made by ``exec``);
        ``truncated`` says the source was longer than ``MAX_SOURCE_LENGTH``.
        """

        code_hash: str
        step_name: str
        source_ref: str
        source: str | None
        truncated: bool

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.code_hash = self.code_hash
            aggregate.source = self.source

    if TYPE_CHECKING:
        code_hash: str
        source: str | None

    @classmethod
    def record(
        cls, *, code_hash: str, step_name: str, source_ref: str, source: str | None
    ) -> StepCode:
        """Record the source behind ``code_hash`` (emits ``CodeRecorded``)."""
        truncated = source is not None and len(source) > MAX_SOURCE_LENGTH
        return cls._create(
            cls.CodeRecorded,
            id=step_code_id(code_hash),
            previous_hash=GENESIS_HASH,
            code_hash=code_hash,
            step_name=step_name,
            source_ref=source_ref,
            source=source[:MAX_SOURCE_LENGTH] if source is not None else None,
            truncated=truncated,
        )
