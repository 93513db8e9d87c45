"""Read queries over the views. Queries read views, never aggregates.

Every query takes ``as_of``: a log position. ``None`` means now. Rows created
after the position are filtered out and changes made after it are undone on
the way out, so a past moment is read from the same tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from lineagelog.projections import schema as t
from lineagelog.projections.artifact_queries import ArtifactQueries
from lineagelog.projections.metadata_queries import MetadataQueries
from lineagelog.projections.run_queries import RunQueries

__all__ = ["ViewQueries"]


class ViewQueries(RunQueries, ArtifactQueries, MetadataQueries):
    """The queries the Client, the CLI and the runner ask of the views.

    The run and step run queries come from ``RunQueries``, the catalog and
    cache queries from ``ArtifactQueries``, logged metadata from ``MetadataQueries``;
    this class adds the log's clock.
    """

    def position_at(self, moment: datetime) -> int:
        """The last log position recorded at or before ``moment`` (0 if none)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        with self._connect() as conn:
            value = conn.scalar(
                select(func.max(t.timeline.c.position)).where(
                    t.timeline.c.timestamp <= moment.astimezone(UTC)
                )
            )
        return int(value or 0)
