"""Opening the stores for a command, and parsing the arguments many commands share.

What names a run, a step run or an artifact is resolved by the Client
(``lineagelog.projections.references``), so commands accept what Python accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lineagelog.api.cli.common import MAX_POSITION
from lineagelog.domain.errors import LineageError, StorageError

if TYPE_CHECKING:
    from lineagelog.api.client import Client
    from lineagelog.api.context import LineageContext

__all__ = ["open_client", "open_context_for", "parse_as_of"]


def open_context_for(
    database_url: str | None, artifact_store: str | None, *, catch_up: bool = True
) -> LineageContext:
    """Open the stores named by the options (or the settings), views brought up to date.

    A database that cannot be opened or read becomes one ``StorageError`` naming it
    (the adapters translate driver errors into ``LineageError`` subclasses).
    """
    from lineagelog.api.config import resolve_settings
    from lineagelog.api.context import open_context

    settings = resolve_settings(database_url, artifact_store)
    try:
        context = open_context(settings.database_url, settings.artifact_store)
        if catch_up:
            context.catch_up()
        else:
            context.events.max_position()
    except (LineageError, OSError) as e:
        raise StorageError(
            f"cannot read the lineage database {_redacted(settings.database_url)}: "
            f"{_redact_text(_first_line(e), settings.database_url)}; check that "
            "--database-url (or LINEAGELOG_DATABASE_URL) names a lineagelog database"
        ) from e
    return context


def open_client(database_url: str | None, artifact_store: str | None) -> Client:
    """Open a ``Client`` on the stores named by the options (or the settings)."""
    from lineagelog.api.client import Client

    return Client(_context=open_context_for(database_url, artifact_store))


def parse_as_of(value: str | None, option: str = "--as-of") -> datetime | int | None:
    """Parse ``--as-of`` (or ``option``): a log position (an integer) or an ISO time (naive: UTC).

    Errors name ``option``, the option the value was given to.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        position = int(text)
        if position > MAX_POSITION:
            raise LineageError(
                f"{option} {value!r} is past any log position (at most {MAX_POSITION}); "
                "give a position from `lineagelog events tail` or an ISO time"
            )
        return position
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise LineageError(
            f"{option} {value!r} is neither a log position (e.g. 42) nor an ISO time "
            "(e.g. 2024-05-01T12:00:00)"
        ) from None


def _redacted(url: str) -> str:
    from lineagelog.domain.redaction import redact_url

    return redact_url(url)


def _redact_text(text: str, url: str) -> str:
    from lineagelog.domain.redaction import redact_text  # a driver may quote the URL

    return redact_text(text, [url])


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
