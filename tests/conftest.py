"""Fixtures shared by every test layer: real stores and the servers some tests need.

Stores: ``sqlite_store_urls`` is a real SQLite file and artifact folder in the
test's own folder; ``sqlite_stores`` is the same, configured as the default;
``any_stores`` runs a test twice, configured on SQLite and on PostgreSQL.

PostgreSQL: ``postgres_url`` is a throwaway database (``lineagelog_test_<random>``)
on the server named by ``LINEAGELOG_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), dropped at teardown.

S3: ``s3_server`` is moto in server mode on loopback, started by the tests;
``s3_store`` is a fresh bucket on it, with the usual AWS settings
(``AWS_ENDPOINT_URL``, keys, region) in the environment.

Outside CI a missing server skips its tests with a message saying how to run
them; with ``CI=true`` it fails them instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from parts import require_dot, unavailable

POSTGRES_ADMIN_URL = os.environ.get(
    "LINEAGELOG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MARIADB_URL = os.environ.get(
    "LINEAGELOG_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)


@pytest.fixture
def sqlite_store_urls(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real SQLite file and a real artifact folder: (database URL, artifact store).

    Nothing is configured: the test passes them on. Contexts opened on them are
    closed at teardown, so the file is not held open past the test.
    """
    from lineagelog.api.context import close_contexts

    yield f"sqlite:///{tmp_path / 'lineage.db'}", str(tmp_path / "artifacts")
    close_contexts()


@pytest.fixture
def sqlite_stores(sqlite_store_urls: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """A real SQLite file and a real artifact folder, configured as the default."""
    from lineagelog.api.config import configure

    database_url, artifact_store = sqlite_store_urls
    configure(database_url=database_url, artifact_store=artifact_store)
    yield database_url, artifact_store
    configure()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Real stores configured as the default: once a SQLite file, once a PostgreSQL database.

    The artifact folder is a real folder in either case.
    """
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts

    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'lineage.db'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
    artifact_store = str(tmp_path / "artifacts")
    configure(database_url=database_url, artifact_store=artifact_store)
    yield database_url, artifact_store
    close_contexts()
    configure()


@pytest.fixture
def dot_program() -> str:
    """The Graphviz ``dot`` program, for tests that render diagrams."""
    return require_dot()


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _admin_connect() -> object:
    import psycopg

    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a reachable PostgreSQL server (or skip/fail saying how to get one)."""
    try:
        import psycopg
    except ImportError:
        unavailable("psycopg", "pip install 'lineagelog[postgres]'")
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3):
            pass
    except psycopg.Error as e:
        unavailable(
            f"PostgreSQL at {redacted(POSTGRES_ADMIN_URL)} ({str(e).strip().splitlines()[0]})",
            "start it (e.g. pg_ctlcluster 15 main start) or point LINEAGELOG_TEST_POSTGRES_URL "
            "at a server where this user may CREATE DATABASE, then run "
            "`python -m pytest -m postgres`",
        )
    return POSTGRES_ADMIN_URL


def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """Create a throwaway database; return (its name, its URL)."""
    import psycopg

    dbname = f"lineagelog_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return dbname, _with_database(admin_url, dbname)


def drop_postgres_database(admin_url: str, dbname: str) -> None:
    """Drop a throwaway database, disconnecting whoever is still on it."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from lineagelog.api.context import close_contexts

    dbname, url = create_postgres_database(postgres_server)
    try:
        yield url
    finally:
        close_contexts()
        drop_postgres_database(postgres_server, dbname)


@dataclass(frozen=True)
class S3Server:
    """A loopback S3 protocol server and the settings that reach it."""

    endpoint_url: str
    env: dict[str, str]

    def create_bucket(self) -> str:
        """Create a bucket with a fresh name; return the name."""
        import boto3

        bucket = f"lineagelog-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        )
        client.create_bucket(Bucket=bucket)
        return bucket


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto in server mode on 127.0.0.1, on a free port, for the whole session."""
    try:
        import s3fs  # noqa: F401
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        unavailable(f"{e.name}", "pip install 'lineagelog[s3,test]' (s3fs and moto[server])")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        yield S3Server(endpoint, env)
    finally:
        server.stop()


@pytest.fixture
def s3_store(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket on the loopback server, as an ``s3://bucket/prefix`` store URL.

    The AWS settings are in this process's environment for the test (and so in
    the environment of the processes it starts).
    """
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    bucket = s3_server.create_bucket()
    yield f"s3://{bucket}/artifacts"
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


def _mariadb_connect(url: str, database: str | None = None) -> object:
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username,
        password=parts.password or "",
        database=database,
        connect_timeout=3,
        autocommit=True,
    )


@pytest.fixture(scope="session")
def mariadb_server() -> str:
    """The URL of a reachable MariaDB/MySQL server (or skip/fail saying how to get one)."""
    try:
        import pymysql
    except ImportError:
        unavailable("pymysql", "pip install 'lineagelog[mysql]'")
    try:
        _mariadb_connect(MARIADB_URL).close()  # type: ignore[attr-defined]
    except pymysql.MySQLError as e:
        unavailable(
            f"MariaDB at {redacted(MARIADB_URL)} ({e})",
            "start it or set LINEAGELOG_TEST_MARIADB_URL=mysql+pymysql://user@host:3306/db",
        )
    return MARIADB_URL


@pytest.fixture
def mariadb_url(mariadb_server: str) -> Iterator[str]:
    """A fresh MariaDB database for one test, dropped afterwards."""
    from lineagelog.api.context import close_contexts

    dbname = f"lineagelog_test_{uuid.uuid4().hex[:12]}"
    conn = _mariadb_connect(mariadb_server)
    conn.cursor().execute(f"CREATE DATABASE `{dbname}`")  # type: ignore[attr-defined]
    try:
        yield _with_database(mariadb_server, dbname)
    finally:
        close_contexts()
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{dbname}`")  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]


def redacted(url: str) -> str:
    """A URL without its password, for skip messages."""
    from lineagelog.domain.redaction import redact_url

    return redact_url(url)


@pytest.fixture
def load_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import ``source`` from a fresh file under ``name`` (each call its own file)."""

    def load(name: str, source: str) -> ModuleType:
        folder = tmp_path / uuid.uuid4().hex
        folder.mkdir()
        path = folder / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where loading may create temporary folders; empty unless something was materialized."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
