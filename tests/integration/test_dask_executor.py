"""Steps on Dask: real worker processes, the driver as the only writer of the log.

A session-wide ``LocalCluster`` of four worker processes serves most tests
(``DaskExecutor(client=...)``); the temporary cluster of ``executor="dask"``, a
cluster whose worker a test kills, and a ``dask scheduler`` with two ``dask worker``
processes on loopback (the existing-address path, with the S3 store) are started
by the tests that need them.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import dask_pipelines as p
import pytest
from parts import require_module, unavailable
from views import stored_event_rows, view_rows
from waiting import wait_until

from lineagelog.api import (
    Client,
    DaskExecutor,
    RunFailedError,
    StepContextError,
    StepNotSerializableError,
    UnreachableStoreError,
    pipeline,
    step,
)
from lineagelog.api.context import open_context


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    """A local cluster of four single-threaded worker processes, shared by this module."""
    distributed = require_module("distributed", "dask")
    cluster = distributed.LocalCluster(
        n_workers=4, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def on_dask(dask_client: object) -> DaskExecutor:
    return DaskExecutor(client=dask_client)


def assert_sound(client: Client) -> None:
    """The audit is clean and every view equals its rebuild from the log."""
    assert client.audit().ok
    context = open_context()
    context.catch_up()
    incremental = view_rows(context)
    context.projector.rebuild()
    assert view_rows(context) == incremental


def lineage_shape(client: Client, run_id: str) -> set[tuple[str, str, str]]:
    """The run's lineage as (from, kind, to), nodes named by their labels (runs by their kind)."""
    graph = client.lineage(run_id, "both", depth=10)
    labels = {n.id: n.kind if n.kind == "run" else n.label for n in graph.nodes.values()}
    return {(labels[e.src], e.kind, labels[e.dst]) for e in graph.edges}


def test_the_readme_pipeline_gives_on_dask_what_it_gives_locally(
    sqlite_stores: tuple[str, str], tmp_path: Path, on_dask: DaskExecutor
) -> None:
    local = p.numbers.run(
        n=10,
        database_url=f"sqlite:///{tmp_path / 'local.db'}",
        artifact_store=str(tmp_path / "local_artifacts"),
    )

    stream = on_dask._given_client.scheduler_comm  # type: ignore[attr-defined]
    batching = stream.interval

    run = p.numbers.run(n=10, executor=on_dask)

    assert run.status == local.status == "completed"
    assert stream.interval == batching > 0.002  # the caller's client has its own batching back
    for name, step_run in local.steps.items():
        mine = run.steps[name]
        assert mine.status == step_run.status == "completed"
        for output, version in step_run.outputs.items():
            assert mine.outputs[output].load() == version.load()
            assert mine.outputs[output].version == version.version
            assert mine.outputs[output].name == version.name
    local_client = Client(f"sqlite:///{tmp_path / 'local.db'}", str(tmp_path / "local_artifacts"))
    assert lineage_shape(Client(), str(run.id)) == lineage_shape(local_client, str(local.id))
    workers = {Client().get_run(run.id).steps[name].worker for name in run.steps}
    assert workers <= set(on_dask_workers(on_dask)) and None not in workers
    recorded = [
        r.event.uri
        for r in Client().context.events.read_for_projection(0, 10_000)
        if type(r.event).__name__ == "ArtifactWritten"
    ]
    assert recorded and not any(uri.startswith(("/", "file:")) for uri in recorded)
    assert_sound(Client())


def on_dask_workers(executor: DaskExecutor) -> list[str]:
    return list(executor._given_client.scheduler_info()["workers"])  # type: ignore[attr-defined]


def test_a_rerun_is_served_from_cache_without_a_task_reaching_the_cluster(
    sqlite_stores: tuple[str, str], dask_client: object, on_dask: DaskExecutor
) -> None:
    distributed = require_module("distributed", "dask")
    p.numbers.run(n=6, executor=on_dask)

    with distributed.get_task_stream(dask_client) as stream:
        rerun = p.numbers.run(n=6, executor=on_dask)

    cached = {name for name, s in rerun.steps.items() if s.status == "cached"}
    assert cached == {"load", "split"}
    ran = {f"lineagelog-{rerun.steps[name].id}" for name in ("total", "total_2")}
    assert {task["key"] for task in stream.data} == ran  # only the two uncached steps
    assert_sound(Client())


def test_independent_steps_run_at_the_same_time_as_the_log_records_them(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor
) -> None:
    run = p.fan_out.run(width=8, seconds=0.5, executor=on_dask)

    steps = Client().get_run(run.id).steps.values()
    spans = [(s.attempts[-1].started_at, s.ended_at) for s in steps]
    most_at_once = max(sum(1 for start, end in spans if start <= t < end) for t, _ in spans)
    assert len(spans) == 8
    assert most_at_once >= 3  # four workers; one after another would give 1
    # Each step started where its StepStarted says, and no worker (one thread each) was
    # given a step while it still ran another: steps wait on the driver for a free worker.
    assert all(len(s.attempts) == 1 and s.started_worker == s.attempts[0].worker for s in steps)
    by_worker: dict[str, list[tuple[float, float]]] = {}
    for s in steps:
        assert s.ended_at is not None
        by_worker.setdefault(s.attempts[0].worker, []).append(
            (s.attempts[0].started_at, s.ended_at)
        )
    for worker, runs in by_worker.items():
        runs.sort()
        assert all(end <= next_start for (_, end), (next_start, _) in pairwise(runs)), worker
    assert len({s.worker for s in steps}) == 4
    assert_sound(Client())


def test_a_cache_hit_does_not_wait_for_a_busy_cluster(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor
) -> None:
    p.busy_beside_a_cached_step.run(width=4, seconds=0.0, executor=on_dask)  # caches `quick`

    run = p.busy_beside_a_cached_step.run(width=4, seconds=2.0, executor=on_dask)

    steps = Client().get_run(run.id).steps
    served = steps["quick"]
    assert served.cache_hit and served.worker is None and served.ended_at is not None
    sleepers = [s for name, s in steps.items() if name != "quick"]
    assert len(sleepers) == 4 and len({s.started_worker for s in sleepers}) == 4
    # Every worker was busy when `quick` became ready; the cache served it at once.
    assert all(s.ended_at is not None and served.ended_at < s.ended_at for s in sleepers)
    assert_sound(Client())


def test_a_failing_step_fails_the_run_as_locally_and_running_steps_are_recorded(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor
) -> None:
    with pytest.raises(RunFailedError) as raised:
        p.failing_branch.run(seconds=1.0, executor=on_dask)

    assert isinstance(raised.value.__cause__, ValueError)
    assert raised.value.failed_step == "fails"
    run = Client().get_run(raised.value.run_id)
    assert run.status == "failed"
    assert run.steps["fails"].status == "failed"
    assert "in fails\n" in run.steps["fails"].traceback  # as the worker formatted it
    assert run.steps["fails"].traceback.endswith("ValueError: bad input\n")
    assert run.steps["slow"].status == "completed"  # already running: finished and recorded
    assert set(run.steps) == {"fails", "slow"}  # nothing new submitted after the failure
    assert_sound(Client())


def test_on_failure_continue_runs_every_step_that_does_not_depend_on_the_failed_one(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor
) -> None:
    with pytest.raises(RunFailedError) as raised:
        p.failing_branch.run(seconds=0.2, executor=on_dask, on_failure="continue")

    run = Client().get_run(raised.value.run_id)
    assert run.status == "failed"
    assert {name: s.status for name, s in run.steps.items()} == {
        "fails": "failed",
        "slow": "completed",
        "after_2": "completed",
    }
    assert run.steps["after_2"].outputs["output"].load() == 8
    assert_sound(Client())


def test_on_failure_continue_works_the_same_in_this_process(
    sqlite_stores: tuple[str, str],
) -> None:
    with pytest.raises(RunFailedError):
        p.failing_branch.run(seconds=0.0, on_failure="continue")

    run = Client().list_runs()[0]
    assert {name: s.status for name, s in run.steps.items()} == {
        "fails": "failed",
        "slow": "completed",
        "after_2": "completed",
    }
    here = f"{socket.gethostname()} (pid {os.getpid()})"
    steps = Client().get_run(run.id).steps.values()
    assert {(s.executor, s.started_worker, s.worker) for s in steps} == {("local", here, here)}
    assert all(not s.attempts for s in steps)  # the driver ran them: no executor's attempts
    assert_sound(Client())


def test_where_a_step_runs_is_in_its_step_started_event_the_views_json_and_runs_show(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor, tmp_path: Path
) -> None:
    import json

    from cli import run_cli

    local = p.fan_out.run(width=2, seconds=0.0)
    on_cluster = p.fan_out.run(width=2, seconds=0.0, executor=on_dask)
    served = p.fan_out.run(width=2, seconds=0.0, executor=on_dask, enable_cache=True)

    started = [row for row in stored_event_rows(sqlite_stores[0]) if row[3].endswith("StepStarted")]
    payloads = [json.loads(row[4]) for row in started]
    here = f"{socket.gethostname()} (pid {os.getpid()})"
    workers = set(on_dask_workers(on_dask))
    assert [d["executor"] for d in payloads] == ["local"] * 2 + [on_dask.name] * 4
    assert [d["worker"] for d in payloads[:2]] == [here] * 2
    # The two steps of the cluster run were placed on two idle workers; the hits ran nowhere.
    placed = [d["worker"] for d in payloads[2:4]]
    assert set(placed) <= workers and len(set(placed)) == 2
    assert [d["worker"] for d in payloads[4:]] == [None] * 2
    cluster_steps = Client().get_run(on_cluster.id).steps.values()
    assert {s.executor for s in cluster_steps} == {on_dask.name}
    assert all(
        s.worker == s.attempts[-1].worker == s.started_worker for s in cluster_steps
    )  # each ran where it was placed: one attempt, on the worker StepStarted names
    hits = Client().get_run(served.id).steps.values()
    assert all(s.cache_hit and s.worker is None and s.executor == on_dask.name for s in hits)
    stores = sqlite_stores
    shown = run_cli("runs", "show", str(local.id), stores=stores, cwd=tmp_path)
    assert f"executor  local, on {here}" in shown.stdout, shown.stdout
    shown = run_cli("runs", "show", str(on_cluster.id), "--json", stores=stores, cwd=tmp_path)
    steps = json.loads(shown.stdout)["steps"]
    assert {s["executor"] for s in steps} == {on_dask.name}
    assert all(s["worker"] == s["attempts"][-1]["worker"] for s in steps)
    assert_sound(Client())


def test_a_worker_killed_mid_step_is_retried_elsewhere_and_both_attempts_are_logged(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    require_module("distributed", "dask")
    kill_when_started(tmp_path, sqlite_stores[0])

    run = p.kill_me.run(marker_folder=str(tmp_path), executor=DaskExecutor(n_workers=2))

    step_run = Client().get_run(run.id).steps["killable"]
    assert run.status == "completed"
    assert [a.attempt for a in step_run.attempts] == [1, 2]
    assert step_run.attempts[0].worker != step_run.attempts[1].worker
    assert_sound(Client())


@pytest.mark.parametrize("retries", [1, 0])
def test_a_worker_that_dies_at_the_first_line_of_a_step_still_shows_as_an_attempt(
    sqlite_stores: tuple[str, str], tmp_path: Path, retries: int
) -> None:
    require_module("distributed", "dask")
    executor = DaskExecutor(n_workers=2, retries=retries)

    if retries:
        run = p.kill_at_once.run(marker_folder=str(tmp_path), executor=executor)
        run_id = run.id
    else:
        with pytest.raises(RunFailedError) as raised:
            p.kill_at_once.run(marker_folder=str(tmp_path), executor=executor)
        run_id = raised.value.run_id

    step_run = Client().get_run(run_id).steps["dies_at_once"]
    killed_pid = int((tmp_path / "killed").read_text())
    assert [a.attempt for a in step_run.attempts] == list(range(1, retries + 2))
    assert all(a.worker.startswith("tcp://") for a in step_run.attempts)
    assert {a.executor for a in step_run.attempts} == {"dask local"}
    if retries:
        assert step_run.status == "completed"
        assert step_run.attempts[0].worker != step_run.attempts[1].worker
        assert step_run.outputs["survivor"].load() != killed_pid  # the retry ran elsewhere
    else:
        assert step_run.status == "failed"
        assert step_run.attempts[0].worker in step_run.error_message
    assert_sound(Client())


def test_a_step_whose_worker_dies_with_no_retries_left_fails_naming_the_lost_worker(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    require_module("distributed", "dask")
    kill_when_started(tmp_path, sqlite_stores[0])

    with pytest.raises(RunFailedError) as raised:
        p.kill_me.run(marker_folder=str(tmp_path), executor=DaskExecutor(n_workers=2, retries=0))

    run = Client().get_run(raised.value.run_id)
    lost = run.steps["killable"]
    assert run.status == "failed" and lost.status == "failed"
    assert lost.attempts[0].worker in str(raised.value)
    assert "died while running it" in lost.error_message
    assert_sound(Client())


def attempt_recorded(database_url: str) -> bool:
    """Whether the log holds an ``AttemptStarted`` (False while it has no table yet)."""
    import sqlite3

    try:
        return any(row[3].endswith("AttemptStarted") for row in stored_event_rows(database_url))
    except sqlite3.OperationalError:
        return False


def kill_when_started(folder: Path, database_url: str) -> None:
    """SIGKILL the worker of the first attempt of ``killable`` once the log shows it started."""
    import threading

    def kill() -> None:
        marker = folder / "started"
        wait_until(marker.exists, 60, "the step to start on a worker")
        wait_until(lambda: marker.read_text().strip(), 5, "the worker to write its pid")
        wait_until(lambda: attempt_recorded(database_url), 30, "the driver to record the attempt")
        os.kill(int(marker.read_text()), signal.SIGKILL)

    threading.Thread(target=kill, daemon=True).start()


def test_a_memory_store_is_refused_before_anything_is_recorded(
    tmp_path: Path, on_dask: DaskExecutor
) -> None:
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"

    with pytest.raises(UnreachableStoreError, match="memory://"):
        p.numbers.run(database_url=database_url, artifact_store="memory://x", executor=on_dask)

    assert Client(database_url, "memory://x").list_runs() == []


def test_a_step_that_cannot_be_pickled_is_refused_naming_it(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor
) -> None:
    import threading

    lock = threading.Lock()

    @step(enable_cache=False)
    def holds_a_lock() -> int:
        with lock:
            return 1

    @pipeline
    def locked() -> None:
        holds_a_lock()

    with pytest.raises(StepNotSerializableError, match="step 'holds_a_lock'"):
        locked.run(executor=on_dask)

    assert Client().list_runs() == []


def test_a_step_on_a_worker_uses_its_context_and_its_metadata_reaches_the_log(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor
) -> None:
    run = p.context_pipeline.run(n=4, executor=on_dask)

    step_run = Client().get_run(run.id).steps["uses_the_context"]
    count = step_run.outputs["count"]
    assert count.load() == 4
    assert count.run_metadata["seen_by"] == run.run_name
    assert count.run_metadata["items"] == 4
    assert step_run.run_metadata["step_run_id"] == str(step_run.id)
    assert_sound(Client())


def test_save_artifact_inside_a_step_on_a_worker_fails_the_step_saying_what_to_do(
    sqlite_stores: tuple[str, str], on_dask: DaskExecutor
) -> None:
    with pytest.raises(RunFailedError) as raised:
        p.save_inside_pipeline.run(executor=on_dask)

    assert isinstance(raised.value.__cause__, StepContextError)
    assert "return values as outputs" in str(raised.value.__cause__)
    assert_sound(Client())


@pytest.fixture
def scheduler_address(tmp_path: Path, s3_store: str) -> Iterator[str]:
    """A `dask scheduler` and two `dask worker` processes on loopback, started here.

    They are started after ``s3_store`` put the S3 settings in the environment, so the
    workers reach the loopback S3 server as the driver does.
    """
    import subprocess
    import sys

    require_module("distributed", "dask")
    scheduler_file = tmp_path / "scheduler.json"
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here), str(here.parent)])}
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    started = [
        subprocess.Popen(
            [
                *dask,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        wait_until(scheduler_file.exists, 60, "the dask scheduler to write its address")
        wait_until(lambda: scheduler_file.read_text().strip(), 5, "the scheduler file")
        for _ in range(2):
            started.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "distributed.cli.dask_worker",
                        "--scheduler-file",
                        str(scheduler_file),
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        import distributed

        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_an_existing_scheduler_with_two_workers_runs_the_readme_pipeline_on_s3(
    tmp_path: Path, s3_store: str, scheduler_address: str
) -> None:
    host_port = scheduler_address.removeprefix("tcp://")
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"

    run = p.numbers.run(
        n=10, database_url=database_url, artifact_store=s3_store, executor=f"dask://{host_port}"
    )

    client = Client(database_url, s3_store)
    recorded = client.get_run(run.id)
    assert run.status == "completed"
    assert recorded.steps["total_2"].outputs["output"].load() == 25
    assert {a.executor for s in recorded.steps.values() for a in s.attempts} == {
        f"dask {scheduler_address}"
    }
    assert all(s.worker for s in recorded.steps.values())
    assert client.audit().ok


def test_the_environment_selects_a_temporary_local_cluster(
    sqlite_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require_module("distributed", "dask")
    monkeypatch.setenv("LINEAGELOG_EXECUTOR", "dask")

    run = p.numbers(n=4)

    steps = Client().get_run(run.id).steps.values()
    assert run.status == "completed"
    assert {a.executor for s in steps for a in s.attempts} == {"dask local"}
    assert_sound(Client())


def test_a_folder_a_worker_cannot_see_is_refused_before_anything_is_recorded(
    tmp_path: Path, s3_store: str, scheduler_address: str
) -> None:
    # The scheduler's workers run in this machine's file system, so they see the folder;
    # a worker in its own mount namespace, where this test's folder is an empty tmpfs,
    # stands for a remote one (only that folder is hidden: the clone and its virtual
    # environment may themselves lie under /tmp).
    import shlex
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None or os.geteuid() != 0:
        unavailable("root and unshare(1)", "run as root on Linux to give a worker its own mounts")
    blind = subprocess.Popen(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            f"mount -t tmpfs none {shlex.quote(str(tmp_path))} && exec {sys.executable} "
            f"-m distributed.cli.dask_worker "
            f"{scheduler_address} --nthreads 1 --no-dashboard --host 127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import distributed

        with distributed.Client(scheduler_address) as client:
            client.wait_for_workers(3, timeout=60)
        database_url = f"sqlite:///{tmp_path / 'lineage.db'}"
        with pytest.raises(UnreachableStoreError, match="cannot read the artifact store"):
            p.numbers.run(
                database_url=database_url,
                artifact_store=str(tmp_path / "artifacts"),
                executor=DaskExecutor(address=scheduler_address),
            )
        assert Client(database_url, str(tmp_path / "artifacts")).list_runs() == []
    finally:
        blind.terminate()
        blind.wait(timeout=20)


def test_attempts_survive_export_and_import_and_as_of_before_one_does_not_see_it(
    sqlite_stores: tuple[str, str], tmp_path: Path, on_dask: DaskExecutor
) -> None:
    from lineagelog.adapters.export import export_events, import_events

    run = p.fan_out.run(width=2, seconds=0.0, executor=on_dask)
    source = Client()
    rows = stored_event_rows(sqlite_stores[0])
    first_attempt = min(row[0] for row in rows if row[3].endswith("AttemptStarted"))
    exported = tmp_path / "events.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(source.context.events, out)

    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", sqlite_stores[1])
    with exported.open(encoding="utf-8") as events:
        import_events(copy.context.events, events)

    def attempts(client: Client) -> dict[str, list[tuple[int, str, str]]]:
        steps = client.get_run(run.id).steps
        return {
            n: [(a.attempt, a.worker, a.executor) for a in s.attempts] for n, s in steps.items()
        }

    assert copy.audit().ok
    assert attempts(copy) == attempts(source)
    assert all(len(found) == 1 for found in attempts(source).values())
    before, at = source.as_of(first_attempt - 1), source.as_of(first_attempt)
    assert sum(len(found) for found in attempts(before).values()) == 0
    assert sum(len(found) for found in attempts(at).values()) == 1


def test_the_demo_on_dask_says_where_steps_run_and_runs_show_lists_the_workers(
    tmp_path: Path,
) -> None:
    import re

    from cli import run_cli

    require_module("distributed", "dask")
    stores = (f"sqlite:///{tmp_path / 'lineage.db'}", str(tmp_path / "artifacts"))

    demo = run_cli("demo", "--executor", "dask", stores=stores, cwd=tmp_path)
    run_id = re.findall(r"id=([0-9a-f-]{36})", demo.stdout)[0]
    shown = run_cli("runs", "show", run_id, stores=stores, cwd=tmp_path)

    assert demo.returncode == 0, demo.stderr
    assert re.search(r"step 'train' running on tcp://127\.0\.0\.1:\d+ \(attempt 1\)", demo.stdout)
    assert re.search(r"train\s+completed\s+miss\s+-> model:1  on tcp://", demo.stdout)
    assert shown.returncode == 0, shown.stderr
    assert "WORKER" in shown.stdout and "tcp://127.0.0.1:" in shown.stdout


DRIVER = """
import sys
import dask_pipelines as p
p.kill_me.run(marker_folder=sys.argv[1], executor="dask://" + sys.argv[2])
"""


def test_a_driver_killed_while_its_steps_run_on_dask_leaves_a_recoverable_run(
    sqlite_stores: tuple[str, str], tmp_path: Path, dask_client: object
) -> None:
    import subprocess
    import sys

    address = dask_client.scheduler.address.removeprefix("tcp://")  # type: ignore[attr-defined]
    here = Path(__file__).parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(here), str(here.parent)]),
        "LINEAGELOG_DATABASE_URL": sqlite_stores[0],
        "LINEAGELOG_ARTIFACT_STORE": sqlite_stores[1],
    }
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), address], env=env)
    try:
        wait_until(
            lambda: attempt_recorded(sqlite_stores[0]),
            60,
            "the driver to record that the step started on a worker",
        )
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=20)
        dask_client.restart()  # type: ignore[attr-defined]  # its step would hold a worker

    report = Client().recover_runs(apply=True)

    run = Client().list_runs()[0]
    assert [d.verdict for d in report.decisions] == ["interrupted"]
    assert run.status == "interrupted"
    assert run.steps["killable"].status == "interrupted"
    assert_sound(Client())
