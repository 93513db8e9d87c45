"""Queries of the metadata view: the metadata of runs, step runs and artifact versions.

Rows are read in log order and merged (``domain.metadata.merged_metadata``):
the latest value of a key wins, and ``as_of`` leaves out what was logged later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from lineagelog.domain.metadata import merged_metadata
from lineagelog.projections import schema as t
from lineagelog.projections.view_reader import ViewReader

__all__ = ["MetadataQueries"]

_CHUNK = 500  # ids per IN (...) list: far below every backend's parameter limit


class MetadataQueries(ViewReader):
    """The logged metadata of any run, step run or artifact version, as of any position."""

    def logged_metadata(
        self, target_ids: Sequence[str], as_of: int | None = None
    ) -> dict[str, dict[str, Any]]:
        """Target id -> its logged metadata, merged in log order (ids with none are left out).

        Values read back as the types they were logged as (a tuple, a ``Uri``...).
        """
        m = t.run_metadata
        entries: dict[str, list[tuple[str, Any, str]]] = {}
        ids = sorted(set(target_ids))
        with self._connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                query = (
                    select(m.c.target_id, m.c.key, m.c.value, m.c.type)
                    .where(m.c.target_id.in_(ids[start : start + _CHUNK]))
                    .order_by(m.c.position, m.c.key)
                )
                if as_of is not None:
                    query = query.where(m.c.position <= as_of)
                for row in conn.execute(query):
                    entries.setdefault(row.target_id, []).append((row.key, row.value, row.type))
        return {target: merged_metadata(rows) for target, rows in entries.items()}
