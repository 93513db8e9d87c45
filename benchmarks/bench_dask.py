"""Steps on Dask: per-step overhead on a local process cluster, and a parallel fan-out.

Per-step overhead is the slope between a 5-step and a 50-step linear pipeline of a
trivial step (cache misses), run on a ``LocalCluster`` of worker processes that
stays up between runs (``DaskExecutor(client=...)``), so cluster start-up cancels
out; the same slope in this process is printed beside it. The fan-out is 8
independent steps that each sleep 0.5 s, on 4 workers, against the local executor
(one after another: 4 s). Beside the overhead, a no-op Dask task's round trip on
the same cluster (submit, run, fetch its result, one after another) says which
part of the per-step figure is Dask's own (with the executor's 2 ms client batching,
and with Dask's default 10 ms), and this process's CPU per step, the driver's thread
apart from Dask's client and scheduler threads. A fixed pure-Python reference loop is
timed too.

    python benchmarks/bench_dask.py [--repeats 5] [--workers 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_step_overhead import make_chain, new_seed, reference_loop, timed


def make_fan_out(width: int, seconds: float):
    from lineagelog.api import pipeline, step

    @step(enable_cache=False)
    def sleeper(index: int) -> int:
        time.sleep(seconds)
        return index

    @pipeline(name=f"fan_out_{width}")
    def fan_out() -> None:
        for index in range(width):
            sleeper(index=index)

    return fan_out


def slope(short, long_, repeats: int, cpu: list | None = None, **run_options) -> list[float]:
    """Seconds per step between the 5- and 50-step chains, each run a miss.

    Each chain gets a seed of its own: with one seed for both, the long chain's first
    five steps would be cache hits of the short one's, and the slope would come out
    lower than a miss costs.

    ``cpu`` (when given) gets, per repeat, the same slope of this process's CPU time
    and of this thread's: on Dask the thread is the driver, the rest of the process
    the client and (for a ``LocalCluster``) the scheduler.
    """
    short(seed=-1, **run_options), long_(seed=-1, **run_options)  # warm up
    slopes = []
    for _ in range(repeats):
        clocks = [(time.perf_counter(), time.process_time(), time.thread_time())]
        short.run(seed=new_seed(), **run_options)
        clocks.append((time.perf_counter(), time.process_time(), time.thread_time()))
        long_.run(seed=new_seed(), **run_options)
        clocks.append((time.perf_counter(), time.process_time(), time.thread_time()))
        per_step = [((c - b) - (b - a)) / 45 for a, b, c in zip(*clocks, strict=True)]
        slopes.append(per_step[0])
        if cpu is not None:
            cpu.append(per_step[1:])
    return slopes


def noop(index: int) -> int:
    return index


def dask_round_trip(client, count: int = 50, batching: float | None = None) -> float:
    """Seconds per no-op task submitted and awaited one after another (Dask's floor).

    ``batching`` sets how long the client gathers messages before sending them to the
    scheduler (the executor's 2 ms while it runs); None keeps Dask's default (10 ms).
    """
    stream = client.scheduler_comm
    default = stream.interval
    if batching is not None:
        stream.interval = batching
    try:
        started = time.perf_counter()
        for index in range(count):
            client.submit(noop, index, pure=False).result()
        return (time.perf_counter() - started) / count
    finally:
        stream.interval = default


@contextlib.contextmanager
def scheduler_processes(workers: int) -> Iterator[str]:
    """A `dask scheduler` and ``workers`` one-thread `dask worker` processes on loopback."""
    with tempfile.TemporaryDirectory() as folder:
        scheduler_file = Path(folder) / "scheduler.json"
        here = str(Path(__file__).parent)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])),
        }
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
        started = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(scheduler_file),
                ],
                **quiet,
            )
        ]
        try:
            deadline = time.monotonic() + 60
            while not (scheduler_file.exists() and scheduler_file.read_text().strip()):
                if time.monotonic() > deadline:
                    raise RuntimeError("the dask scheduler did not write its address in 60 s")
                time.sleep(0.1)
            for _ in range(workers):
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
                        **quiet,
                    )
                )
            yield json.loads(scheduler_file.read_text())["address"]
        finally:
            for process in reversed(started):
                process.terminate()
            for process in started:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--scheduler-process",
        action="store_true",
        help="run `dask scheduler` and `dask worker` processes on loopback instead of a "
        "LocalCluster, whose scheduler shares this process (and its CPU) with the driver",
    )
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)

    import distributed

    with contextlib.ExitStack() as stack:
        if args.scheduler_process:
            address = stack.enter_context(scheduler_processes(args.workers))
            cluster_kind = f"a `dask scheduler` process and {args.workers} worker processes"
            client = distributed.Client(address)
            client.wait_for_workers(args.workers, timeout=60)
            cluster = None
        else:
            cluster_kind = f"a LocalCluster of {args.workers} worker processes"
            cluster = distributed.LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = distributed.Client(cluster)
        measure(args, client, cluster, cluster_kind)


def measure(args: argparse.Namespace, client, cluster, cluster_kind: str) -> None:
    """Run every measurement on ``client``'s cluster and print the medians."""
    from lineagelog.adapters.executors.dask import _SUBMIT_BATCH_S, quiet_workers
    from lineagelog.api import DaskExecutor, configure

    try:
        with tempfile.TemporaryDirectory() as home:
            configure(
                database_url=f"sqlite:///{Path(home) / 'bench.db'}",
                artifact_store=str(Path(home) / "artifacts"),
            )
            executor = DaskExecutor(client=client)
            short, long_ = make_chain(5, "chain5"), make_chain(50, "chain50")
            dask_round_trip(client, 10)  # warm up
            round_trips, default_trips, on_dask, cpu_dask = [], [], [], []
            for _ in range(args.repeats):  # alternated, so all see the same noise
                round_trips.append(dask_round_trip(client, batching=_SUBMIT_BATCH_S))
                default_trips.append(dask_round_trip(client))
                on_dask.extend(slope(short, long_, 1, cpu_dask, executor=executor))
            here = slope(short, long_, args.repeats)
            fan_out = make_fan_out(8, 0.5)
            fan_out.run(executor=executor)  # warm up
            fan_dask = [timed(fan_out.run, executor=executor) for _ in range(args.repeats)]
            fan_here = [timed(fan_out.run) for _ in range(max(1, args.repeats // 2))]
            reference = [reference_loop() for _ in range(args.repeats)]
            configure()
    finally:
        quiet_workers(client)  # closed in order: heartbeats, client, then the cluster
        client.close()
        if cluster is not None:
            cluster.close()

    ms, procs = 1000, f"{args.workers} worker processes"
    print(f"cluster: {cluster_kind}")
    med = statistics.median
    print(f"per-step overhead on Dask, {procs}: median {med(on_dask) * ms:7.2f} ms")
    print(f"  of which a no-op Dask task round trip:  median {med(round_trips) * ms:7.2f} ms")
    print(
        f"  (that round trip with Dask's default 10 ms client batching: "
        f"{med(default_trips) * ms:.2f} ms)"
    )
    process_cpu = med([process for process, _ in cpu_dask])
    driver_cpu = med([thread for _, thread in cpu_dask])
    print(
        f"  CPU per step in this process: median {process_cpu * ms:.2f} ms, of which the "
        f"driver's thread {driver_cpu * ms:.2f} ms (the rest: Dask's client, and with a "
        "LocalCluster its scheduler)"
    )
    print(f"per-step overhead in this process:       median {med(here) * ms:7.2f} ms")
    print(f"8 x 0.5 s fan-out on Dask, {procs}:  median {med(fan_dask):7.2f} s")
    print(f"8 x 0.5 s fan-out in this process:       median {med(fan_here):7.2f} s")
    print(f"pure-Python reference loop:              median {med(reference) * ms:7.2f} ms")
    print(f"(repeats: {args.repeats}; embedded SQLite, local folder store)")


if __name__ == "__main__":
    main()
