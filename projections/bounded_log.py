"""A log seen as if it ended earlier: what replay and the views' audit project from."""

from __future__ import annotations

from collections.abc import Iterator

from lineagelog.projections.ports import EventLog, RecordedEvent

__all__ = ["BoundedLog"]


class BoundedLog(EventLog):
    """The real log, seen as if it ended at ``until``."""

    def __init__(self, log: EventLog, until: int) -> None:
        """Read ``log`` but never past position ``until``."""
        self.log = log
        self.until = until

    def max_position(self) -> int:
        """Return the smaller of ``until`` and the real log's end."""
        return min(self.until, self.log.max_position())

    def _bound(self, until: int | None) -> int:
        return self.until if until is None else min(until, self.until)

    def read(self, after: int, limit: int, until: int | None = None) -> list[RecordedEvent]:
        """Events of the real log in ``(after, min(until, self.until)]``."""
        return self.log.read(after, limit, until=self._bound(until))

    def read_for_projection(
        self, after: int, limit: int, until: int | None = None
    ) -> list[RecordedEvent]:
        """The real log's fast projection records, bounded like ``read``."""
        return self.log.read_for_projection(after, limit, until=self._bound(until))

    def pages_for_projection(
        self, after: int, until: int, page_size: int
    ) -> Iterator[list[RecordedEvent]]:
        """The real log's pages, bounded like ``read`` (and read ahead as it reads them)."""
        return self.log.pages_for_projection(after, self._bound(until), page_size)
