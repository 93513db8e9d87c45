"""Hostile input lets nothing in: no path outside the store, no pickle, no SQL, no secrets."""

from __future__ import annotations

import io
import json
import logging
import uuid
from pathlib import Path
from typing import Annotated

import pytest
from cli import run_cli, store_options
from forgery import save_forged_output
from parts import unavailable
from sqlalchemy import inspect
from trust_pipelines import summing
from views import view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.materializers import PickleMaterializer
from lineagelog.api import Client, pipeline, step
from lineagelog.api.context import close_contexts, open_context
from lineagelog.domain.errors import (
    InvalidArtifactNameError,
    LineageError,
    NotFoundError,
    StorageError,
    UnsafeLoadError,
)

HOSTILE = [
    "x' OR '1'='1",
    '"; DROP TABLE runs; --',
    "'); DELETE FROM artifact_versions; --",
    "%",
    "_",
    "numbers' UNION SELECT id, id FROM runs --",
]


class Opaque:
    """A type only pickle can save."""

    def __init__(self, value: int) -> None:
        self.value = value


@step(output_materializers=PickleMaterializer)
def make_opaque() -> Annotated[Opaque, "opaque"]:
    return Opaque(7)


@pipeline
def pickling() -> None:
    make_opaque()


@pytest.fixture
def store(sqlite_store_urls: tuple[str, str]) -> tuple[str, str]:
    db, artifacts = sqlite_store_urls
    summing.run(database_url=db, artifact_store=artifacts)
    summing.run(n=6, database_url=db, artifact_store=artifacts)
    return db, artifacts


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A secret file outside the artifact store root."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "data.json").write_text("[1, 2, 3]")
    (folder / "secret.txt").write_text("top secret")
    return folder


# -- paths ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside", "a/../../outside", "/etc", "..", "x/..\\y"])
def test_an_artifact_name_cannot_place_a_version_outside_the_root(tmp_path, name):
    artifacts = FsspecArtifactStore(str(tmp_path / "artifacts"))

    with pytest.raises(InvalidArtifactNameError):
        artifacts.version_uri(name, uuid.uuid4())

    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "path",
    ["../outside/secret.txt", "/etc/passwd", "a/../../outside/secret.txt", "file:///etc/passwd"],
)
def test_the_store_refuses_to_read_or_write_outside_its_root(tmp_path, outside, path):
    root = tmp_path / "artifacts"
    root.mkdir()
    artifacts = FsspecArtifactStore(str(root))
    relative = path if path.startswith(("/", "file:")) else f"{root}/{path}"

    with pytest.raises(StorageError, match="outside the artifact store root"):
        artifacts.read_bytes(relative)
    with pytest.raises(StorageError, match="outside the artifact store root"):
        artifacts.write_bytes(f"{root}/../outside/planted.txt", b"x")

    assert not (outside / "planted.txt").exists()


def test_a_symlink_inside_the_store_leading_out_is_neither_read_nor_written(store, outside):
    db, artifacts = store
    client = Client(db, artifacts)
    version = client.get_artifact_version("numbers")
    folder = Path(version.uri.removeprefix("file://"))
    for child in folder.iterdir():
        if child.is_file():
            child.unlink()
    (folder / "data.json").symlink_to(outside / "secret.txt")

    with pytest.raises(LineageError, match="outside the artifact store root"):
        version.load()
    with pytest.raises(StorageError):
        client.context.artifacts.write_bytes(str(folder / "data.json"), b"overwrite")

    assert (outside / "secret.txt").read_text() == "top secret"


def test_an_event_pointing_outside_the_root_cannot_be_loaded(store, outside):
    db, artifacts = store
    context = open_context(db, artifacts)
    save_forged_output(
        context.events,
        name="stolen",
        uri=f"file://{outside}",
        materializer="lineagelog.adapters.materializers.builtins:BuiltInContainerMaterializer",
        data_type="builtins:list",
    )
    client = Client(db, artifacts)

    with pytest.raises(LineageError, match="outside the artifact store root"):
        client.get_artifact_version("stolen").load()


def test_a_version_id_cannot_name_a_path(store):
    db, artifacts = store
    client = Client(db, artifacts)

    for hostile in ("../../etc/passwd", "numbers/../../x", "/etc/passwd"):
        with pytest.raises(NotFoundError):
            client.get_artifact_version("numbers", hostile)
        with pytest.raises(NotFoundError):
            client.lineage(hostile)


def test_an_import_file_cannot_write_files_anywhere(store, tmp_path):
    db, artifacts = store
    out = io.StringIO()
    export_events(Client(db, artifacts).context.events, out)
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    target = Client(f"sqlite:///{target_dir / 'lineage.db'}", str(target_dir / "artifacts"))

    result = import_events(target.context.events, io.StringIO(out.getvalue()))

    assert result is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (target_dir / "artifacts").exists() or not any((target_dir / "artifacts").iterdir())


# -- pickle -----------------------------------------------------------------------------


def test_a_pickle_artifact_refuses_to_load_without_opt_in(store):
    db, artifacts = store
    pickling.run(database_url=db, artifact_store=artifacts)
    version = Client(db, artifacts).get_artifact_version("opaque")

    with pytest.raises(UnsafeLoadError, match="pickle"):
        version.load()

    assert version.load(allow_pickle=True).value == 7


def test_a_tampered_pickle_never_runs_even_with_opt_in_when_verified(store, tmp_path):
    db, artifacts = store
    pickling.run(database_url=db, artifact_store=artifacts)
    version = Client(db, artifacts).get_artifact_version("opaque")
    folder = Path(version.uri.removeprefix("file://"))
    marker = tmp_path / "pwned"
    payload = (
        b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    )  # a classic malicious pickle
    for child in folder.rglob("*"):
        if child.is_file() and "visual" not in str(child):
            child.write_bytes(payload)

    with pytest.raises(LineageError):
        version.load(allow_pickle=True, verify=True)
    with pytest.raises(UnsafeLoadError):
        version.load()

    assert not marker.exists()


# -- SQL ----------------------------------------------------------------------------------


def test_hostile_strings_through_every_client_filter_inject_nothing(store):
    db, artifacts = store
    client = Client(db, artifacts)
    before = view_rows(client.context)
    tables = set(inspect(client.context.engine).get_table_names())

    for hostile in HOSTILE:
        assert client.list_runs(pipeline=hostile) == []
        assert client.list_step_runs(cache_key=hostile) == []
        assert client.list_step_runs(pipeline=hostile) == []
        assert client.list_artifact_versions(name=hostile) == []
        assert client.list_artifact_versions(tag=hostile) == []
        for call in (
            lambda h=hostile: client.list_runs(status=h),  # not a status: refused, naming them
            lambda h=hostile: client.get_artifact_version(h),
            lambda h=hostile: client.get_artifact_version("numbers", h),
            lambda h=hostile: client.get_run(h),
            lambda h=hostile: client.lineage(h),
            lambda h=hostile: client.tag_artifact(h, 1, "x"),
        ):
            with pytest.raises(LineageError):
                call()

    assert set(inspect(client.context.engine).get_table_names()) == tables
    assert view_rows(client.context) == before
    assert len(client.list_runs()) == 2


def test_a_hostile_tag_is_stored_as_text_and_found_as_text(store):
    db, artifacts = store
    client = Client(db, artifacts)
    hostile = "x' OR '1'='1"

    client.tag_artifact("numbers", 1, hostile)

    tagged = client.list_artifact_versions(tag=hostile)
    assert [(v.name, v.version) for v in tagged] == [("numbers", "1")]
    assert client.list_artifact_versions(tag="x") == []
    assert len(client.list_runs()) == 2


def test_hostile_strings_through_cli_filters_inject_nothing(store):
    db, artifacts = store
    before = view_rows(Client(db, artifacts).context)
    close_contexts()

    outputs = []
    for hostile in HOSTILE[:3]:
        outputs.append(
            run_cli("runs", "list", "--json", "--pipeline", hostile, *store_options(db, artifacts))
        )
        outputs.append(
            run_cli("artifacts", "list", hostile, "--json", *store_options(db, artifacts))
        )
        outputs.append(run_cli("runs", "show", hostile, *store_options(db, artifacts)))
        outputs.append(run_cli("cache", "list", "--json", *store_options(db, artifacts)))

    assert all("Traceback" not in r.stderr for r in outputs)
    listed = [json.loads(r.stdout) for r in outputs[0::4]]
    assert listed == [[], [], []]
    assert view_rows(Client(db, artifacts).context) == before


# -- secrets ----------------------------------------------------------------------------------


@pytest.fixture
def secret_postgres_url(postgres_url: str) -> str:
    """The throwaway database, with a password in its URL (trust auth accepts any)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(postgres_url)
    user = parts.username or "postgres"
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}:s3cretPassw0rd@{host}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def test_a_database_password_never_appears_in_api_output_errors_or_logs(
    secret_postgres_url, tmp_path, caplog
):
    artifacts = str(tmp_path / "artifacts")
    caplog.set_level(logging.DEBUG)
    try:
        summing.run(database_url=secret_postgres_url, artifact_store=artifacts)
    except StorageError as e:  # the server refused the password: the error must not show it
        assert "s3cretPassw0rd" not in str(e)
        unavailable(
            "a PostgreSQL server that trusts local connections",
            f"this one refused the password ({e}); point LINEAGELOG_TEST_POSTGRES_URL at one",
        )
    client = Client(secret_postgres_url, artifacts)
    seen: list[str] = [repr(client)]
    for call in (lambda: client.get_run("nope"), lambda: client.get_artifact_version("nope")):
        try:
            call()
        except LineageError as e:
            seen.append(str(e))
    out = io.StringIO()
    export_events(client.context.events, out)
    seen.append(out.getvalue())

    assert all("s3cretPassw0rd" not in text for text in seen)
    assert "s3cretPassw0rd" not in caplog.text


def test_a_database_password_never_appears_in_cli_output(secret_postgres_url, tmp_path):
    artifacts = str(tmp_path / "artifacts")
    summing.run(database_url=secret_postgres_url, artifact_store=artifacts)
    close_contexts()

    results = [
        run_cli(*args, *store_options(secret_postgres_url, artifacts))
        for args in (
            ("runs", "list", "--json"),
            ("artifacts", "list", "--json"),
            ("projections", "status", "--json"),
            ("audit", "--json"),
            ("runs", "recover", "--json"),
            ("runs", "show", "no-such-run"),
        )
    ]

    for result in results:
        assert "s3cretPassw0rd" not in result.stdout + result.stderr, result.args
    assert results[0].returncode == 0, results[0].stderr


def test_an_unreachable_database_with_a_password_hides_it_in_the_cli(tmp_path):
    result = run_cli(
        "runs",
        "list",
        "--json",
        *store_options("postgresql://bob:s3cret@127.0.0.1:1/x", str(tmp_path)),
    )

    assert result.returncode != 0
    assert "s3cret" not in result.stdout + result.stderr
    assert "bob:***@127.0.0.1" in result.stderr
