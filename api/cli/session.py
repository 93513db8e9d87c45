"""Opening the stores for a command, and parsing the arguments many commands share."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lineagelog.domain.errors import LineageError, StorageError

if TYPE_CHECKING:
    from lineagelog.api.client import Client
    from lineagelog.api.context import LineageContext

__all__ = ["open_client", "open_context_for", "parse_as_of"]


def open_context_for(
    database_url: str | None, artifact_store: str | None, *, catch_up: bool = True
) -> LineageContext:
    """Open the stores named by the options (or the settings), views brought up to date.

    A database that cannot be opened or read becomes one ``StorageError`` naming it.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from lineagelog.api.config import resolve_settings
    from lineagelog.api.context import open_context

    settings = resolve_settings(database_url, artifact_store)
    try:
        context = open_context(settings.database_url, settings.artifact_store)
        if catch_up:
            context.catch_up()
        else:
            context.events.max_position()
    except (LineageError, SQLAlchemyError, OSError) as e:
        raise StorageError(
            f"cannot read the lineage database {_redacted(settings.database_url)}: "
            f"{_first_line(e)}; check that --database-url (or LINEAGELOG_DATABASE_URL) "
            "names a lineagelog database"
        ) from e
    return context


def open_client(database_url: str | None, artifact_store: str | None) -> Client:
    """Open a ``Client`` on the stores named by the options (or the settings)."""
    from lineagelog.api.client import Client

    return Client(_context=open_context_for(database_url, artifact_store))


def parse_as_of(value: str | None) -> datetime | int | None:
    """Parse ``--as-of``: a log position (an integer) or an ISO time (naive means UTC)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise LineageError(
            f"--as-of {value!r} is neither a log position (e.g. 42) nor an ISO time "
            "(e.g. 2024-05-01T12:00:00)"
        ) from None


def _redacted(url: str) -> str:
    from lineagelog.adapters.event_store import redact_url

    return redact_url(url)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
