"""The OpenLineage endpoint on a real uvicorn on loopback, fed by the openlineage-python client.

The server mounts just ``openlineage_router`` (``lineagelog serve`` mounts it
beside its own routes). The client's HTTP transport posts to it; its file
transport's output is imported; ``lineagelog openlineage send`` posts the
history to it.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from cli import run_cli, store_options
from parts import require_module
from waiting import wait_until

from lineagelog.api import Client, pipeline, step
from lineagelog.api.config import configure
from lineagelog.api.context import open_context
from lineagelog.domain.openlineage import dataset_address, dataset_of_uri

fastapi = require_module("fastapi", "server")
uvicorn = require_module("uvicorn", "server")
require_module("openlineage.client", "openlineage")

from openlineage.client import OpenLineageClient  # noqa: E402
from openlineage.client.event_v2 import (  # noqa: E402
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
)
from openlineage.client.facet_v2 import parent_run  # noqa: E402
from openlineage.client.transport.file import FileConfig, FileTransport  # noqa: E402
from openlineage.client.transport.http import HttpConfig, HttpTransport  # noqa: E402
from openlineage.client.uuid import generate_new_uuid  # noqa: E402

from lineagelog.api.openlineage_routes import openlineage_router  # noqa: E402

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/client/python"


@contextlib.contextmanager
def _serving() -> Iterator[str]:
    """A real uvicorn on a free loopback port serving only the OpenLineage router."""
    app = fastapi.FastAPI()
    app.include_router(openlineage_router())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def lineage_server(any_stores: tuple[str, str]) -> Iterator[str]:
    """The endpoint on the SQLite file, then on PostgreSQL."""
    with _serving() as url:
        yield url


@pytest.fixture
def sqlite_lineage_server(sqlite_stores: tuple[str, str]) -> Iterator[str]:
    """The endpoint on an embedded SQLite file, which it appends to on the event loop."""
    with _serving() as url:
        yield url


def _events(job: str) -> list[RunEvent]:
    run = Run(runId=str(generate_new_uuid()))
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=str(generate_new_uuid())),
        job=parent_run.Job(namespace="airflow", name="dag"),
    )
    started = RunEvent(
        eventType=RunState.START,
        eventTime="2026-05-01T10:00:00.000Z",
        run=Run(runId=run.runId, facets={"parent": parent}),
        job=Job(namespace="airflow", name=job),
        producer=PRODUCER,
        inputs=[InputDataset(namespace="postgres://db:5432", name="public.orders")],
    )
    completed = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-05-01T10:05:00.000Z",
        run=run,
        job=Job(namespace="airflow", name=job),
        producer=PRODUCER,
        inputs=[InputDataset(namespace="postgres://db:5432", name="public.orders")],
        outputs=[OutputDataset(namespace="s3://lake", name="orders/daily")],
    )
    return [started, completed]


def test_the_openlineage_client_posts_to_the_endpoint_and_lineage_follows(
    lineage_server: str,
) -> None:
    client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=lineage_server)))

    for event in _events("dag.extract"):
        client.emit(event)

    graph = Client().lineage("dataset:s3://lake:orders/daily")
    labels = {n.label for n in graph.nodes.values()}
    assert "dataset:postgres://db:5432:public.orders" in labels
    assert any(n.kind == "openlineage_run" for n in graph.nodes.values())


def test_a_bad_event_gets_400_naming_the_field_and_appends_nothing(lineage_server: str) -> None:
    import httpx

    event = {
        "eventTime": "2026-05-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "nope"},
        "job": {"namespace": "a", "name": "b"},
    }

    response = httpx.post(f"{lineage_server}/api/v1/lineage", json=event)
    not_json = httpx.post(f"{lineage_server}/api/v1/lineage", content=b"{not json")

    assert response.status_code == 400
    assert response.json()["field"] == "run.runId"
    assert "run.runId" in response.json()["message"]
    assert not_json.status_code == 400
    assert open_context().events.max_position() == 0


def test_the_same_event_posted_twice_is_accepted_and_recorded_once(lineage_server: str) -> None:
    import httpx
    from openlineage.client.serde import Serde

    body = Serde.to_json(_events("dag.load")[1])

    with httpx.Client() as http:  # one connection, kept alive
        answers = [http.post(f"{lineage_server}/api/v1/lineage", content=body) for _ in range(2)]

    assert [a.status_code for a in answers] == [201, 201]
    assert [a.json()["duplicate"] for a in answers] == [False, True]
    assert open_context().events.max_position() == 1


def test_an_event_posted_while_another_writer_holds_the_log_waits_off_the_loop(
    sqlite_lineage_server: str, sqlite_stores: tuple[str, str]
) -> None:
    import httpx
    from openlineage.client.serde import Serde

    held = 1.0
    bodies = [Serde.to_json(e) for e in _events("dag.train")]
    path = sqlite_stores[0].removeprefix("sqlite:///")
    answers: list[httpx.Response] = []
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another process's write lock on the log
        started = time.perf_counter()
        poster = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{sqlite_lineage_server}/api/v1/lineage", content=bodies[0], timeout=30)
            )
        )
        poster.start()
        time.sleep(0.2)  # the post is waiting for the lock by now
        served = httpx.get(f"{sqlite_lineage_server}/openapi.json", timeout=5)
        answered_while_held = time.perf_counter() - started < held
        time.sleep(held - (time.perf_counter() - started))
        other.execute("COMMIT")
    poster.join(30)
    after = httpx.post(f"{sqlite_lineage_server}/api/v1/lineage", content=bodies[1])

    assert served.status_code == 200 and answered_while_held  # the loop kept serving
    assert [a.status_code for a in answers] == [201]
    assert time.perf_counter() - started >= held  # it waited for the lock, then appended
    assert after.status_code == 201
    assert open_context().events.max_position() == 2


def test_the_endpoint_is_described_on_the_openapi_page(lineage_server: str) -> None:
    import httpx

    schema = httpx.get(f"{lineage_server}/openapi.json").json()

    operation = schema["paths"]["/api/v1/lineage"]["post"]
    assert "application/json" in operation["requestBody"]["content"]
    assert {"201", "400"} <= set(operation["responses"])


def test_events_are_recorded_by_the_bare_route_not_the_documenting_one() -> None:
    from fastapi.routing import APIRoute
    from starlette.routing import Match

    router = openlineage_router()
    scope = {"type": "http", "method": "POST", "path": "/api/v1/lineage", "root_path": ""}

    serving = next(r for r in router.routes if r.matches(scope)[0] == Match.FULL)

    assert not isinstance(serving, APIRoute)  # FastAPI's request handling is skipped
    assert any(isinstance(r, APIRoute) for r in router.routes)  # still documented


def test_other_methods_are_refused_with_405(lineage_server: str) -> None:
    import httpx

    answer = httpx.put(f"{lineage_server}/api/v1/lineage", content=b"{}")

    assert answer.status_code == 405
    assert open_context().events.max_position() == 0


def test_the_file_transports_output_is_imported(
    any_stores: tuple[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "openlineage.jsonl"
    client = OpenLineageClient(
        transport=FileTransport(FileConfig(log_file_path=str(log), append=True))
    )
    for event in _events("dag.transform"):
        client.emit(event)

    result = run_cli("openlineage", "import", str(log), *store_options(*any_stores))

    assert result.returncode == 0, result.stderr
    assert "imported 2 OpenLineage event(s)" in result.stdout
    assert "job:airflow:dag.transform" in {
        n.label for n in Client().lineage("job:airflow:dag.transform").nodes.values()
    }


@step
def make() -> Annotated[int, "answer"]:
    return 42


@pipeline
def answer() -> None:
    make()


def test_the_history_is_sent_to_a_consumer_and_lands_as_its_lineage(
    lineage_server: str, any_stores: tuple[str, str], tmp_path: Path
) -> None:
    source_db = f"sqlite:///{tmp_path / 'source.db'}"
    source = Client(source_db, str(tmp_path / "source-artifacts"))
    configure(database_url=source_db, artifact_store=str(tmp_path / "source-artifacts"))
    answer()  # into the source store; the server records into the default one
    configure(database_url=any_stores[0], artifact_store=any_stores[1])

    result = run_cli(
        "openlineage", "send", "--url", lineage_server,
        *store_options(source_db, str(tmp_path / "source-artifacts")),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "sent 4 OpenLineage event(s)" in result.stdout
    version = source.get_artifact_version("answer")

    graph = Client().lineage(dataset_address(*dataset_of_uri(version.uri)))
    assert [n.label.split(" ")[0] for n in graph.nodes.values() if n.kind != "dataset"] == [
        "answer.make"
    ]
