"""What projections need from the outside: a readable notification log."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, NamedTuple

__all__ = ["EventLog", "RecordedEvent"]


class RecordedEvent(NamedTuple):
    """A domain event and its position in the global log (the notification id)."""

    position: int
    event: Any


class EventLog(ABC):
    """The port projections read from: the global, ordered log of events."""

    @abstractmethod
    def max_position(self) -> int:
        """The position of the last recorded event (0 when the log is empty)."""

    @abstractmethod
    def read(self, after: int, limit: int, until: int | None = None) -> list[RecordedEvent]:
        """Events with positions in ``(after, until]``, at most ``limit``, in order."""
