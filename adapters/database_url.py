"""Database URLs: what one URL selects (a backend, its settings, a schema) and how to say it safely.

``sqlite:///path`` (embedded default, WAL), ``memory://`` (tests),
``postgresql://...`` (with the PostgreSQL extra) and any other SQLAlchemy URL.
Parsing checks everything it can without connecting, so a wrong URL is refused
with a message before any database is touched.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlsplit

from lineagelog.domain.errors import ConfigurationError
from lineagelog.domain.redaction import is_secret_parameter, redact_text, redact_url

__all__ = [
    "StoreLocation",
    "parse_database_url",
    "read_only_sqlite",
    "redact_location_text",
    "sqlite_file",
]


@dataclass(frozen=True)
class StoreLocation:
    """What a database URL selects: a persistence module and its settings.

    ``schema`` is the PostgreSQL schema holding both the log and the views
    (None: the server's default, ``public``).
    """

    url: str
    env: dict[str, str]
    sqlalchemy_url: str
    schema: str | None = None
    read_only: bool = False
    """A SQLite file this process cannot write: opened read-only, views answer as they are."""

    @property
    def backend(self) -> str:
        """``memory``, ``sqlite``, ``postgresql`` or ``sqlalchemy`` (any other SQL database)."""
        module = self.env["PERSISTENCE_MODULE"]
        return {
            "eventsourcing.popo": "memory",
            "eventsourcing.sqlite": "sqlite",
            "eventsourcing.postgres": "postgresql",
        }.get(module, "sqlalchemy")


_EXAMPLES = "use sqlite:///path/to/lineage.db, postgresql://user@host:5432/db or memory://"
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# URL query parameters of postgresql:// URLs, and the eventsourcing setting each sets.
_POSTGRES_OPTIONS = {
    "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",
    "pool_size": "POSTGRES_POOL_SIZE",
    "max_overflow": "POSTGRES_MAX_OVERFLOW",
    "lock_timeout": "POSTGRES_LOCK_TIMEOUT",
}


def parse_database_url(url: str) -> StoreLocation:
    """Turn a lineagelog database URL into eventsourcing and SQLAlchemy settings.

    ``postgresql://user:password@host:port/db?schema=lineage`` puts the log and
    the views in PostgreSQL (psycopg 3), in schema ``lineage`` when given; other
    query parameters: ``connect_timeout``, ``pool_size``, ``max_overflow``,
    ``lock_timeout``. Any other SQLAlchemy URL (``mysql+pymysql://...``) goes
    through eventsourcing-sqlalchemy.

    Raises:
        ConfigurationError: the URL is malformed or names an unsupported backend.

    Examples:
        >>> loc = parse_database_url("postgresql://bob:pw@db:5433/lineage?schema=team")
        >>> loc.env["POSTGRES_HOST"], loc.env["POSTGRES_PORT"], loc.schema
        ('db', '5433', 'team')
        >>> redact_url(loc.sqlalchemy_url)
        'postgresql+psycopg://bob:***@db:5433/lineage'

    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"database URL {url!r} is empty; {_EXAMPLES}")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        return StoreLocation(url, {"PERSISTENCE_MODULE": "eventsourcing.popo"}, "sqlite://")
    if scheme == "sqlite":
        return _sqlite_location(url)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres_location(url)
    if (scheme and "+" in scheme) or scheme in ("mysql", "mariadb", "mssql", "oracle"):
        return _sqlalchemy_location(url)
    raise ConfigurationError(
        f"database URL {redact_url(url)!r} has unsupported scheme {scheme or '(none)'!r}; "
        f"{_EXAMPLES}, or another SQLAlchemy URL such as mysql+pymysql://user@host/db"
    )


def read_only_sqlite(location: StoreLocation) -> StoreLocation:
    """``location`` opened read-only when it is a SQLite file this process cannot write.

    The file counts as unwritable when it or its folder is (a read-only
    filesystem says so even to root). SQLite then opens it with ``mode=ro``, or,
    when the folder cannot hold the WAL's shared-memory file either, as
    ``immutable`` (nothing can write a file on a read-only filesystem).
    Any other location is returned as it is.
    """
    path = Path(location.env.get("SQLITE_DBNAME", ""))
    if location.backend != "sqlite" or not path.is_file():
        return location
    folder_writable = os.access(path.parent, os.W_OK)
    if os.access(path, os.W_OK) and folder_writable:
        return location
    shared = path.with_name(path.name + "-shm").exists()
    mode = "mode=ro" if folder_writable or shared else "immutable=1"
    uri = f"file:{quote(str(path))}?{mode}"
    return replace(
        location,
        env={**location.env, "SQLITE_DBNAME": uri},
        sqlalchemy_url=f"sqlite:///{uri}&uri=true",
        read_only=True,
    )


def sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:///`` URL names (absolute), or None for any other URL.

    Unlike ``parse_database_url`` it creates nothing: read commands ask it
    whether the database is there before anything would create it.
    """
    if not isinstance(url, str) or not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].partition("?")[0]
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve()


def _sqlite_location(url: str) -> StoreLocation:
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    path, _, query = path.partition("?")
    options = dict(parse_qsl(query))
    synchronous = options.pop("synchronous", "normal").upper()
    if synchronous not in ("NORMAL", "FULL") or options:
        raise ConfigurationError(
            f"database URL {redact_url(url)!r} has unsupported options "
            f"{redact_url('?' + query)[1:]!r}; the only option is "
            "?synchronous=normal (default) or ?synchronous=full (fsync every append)"
        )
    if not path or path == ":memory:":
        raise ConfigurationError(
            f"database URL {redact_url(url)!r} names no file; use sqlite:///path/to/lineage.db "
            "(or memory:// for a throwaway store)"
        )
    db_path = Path(path).expanduser().resolve()
    if db_path.is_dir():
        raise ConfigurationError(
            f"database URL {redact_url(url)!r} points at a folder; "
            f"name a file such as {db_path}/lineage.db"
        )
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigurationError(
            f"cannot create the folder of database {str(db_path)!r}: {e.strerror}; "
            "choose a writable location with LINEAGELOG_HOME or LINEAGELOG_DATABASE_URL"
        ) from e
    return StoreLocation(
        url,
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(db_path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "SQLITE_SYNCHRONOUS": synchronous,
        },
        f"sqlite:///{db_path}",
    )


def _postgres_location(url: str) -> StoreLocation:
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as e:
        raise ConfigurationError(
            f"database URL {shown!r} is malformed ({redact_text(str(e), [url])}); "
            "use postgresql://user:password@host:5432/dbname"
        ) from None
    if importlib.util.find_spec("psycopg") is None:
        raise ConfigurationError(
            f"database URL {shown!r} needs psycopg 3, which is not installed; "
            "pip install 'lineagelog[postgres]'"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        raise ConfigurationError(
            f"database URL {shown!r} names no database; "
            "use postgresql://user:password@host:5432/dbname"
        )
    if not parts.username:
        raise ConfigurationError(
            f"database URL {shown!r} names no user; use postgresql://user:password@host:5432/dbname"
        )
    user, password = unquote(parts.username), unquote(parts.password or "")
    host = parts.hostname or "localhost"
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        # One round trip per append (adapters.postgres_log), same locking and durability.
        "APPLICATION_RECORDER_TOPIC": "lineagelog.adapters.postgres_log:LogRecorder",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "8",
    }
    schema: str | None = None
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        value = values[-1]
        if key == "password":  # libpq's spelling; the userinfo's password gives way
            password = value
            env["POSTGRES_PASSWORD"] = value
        elif key == "schema":
            if not _IDENTIFIER.fullmatch(value):
                raise ConfigurationError(
                    f"database URL {shown!r} has schema {value!r}, which is not a plain SQL "
                    "identifier; use letters, digits and underscores (at most 63)"
                )
            schema = value
            env["POSTGRES_SCHEMA"] = value
        elif key in _POSTGRES_OPTIONS and value.isdigit():
            env[_POSTGRES_OPTIONS[key]] = value
        else:
            raise ConfigurationError(
                redact_text(
                    f"database URL {shown!r} has unknown or invalid parameter "
                    f"{key}={'***' if is_secret_parameter(key) else repr(value)}; known "
                    f"parameters: password, schema, {', '.join(sorted(_POSTGRES_OPTIONS))} "
                    "(integers)",
                    [url],
                )
            )
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += f"@{host if ':' not in host else f'[{host}]'}:{port}"
    sqlalchemy_url = f"postgresql+psycopg://{netloc}/{quote(dbname, safe='')}"
    return StoreLocation(url, env, sqlalchemy_url, schema)


def _sqlalchemy_location(url: str) -> StoreLocation:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = redact_url(url)
    try:
        dialect = make_url(url).get_dialect()
        dialect.import_dbapi()
    except (ArgumentError, NoSuchModuleError, ValueError) as e:
        raise ConfigurationError(
            f"database URL {shown!r} is not a SQLAlchemy URL lineagelog can use "
            f"({redact_text(str(e), [url])}); {_EXAMPLES}"
        ) from None
    except ImportError as e:
        raise ConfigurationError(
            f"database URL {shown!r} needs the driver module {e.name!r}, which is not "
            "installed; pip install 'lineagelog[mysql]' (or the driver for your database)"
        ) from None
    if importlib.util.find_spec("eventsourcing_sqlalchemy") is None:
        raise ConfigurationError(
            f"database URL {shown!r} needs eventsourcing-sqlalchemy, which is not installed; "
            "pip install 'lineagelog[mysql]'"
        )
    return StoreLocation(
        url,
        {"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url},
        url,
    )


def redact_location_text(text: str, location: StoreLocation) -> str:
    """Return a driver's message without the credentials of ``location``, which it may quote."""
    text = redact_text(text, [location.url, location.sqlalchemy_url])
    password = location.env.get("POSTGRES_PASSWORD")
    return text.replace(password, "***") if password else text
