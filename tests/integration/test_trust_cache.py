"""Loads and cache hits trust the event log, never the views, and never unchecked bytes.

The views are SQL tables anyone with database access can edit, and the audit
checks only the log; the artifact store is a folder anyone can write. So:

- a cache hit is served only as the log records it, and a view row that says
  otherwise makes a miss that says the views disagree with the log;
- cached outputs whose bytes changed or vanished are recomputed, not served;
- a step checks the bytes of its inputs against the log before it runs on them;
- ``load(verify=True)`` verifies against the recording event, not the view row;
- a version deleted while a run decides its cache is never recorded as a hit.

Real parts: a SQLite file and a local artifact folder; the races use a second,
real process that stops itself at a named checkpoint (``projections/faults``)
while this process deletes or edits, then goes on.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from lineagelog.api import Client
from lineagelog.domain.errors import IntegrityError
from lineagelog.projections import schema as t

sys.path.insert(0, str(Path(__file__).parent))

from trust_pipelines import summing, weighting

WORKER = Path(__file__).with_name("trust_worker.py")


class _Planted:
    """Unpickling this creates ``marker``: proof that the planted pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _edit_view_row(client: Client, artifact_version_id: Any, **values: Any) -> None:
    with client.context.engine.begin() as conn:
        conn.execute(
            update(t.artifact_versions)
            .where(t.artifact_versions.c.id == str(artifact_version_id))
            .values(**values)
        )


def _data_file(client: Client, uri: str, name: str) -> str:
    return next(f for f in client.context.artifacts.walk_files(uri) if f.endswith("/" + name))


def _log(client: Client) -> list[Any]:
    return list(client.context.events.iter_all())


class StoppedWorker:
    """A worker process running one pipeline, stopped (SIGSTOP) at an armed checkpoint."""

    def __init__(self, database_url: str, artifact_store: str, pipeline: str, point: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), database_url, artifact_store, pipeline, point],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        status: list[int] = []
        waiter = threading.Thread(
            target=lambda: status.append(os.waitpid(self.process.pid, os.WUNTRACED)[1])
        )
        waiter.start()
        waiter.join(timeout=120)
        stopped = bool(status) and os.WIFSTOPPED(status[0])
        if not stopped:
            self.process.kill()
            out, err = self.process.communicate(timeout=30)
            pytest.fail(f"the worker never stopped at {point!r}; it said {out!r} {err!r}")

    def resume(self) -> dict[str, Any]:
        """Let the worker go on; return the outcome it printed."""
        os.kill(self.process.pid, signal.SIGCONT)
        out, err = self.process.communicate(timeout=120)
        assert out.strip(), f"the worker printed nothing; stderr: {err}"
        outcome: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return outcome


@pytest.fixture
def stopped_worker() -> Iterator[Callable[..., StoppedWorker]]:
    workers: list[StoppedWorker] = []

    def start(*args: str) -> StoppedWorker:
        worker = StoppedWorker(*args)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.process.poll() is None:
            os.kill(worker.process.pid, signal.SIGCONT)
            worker.process.kill()
            worker.process.communicate(timeout=30)


# -- the views cannot choose what is loaded -------------------------------------------------


def test_a_view_row_pointed_at_a_planted_pickle_is_not_unpickled_by_a_cached_run(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    summing()
    client = Client()
    numbers = client.get_artifact_version("numbers")
    store = client.context.artifacts
    marker = tmp_path / "the planted pickle ran"
    planted = store.join(store.root, "planted")
    store.write_bytes(store.join(planted, "data.pkl"), pickle.dumps(_Planted(marker)))
    store.write_text(store.join(planted, "pickle.json"), json.dumps({"python_version": "3"}))
    _edit_view_row(
        client,
        numbers.id,
        uri=planted,
        materializer="lineagelog.adapters.materializers.pickle:PickleMaterializer",
        data_type="builtins:object",
        content_hash=store.content_hash(planted)[0],
    )

    run = summing()

    assert not marker.exists()
    assert run.steps["produce"].cache_outcome == "miss"
    reason = run.steps["produce"].cache_reason or ""
    assert reason.startswith(
        f"the views disagree with the log about cached step run {numbers.producer_step_run_id}"
    )
    assert "lineagelog audit --views" in reason
    assert "uri" in reason and "materializer" in reason
    assert run.steps["consume"].outputs["total"].load() == 6


def test_load_verify_after_a_view_row_edit_checks_against_the_event(
    sqlite_stores: tuple[str, str],
) -> None:
    summing(n=3)
    summing(n=4)
    client = Client()
    first, second = (client.get_artifact_version("numbers", v) for v in (1, 2))
    _edit_view_row(client, first.id, uri=second.uri, content_hash=second.content_hash)

    edited = client.get_artifact_version("numbers", 1)

    assert edited.uri == second.uri  # the view row says so ...
    assert edited.load(verify=True) == [1, 2, 3]  # ... the log decides


def test_load_verify_rejects_edited_bytes_even_when_the_view_row_hash_was_edited_to_match(
    sqlite_stores: tuple[str, str],
) -> None:
    summing()
    client = Client()
    numbers = client.get_artifact_version("numbers")
    store = client.context.artifacts
    store.write_text(_data_file(client, numbers.uri, "data.json"), "[1000]")
    _edit_view_row(client, numbers.id, content_hash=store.content_hash(numbers.uri)[0])

    with pytest.raises(IntegrityError, match=r"numbers:1 .*lineagelog audit"):
        client.get_artifact_version("numbers").load(verify=True)


def test_delete_removes_the_folder_the_log_recorded_not_the_one_a_view_row_names(
    sqlite_stores: tuple[str, str],
) -> None:
    summing(n=3)
    summing(n=4)
    client = Client()
    first, second = (client.get_artifact_version("numbers", v) for v in (1, 2))
    _edit_view_row(client, first.id, uri=second.uri)

    client.delete_artifact_version("numbers", 1, reason="bad rows")

    store = client.context.artifacts
    assert not store.exists(first.uri)
    assert client.get_artifact_version("numbers", 2).load(verify=True) == [1, 2, 3, 4]


def test_a_view_row_of_a_version_the_log_never_recorded_cannot_be_loaded(
    sqlite_stores: tuple[str, str],
) -> None:
    summing()
    client = Client()
    numbers = client.get_artifact_version("numbers")
    _edit_view_row(client, numbers.id, id="00000000-0000-4000-8000-000000000000")

    forged = client.get_artifact_version("numbers")

    with pytest.raises(IntegrityError, match=r"records no such artifact version.*rebuild"):
        forged.load()


# -- cached outputs and inputs are checked against their recorded bytes ----------------------


def test_an_edited_cached_output_does_not_flow_into_the_next_step(
    sqlite_stores: tuple[str, str],
) -> None:
    summing()
    client = Client()
    numbers = client.get_artifact_version("numbers")
    store = client.context.artifacts
    store.write_text(_data_file(client, numbers.uri, "data.json"), "[1000]")
    edited_hash, edited_size = store.content_hash(numbers.uri)

    run = summing()

    assert run.steps["consume"].outputs["total"].load() == 6
    assert run.steps["produce"].cache_outcome == "miss"
    assert run.steps["produce"].cache_reason == (
        f"cached output `numbers` of step run {numbers.producer_step_run_id} no longer matches "
        f"its recorded bytes: the files at {numbers.uri!r} ({edited_size} bytes) hash to "
        f"{edited_hash}, but {numbers.content_hash} ({numbers.size} bytes) was recorded"
    )


def test_an_emptied_output_folder_is_not_a_cache_hit_the_run_executes_again(
    sqlite_stores: tuple[str, str],
) -> None:
    summing()
    client = Client()
    numbers = client.get_artifact_version("numbers")
    store = client.context.artifacts
    for file in store.walk_files(numbers.uri):
        store.remove(file)
    assert store.exists(numbers.uri)  # the folder is still there, empty

    run = summing()
    again = summing()

    assert run.status == "completed"
    assert run.steps["produce"].cache_outcome == "miss"
    assert "no longer matches its recorded bytes" in (run.steps["produce"].cache_reason or "")
    assert run.steps["consume"].outputs["total"].load() == 6
    assert again.steps["produce"].cache_outcome == "hit"  # served from the re-execution
    assert again.steps["produce"].outputs["numbers"].version == "2"


@pytest.mark.parametrize(
    ("pipeline", "name", "data_file", "edit"),
    [
        ("summing", "numbers", "data.json", b"[1000]"),
        ("weighting", "weights", "data.pkl", pickle.dumps("tampered")),
    ],
)
def test_an_input_changed_after_the_cache_decision_fails_the_step_naming_the_version(
    sqlite_stores: tuple[str, str],
    stopped_worker: Callable[..., StoppedWorker],
    pipeline: str,
    name: str,
    data_file: str,
    edit: bytes,
) -> None:
    database_url, artifact_store = sqlite_stores
    {"summing": summing, "weighting": weighting}[pipeline]()
    client = Client()
    version = client.get_artifact_version(name)
    worker = stopped_worker(database_url, artifact_store, pipeline, "step.inputs")

    client.context.artifacts.write_bytes(_data_file(client, version.uri, data_file), edit)
    outcome = worker.resume()

    assert outcome["status"] == "failed"
    assert outcome["cause"] == "IntegrityError"
    assert f"input artifact {name}:1 ({version.id}) no longer matches" in outcome["message"]
    assert "lineagelog audit" in outcome["message"]
    producer = {"summing": "produce", "weighting": "fit"}[pipeline]
    assert client.get_run(outcome["run_id"]).steps[producer].cache_outcome == "hit"


# -- a delete and a cache hit cannot interleave ---------------------------------------------


def test_a_version_tombstoned_between_lookup_and_decision_is_not_recorded_as_a_hit(
    sqlite_stores: tuple[str, str], stopped_worker: Callable[..., StoppedWorker]
) -> None:
    database_url, artifact_store = sqlite_stores
    summing()
    client = Client()
    numbers = client.get_artifact_version("numbers")
    worker = stopped_worker(database_url, artifact_store, "summing", "cache.hit_found")

    client.delete_artifact_version("numbers", 1, reason="pruned while a run decided its cache")
    outcome = worker.resume()

    log = _log(client)
    (tombstone,) = (r.position for r in log if type(r.event).__name__ == "VersionDeleted")
    hits = [
        r.position
        for r in log
        if type(r.event).__name__ == "CacheDecided"
        and r.event.outcome == "hit"
        and str(numbers.id) in r.event.reused_outputs.values()
    ]
    assert hits == []
    assert tombstone < max(r.position for r in log)
    assert outcome["status"] == "completed"
    assert outcome["steps"]["produce"]["outcome"] == "miss"
    assert (
        outcome["steps"]["produce"]["reason"] == "cached output `numbers` (numbers:1) was deleted"
    )
    assert client.get_artifact_version("numbers", 2).load(verify=True) == [1, 2, 3]
    assert client.audit(verify_artifacts=True).ok


def test_a_cache_hit_records_which_versions_it_reused_on_their_names(
    sqlite_stores: tuple[str, str],
) -> None:
    summing()

    run = summing()

    client = Client()
    reused = [r.event for r in _log(client) if type(r.event).__name__ == "VersionReused"]
    assert [(e.version, e.step_run_id) for e in reused] == [(1, run.steps["produce"].id)]
    assert client.audit(verify_artifacts=True).ok
    numbers = run.steps["produce"].outputs["numbers"]
    total = run.steps["consume"].outputs["total"]
    last_reused = client.context.queries.last_reused([str(numbers.id), str(total.id)])
    assert last_reused == {str(numbers.id): run.steps["produce"].ended_at}
