"""The last event of every stream, in bounded memory, for a walk over a whole log.

Checking hash chains needs, for each event, the last event of its stream seen
so far. A year of history has over a million streams, most of them short (a
step run's events lie close together) and never seen again; a few (an
artifact name, a pipeline) come back now and then. ``StreamHeads`` keeps the
most recently used streams in a dict and moves the others, a batch at a time,
to a private scratch SQLite database on disk (``sqlite3.connect("")``: deleted
when closed), where a stream that comes back is looked up.
"""

from __future__ import annotations

import sqlite3
from itertools import islice

__all__ = ["Head", "StreamHeads"]

Head = tuple[int, str | None, int]
"""A stream's last event seen: (its version, its hash or None if unknown, its position)."""

KEPT = 50_000
"""Streams kept in memory (a few hundred bytes each); the least recently used go to disk."""


class StreamHeads:
    """A mapping from stream id to ``Head`` that keeps at most ``kept`` entries in memory."""

    def __init__(self, kept: int | None = None) -> None:
        """Keep up to ``kept`` streams in memory (at least 1; default ``KEPT``)."""
        self._kept = max(1, KEPT if kept is None else kept)
        self._recent: dict[str, Head] = {}
        self._spilled: sqlite3.Connection | None = None

    def get(self, stream: str) -> Head | None:
        """The last event seen of ``stream``, or None if none was."""
        head = self._recent.get(stream)
        if head is not None or self._spilled is None:
            return head
        row = self._spilled.execute(
            "SELECT version, hash, position FROM heads WHERE stream = ?", (stream,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def __setitem__(self, stream: str, head: Head) -> None:
        """Record ``head`` as the last event seen of ``stream``."""
        recent = self._recent
        recent.pop(stream, None)  # re-inserted last: the dict's order is the order of use
        recent[stream] = head
        if len(recent) > self._kept:
            self._spill(max(1, self._kept // 5))

    def __len__(self) -> int:
        """Streams in memory (for tests: the rest are on disk)."""
        return len(self._recent)

    def close(self) -> None:
        """Drop what went to disk now (the scratch database deletes itself when collected too)."""
        if self._spilled is not None:
            self._spilled.close()
            self._spilled = None

    def _spill(self, count: int) -> None:
        """Move the ``count`` least recently used streams to the scratch database."""
        if self._spilled is None:
            self._spilled = sqlite3.connect("", isolation_level=None)
            self._spilled.execute(
                "CREATE TABLE heads (stream TEXT PRIMARY KEY, version INTEGER NOT NULL, "
                "hash TEXT, position INTEGER NOT NULL) WITHOUT ROWID"
            )
        recent = self._recent
        oldest = list(islice(recent, count))
        spilled = self._spilled
        spilled.execute("BEGIN")
        spilled.executemany(
            "INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?)",
            [(stream, *recent.pop(stream)) for stream in oldest],
        )
        spilled.execute("COMMIT")
