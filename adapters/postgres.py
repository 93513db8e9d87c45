"""PostgreSQL connections outside the event store's pool: set-up locking and LISTEN."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.database_url import redact_location_text
from lineagelog.domain.errors import StorageError
from lineagelog.domain.redaction import redact_url

if TYPE_CHECKING:
    from lineagelog.adapters.database_url import StoreLocation

__all__ = ["connect_postgres", "postgres_setup_lock"]


def connect_postgres(location: StoreLocation) -> Any:
    """Open a psycopg connection (autocommit) to the PostgreSQL database ``location`` names.

    Raises:
        StorageError: naming the redacted URL and what to check; the password
            never appears.

    """
    import psycopg

    env = location.env
    try:
        return psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT") or 10),
            autocommit=True,
        )
    except psycopg.Error as e:
        raise StorageError(
            f"cannot connect to PostgreSQL at {redact_url(location.url)!r}: "
            f"{redact_location_text(str(e).strip(), location)}; check host, port, user, "
            "password and that the database exists (createdb)"
        ) from None


@contextmanager
def postgres_setup_lock(location: StoreLocation) -> Iterator[None]:
    """Serialize table creation among processes, and create the schema if it is missing.

    Two workers starting at once would otherwise race on ``CREATE TABLE IF NOT
    EXISTS`` (PostgreSQL raises a unique violation on its catalog for the loser).
    """
    from psycopg import sql

    conn = connect_postgres(location)
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_KEY,))
        try:
            if location.schema:
                create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
                conn.execute(create.format(sql.Identifier(location.schema)))
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))


_SETUP_LOCK_KEY = 0x6C696E656167  # "lineag": one advisory lock key for lineagelog setup
