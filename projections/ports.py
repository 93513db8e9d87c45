"""What projections need from outside: a readable log, and an engine told who writes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the log's readers (a hashing worker, say) need no SQLAlchemy
    from sqlalchemy import Connection

__all__ = ["WRITE_OPTION", "BulkWrites", "EventLog", "RecordedEvent"]

WRITE_OPTION = "lineagelog_writes"
"""Execution option the projector sets on its engine: its transactions write.

How a driver honours it is the adapters' business (SQLite: ``BEGIN IMMEDIATE``,
see ``adapters.view_engine``); projections only declare the intent.
"""


BulkWrites = Callable[["Connection"], AbstractContextManager[None]]
"""Tunes a driver connection for loading a whole log into the views, and undoes it after."""


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

    def read_for_projection(
        self, after: int, limit: int, until: int | None = None
    ) -> list[RecordedEvent]:
        """Return the events of ``read``, possibly as light records, for the projector.

        A record has the domain event's class name as its type name and its fields
        as attributes, but ids may be canonical strings instead of UUIDs and
        timestamps UTC ISO 8601 text instead of datetimes. Handlers accept both.
        The default returns ``read``'s domain events.
        """
        return self.read(after, limit, until)

    def pages_for_projection(
        self, after: int, until: int, page_size: int
    ) -> Iterator[list[RecordedEvent]]:
        """Every event in ``(after, until]`` as ``read_for_projection`` gives them, in order.

        Pages hold at most ``page_size`` events, and none is empty. The default
        reads them one after another; a log may read and decode ahead (in another
        process) while the caller applies what it has.
        """
        while after < until:
            page = self.read_for_projection(after, page_size, until=until)
            if not page:
                return
            yield page
            after = page[-1].position
