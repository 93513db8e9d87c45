"""Opening the stores for a command, and parsing the arguments many commands share."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lineagelog.api.cli.common import MAX_POSITION
from lineagelog.domain.errors import LineageError, StorageError

if TYPE_CHECKING:
    from lineagelog.api.client import Client
    from lineagelog.api.context import LineageContext
    from lineagelog.projections.run_queries import IdKind

__all__ = ["open_client", "open_context_for", "parse_as_of", "resolve_id"]

_MIN_PREFIX = 4


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


def resolve_id(context: LineageContext, text: str, kind: IdKind) -> str:
    """Expand what a user typed into a full id of a ``run``, ``step run`` or lineage ``node``.

    A full UUID passes through; a unique prefix of at least four characters
    (as the tables show eight) is expanded, as git does with commits; a run
    may also be named by its run name. Anything else is returned unchanged
    for the query to resolve or report (a lineage node may be an artifact name).
    """
    from uuid import UUID

    from lineagelog.domain.errors import NotFoundError

    text = text.strip()
    try:
        return str(UUID(text))
    except ValueError:
        pass
    looks_like_prefix = len(text) >= _MIN_PREFIX and all(
        c in "0123456789abcdef-" for c in text.lower()
    )
    if kind != "run" and not looks_like_prefix:
        return text
    matches = context.queries.ids_named(kind, text)
    if kind == "run" and len(matches) == 1 and not matches[0].startswith(text.lower()):
        return matches[0]  # named by its run name
    if not looks_like_prefix:
        return text
    if len(matches) > 1:
        raise NotFoundError(
            f"{kind} id prefix {text!r} is ambiguous ({', '.join(m[:12] for m in matches)}, ...); "
            "type more characters"
        )
    if not matches and kind == "node":
        return text  # perhaps an artifact name: the lineage query resolves or reports it
    if not matches:
        raise NotFoundError(
            f"no {kind} whose id starts with {text!r}; "
            + (
                "list runs with `lineagelog runs list`"
                if kind == "run"
                else "see ids with `lineagelog runs show RUN`"
            )
        )
    return str(matches[0])


def parse_as_of(value: str | None) -> datetime | int | None:
    """Parse ``--as-of``: a log position (an integer) or an ISO time (naive means UTC)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        position = int(text)
        if position > MAX_POSITION:
            raise LineageError(
                f"--as-of {value!r} is past any log position (at most {MAX_POSITION}); "
                "give a position from `lineagelog events tail` or an ISO time"
            )
        return position
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise LineageError(
            f"--as-of {value!r} is neither a log position (e.g. 42) nor an ISO time "
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
