"""Live OpenLineage emission while pipelines run, to a real HTTP consumer on loopback.

The consumer is a plain ``http.server`` recording what is posted; it can be
slow (each request waits) or down (nothing listens on its port). Emission is
configured the standard way (``OPENLINEAGE_URL``) and goes through the
openlineage-python client's own HTTP transport.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from cli import run_cli, store_options
from parts import require_module
from waiting import wait_until

from lineagelog.adapters.openlineage.export import run_event_lines, run_events
from lineagelog.adapters.openlineage.validation import check_run_event
from lineagelog.api import pipeline, step
from lineagelog.api.context import close_contexts, open_context

require_module("openlineage.client", "openlineage")

from openlineage.client.serde import Serde  # noqa: E402


class Consumer:
    """An OpenLineage consumer on loopback: records each posted event, after ``delay`` seconds."""

    def __init__(self, delay: float = 0.0, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.delay = delay
        consumer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(consumer.delay)
                consumer.received.append(json.loads(body))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def openlineage_environment() -> Iterator[None]:
    """Put the ``OPENLINEAGE*`` variables back as they were.

    The openlineage-python client writes ``OPENLINEAGE__TRANSPORT__...`` aliases of
    ``OPENLINEAGE_URL`` into ``os.environ`` itself, behind monkeypatch's back; left
    there, they would turn emission on for every later test (and server) of the worker.
    """
    before = {k: v for k, v in os.environ.items() if k.startswith("OPENLINEAGE")}
    yield
    for key in [k for k in os.environ if k.startswith("OPENLINEAGE")]:
        del os.environ[key]
    os.environ.update(before)


@pytest.fixture
def consumer() -> Iterator[Consumer]:
    running = Consumer()
    yield running
    running.close()


@pytest.fixture
def down_url() -> str:
    """The URL of a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@step
def load() -> Annotated[list[int], "numbers"]:
    return [1, 2, 3]


@step
def fit(numbers: list[int], lr: float = 0.1) -> Annotated[float, "model"]:
    return sum(numbers) * lr


@pipeline
def training(lr: float = 0.1) -> None:
    fit(load(), lr=lr)


def _exported(since: int = 0) -> list[dict[str, Any]]:
    """The log's RunEvents after ``since`` as the export writes them, nulls dropped as sent."""
    context = open_context()
    found = run_events(context.events, since=since, locate=context.artifacts.full_uri)
    return [Serde.remove_nulls_and_enums(e) for _, e in found]


def _exported_text() -> str:
    """The log's RunEvents as ``events export --format openlineage`` writes them: JSON lines."""
    context = open_context()
    found = run_event_lines(context.events, locate=context.artifacts.full_uri)
    return "".join(f"{line}\n" for _, line in found)


def test_a_pipeline_run_is_sent_live_as_the_export_would_write_it(
    any_stores: tuple[str, str], consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", consumer.url)
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "lineagelog")

    training()
    expected = _exported()
    wait_until(lambda: len(consumer.received) >= len(expected), 10, "the live events")

    assert consumer.received == expected
    assert [e["job"]["name"] for e in consumer.received][:2] == ["training", "training.load"]
    for event in consumer.received:
        check_run_event(event)


def test_a_later_process_names_the_versions_of_earlier_runs_its_cache_hits_reuse(
    any_stores: tuple[str, str], consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    training()  # not emitted: OpenLineage is not configured yet
    close_contexts()
    before = open_context().events.max_position()
    close_contexts()
    monkeypatch.setenv("OPENLINEAGE_URL", consumer.url)

    training()  # a new context, a new emitter: both steps are cache hits
    expected = _exported(since=before)
    wait_until(lambda: len(consumer.received) >= len(expected), 10, "the live events")

    assert consumer.received == expected
    hits = [e for e in consumer.received if "lineagelog_cache" in e["run"]["facets"]]
    assert {e["run"]["facets"]["lineagelog_cache"]["outcome"] for e in hits} == {"hit"}
    completed = [h for h in hits if h["eventType"] == "COMPLETE"]
    assert completed and all(h["outputs"] for h in completed)
    assert any(h["inputs"] for h in hits if h["job"]["name"] == "training.fit")


def test_a_consumer_that_is_down_fails_nothing_and_what_it_missed_is_counted_and_sent_later(
    any_stores: tuple[str, str],
    down_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "openlineage.yml"  # no retries: each event fails at once
    config.write_text(
        f"transport:\n  type: http\n  url: {down_url}\n  retry:\n    total: 0\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))

    run = training()
    emitter = open_context().live_emission
    assert emitter is not None
    figures = emitter.close(10)
    close_contexts()
    status = run_cli("openlineage", "status", "--json", *store_options(*any_stores))
    projections = run_cli("projections", "status", *store_options(*any_stores))

    assert run.status == "completed"
    expected = _exported()
    assert (figures.delivered, figures.failed, figures.first_undelivered) == (0, len(expected), 1)
    assert status.returncode == 0, status.stderr
    (record,) = json.loads(status.stdout)
    assert record["consumer"] == f"{down_url}/api/v1/lineage"
    assert (record["failed"], record["first_undelivered"]) == (len(expected), 1)
    assert "ConnectionError" in record["last_error"]
    assert "openlineage send --since 0" in projections.stdout

    monkeypatch.delenv("OPENLINEAGE_CONFIG")
    consumer = Consumer(port=int(down_url.rsplit(":", 1)[1]))  # the consumer is back
    try:
        sent = run_cli(
            "openlineage", "send", "--url", down_url, "--since", "0",
            *store_options(*any_stores),
        )  # fmt: skip
    finally:
        consumer.close()
    after = run_cli("openlineage", "status", "--json", *store_options(*any_stores))

    assert sent.returncode == 0, sent.stderr
    assert consumer.received == expected
    assert json.loads(after.stdout)[0]["first_undelivered"] is None


def test_a_slow_consumer_does_not_stall_the_run_and_what_was_left_is_counted(
    any_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = Consumer(delay=2.0)
    monkeypatch.setenv("OPENLINEAGE_URL", slow.url)
    monkeypatch.setenv("LINEAGELOG_OPENLINEAGE_DRAIN", "0.2")
    try:
        started = time.perf_counter()
        training()
        took = time.perf_counter() - started
        emitter = open_context().live_emission
        assert emitter is not None
        figures = emitter.close()
    finally:
        slow.close()

    expected = _exported()
    assert took < 2.0  # six events at 2 s each, had the run waited for them
    assert figures.delivered + figures.failed == len(expected)
    assert figures.failed >= len(expected) - 1
    assert "still queued" in (figures.last_error or "")


def test_openlineage_disabled_turns_emission_off_whatever_else_is_set(
    any_stores: tuple[str, str], consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", consumer.url)
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")

    training()

    assert open_context().live_emission is None
    assert consumer.received == []


def test_the_file_transport_of_an_openlineage_yml_gets_the_run(
    any_stores: tuple[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = tmp_path / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(
        f"transport:\n  type: file\n  log_file_path: {written}\n  append: true\n", encoding="utf-8"
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))

    training()
    close_contexts()

    text = written.read_text(encoding="utf-8")
    assert text == _exported_text()  # the export's bytes, nulls kept
    for line in text.splitlines():
        check_run_event(json.loads(line))


def test_the_filters_of_an_openlineage_yml_drop_the_jobs_they_match(
    any_stores: tuple[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = tmp_path / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(
        f"transport:\n  type: file\n  log_file_path: {written}\n  append: true\n"
        "filters:\n"
        "  - type: exact\n    match: training.load\n"
        "  - type: regex\n    regex: '.*\\.fi[t]$'\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))

    training()
    close_contexts()

    lines = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    everything = [json.loads(line) for line in _exported_text().splitlines()]
    assert {e["job"]["name"] for e in everything} == {"training", "training.load", "training.fit"}
    assert lines == [e for e in everything if e["job"]["name"] == "training"]
    assert [e["eventType"] for e in lines] == ["START", "COMPLETE"]


def test_wait_sent_returns_once_the_runs_events_are_written(
    any_stores: tuple[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = tmp_path / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(
        f"transport:\n  type: file\n  log_file_path: {written}\n  append: true\n", encoding="utf-8"
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))

    training()
    emitter = open_context().live_emission
    assert emitter is not None
    sent = emitter.wait_sent(30)  # the emitter waits for a quiet moment: nothing yet
    lines = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    figures = emitter.close()

    assert sent
    assert lines == [json.loads(line) for line in _exported_text().splitlines()]
    assert emitter.wait_sent(1)  # closed: nothing left to wait for
    assert (figures.delivered, figures.failed) == (len(lines), 0)


def test_a_file_transport_that_cannot_write_fails_nothing_and_counts_what_it_missed(
    any_stores: tuple[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = tmp_path / "no such folder" / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(
        f"transport:\n  type: file\n  log_file_path: {written}\n  append: true\n", encoding="utf-8"
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))

    run = training()
    emitter = open_context().live_emission
    assert emitter is not None
    figures = emitter.close(10)

    assert run.status == "completed"
    assert not written.exists()
    assert (figures.delivered, figures.failed, figures.first_undelivered) == (
        0,
        len(_exported_text().splitlines()),
        1,
    )
    assert "OpenLineageDeliveryError" in (figures.last_error or "")
    assert str(written) in (figures.last_error or "")


def test_a_file_transport_writing_a_file_per_event_gets_them_through_the_client(
    any_stores: tuple[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    config = tmp_path / "openlineage.yml"  # append: false, the client's timestamped files
    config.write_text(
        f"transport:\n  type: file\n  log_file_path: {folder / 'ol'}\n", encoding="utf-8"
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))

    training()
    close_contexts()

    files = sorted(folder.iterdir())
    received = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    assert len(files) == len(_exported())
    assert sorted(received, key=json.dumps) == sorted(_exported(), key=json.dumps)
