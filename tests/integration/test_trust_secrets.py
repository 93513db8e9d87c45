"""Secrets never enter the log: credentials in a URL stay out of events, views and messages.

An artifact store URL may carry an S3 key and secret, a database URL a password
(in its userinfo or as ``?password=``). After a run, none of them may be found
in the database's bytes or rows, in an events export, in CLI output, in the
logs, or in an error message.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from cli import run_cli, store_options
from trust_pipelines import small

from lineagelog.api import Client
from lineagelog.api.context import close_contexts
from lineagelog.domain.errors import ConfigurationError, LineageError
from lineagelog.domain.redaction import redact_text, redact_url

KEY = "AKIALINEAGELOGKEY42"
SECRET = "wJalr/XUtnFEMI+K7MDENG/bPxRfiCYzEXAMPLE"
PASSWORD = "Pg-S3cret-Value-7"


def _cli_outputs(db: str, artifacts: str, export: Path) -> str:
    results = [
        run_cli("runs", "list", "--json", *store_options(db, artifacts)),
        run_cli("artifacts", "list", "--json", *store_options(db, artifacts)),
        run_cli("artifacts", "show", "made:1", *store_options(db, artifacts)),
        run_cli("cache", "list", "--json", *store_options(db, artifacts)),
        run_cli("projections", "status", *store_options(db, artifacts)),
        run_cli("events", "export", "-o", str(export), *store_options(db, artifacts)),
    ]
    for result in results:
        assert result.returncode == 0, result.stderr
    return "".join(r.stdout + r.stderr for r in results)


@pytest.fixture(autouse=True)
def _close_contexts() -> Any:
    yield
    close_contexts()


@pytest.fixture
def s3_with_url_credentials(s3_server, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh bucket, reachable only with the key and secret the store URL carries."""
    import s3fs

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.env["AWS_DEFAULT_REGION"])
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    s3fs.S3FileSystem.clear_instance_cache()
    bucket = s3_server.create_bucket()
    yield f"s3://{KEY}:{SECRET}@{bucket}/artifacts"
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.mark.s3
def test_s3_credentials_in_the_store_url_reach_s3_but_nothing_lineagelog_writes_or_says(
    s3_with_url_credentials, tmp_path, caplog
):
    store = s3_with_url_credentials
    db = f"sqlite:///{tmp_path / 'lineage.db'}"
    caplog.set_level(logging.DEBUG, logger="lineagelog")

    run = small.run(database_url=db, artifact_store=store)
    loaded = Client(db, store).get_run(run.id).steps["make"].outputs["made"].load()
    described = repr(Client(db, store)) + repr(run.steps["make"].outputs["made"])
    close_contexts()
    printed = _cli_outputs(db, store, tmp_path / "events.jsonl")

    assert loaded == [0, 1, 2]
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for secret in (KEY, SECRET):
        assert secret.encode() not in written
        assert secret not in printed
        assert secret not in caplog.text
        assert secret not in described


@pytest.mark.parametrize(
    "store",
    [
        f"gcs://user:{SECRET}@bucket/prefix",
        f"s3://bucket/prefix?aws_secret_access_key={SECRET}",
        f"s3://{KEY}:@bucket/prefix",
    ],
)
def test_credentials_an_artifact_store_url_cannot_carry_are_refused_without_showing_them(
    store, tmp_path
):
    with pytest.raises(ConfigurationError, match="environment") as refused:
        Client(f"sqlite:///{tmp_path / 'lineage.db'}", store)

    assert SECRET not in str(refused.value)
    assert KEY not in str(refused.value)


@pytest.mark.postgres
def test_a_password_in_the_query_of_a_postgres_url_stays_out_of_rows_exports_and_logs(
    postgres_url, tmp_path, caplog
):
    import psycopg

    db = f"{postgres_url}?password={PASSWORD}&schema=team"
    artifacts = str(tmp_path / "artifacts")
    caplog.set_level(logging.DEBUG, logger="lineagelog")

    run = small.run(database_url=db, artifact_store=artifacts)
    described = repr(Client(db, artifacts))
    close_contexts()
    printed = _cli_outputs(db, artifacts, tmp_path / "events.jsonl")

    assert run.status == "completed"
    with psycopg.connect(postgres_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'team'"
        ).fetchall()
        stored = "".join(
            str(row)
            for (table,) in tables
            for row in conn.execute(f'SELECT t::text FROM team."{table}" t').fetchall()
        )
    assert "lineagelog_runs" in {table for (table,) in tables}
    assert PASSWORD not in stored
    assert PASSWORD not in (tmp_path / "events.jsonl").read_text()
    assert PASSWORD not in printed
    assert PASSWORD not in caplog.text
    assert PASSWORD not in described


@pytest.mark.postgres
def test_a_driver_error_about_a_postgres_url_with_passwords_names_neither(postgres_url):
    missing = (
        postgres_url.rsplit("/", 1)[0].replace("postgres@", f"postgres:{PASSWORD}x@")
        + f"/no_such_database?password={PASSWORD}"
    )

    with pytest.raises(LineageError) as failed:
        Client(missing, "memory://lineagelog-secrets")

    text = "".join(str(e) for e in _chain(failed.value))
    assert "no_such_database" in str(failed.value)
    assert PASSWORD not in text


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{path}?password={secret}",
        "postgresql://bob@127.0.0.1:1/db?password={secret}&sslmode={secret}",
        "mysql+pymysql://root:{secret}@127.0.0.1:1/db?charset=utf8&bad=%zz",
    ],
)
def test_a_bad_database_url_is_refused_without_repeating_its_secret(url, tmp_path):
    bad = url.format(path=tmp_path / "lineage.db", secret=PASSWORD)

    with pytest.raises(LineageError) as refused:
        Client(bad, "memory://lineagelog-secrets")

    assert PASSWORD not in str(refused.value)


def test_redact_url_masks_userinfo_and_secret_query_parameters():
    assert redact_url(f"postgresql://bob:{PASSWORD}@db/x?sslpassword={PASSWORD}&schema=a") == (
        "postgresql://bob:***@db/x?sslpassword=***&schema=a"
    )
    assert redact_url(f"s3://{KEY}:{SECRET}@bucket/p") == "s3://***@bucket/p"
    assert redact_url(f"mysql+pymysql://u@h/d?pwd={PASSWORD}&token=t&key=k") == (
        "mysql+pymysql://u@h/d?pwd=***&token=***&key=***"
    )
    assert redact_text(
        f"auth failed ({PASSWORD})", [f"postgresql://b@h/d?password={PASSWORD}"]
    ) == ("auth failed (***)")


def _chain(error: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen
