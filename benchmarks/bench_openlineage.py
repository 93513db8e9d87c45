"""OpenLineage throughput: export of a large history, and ingestion over HTTP on loopback.

- export: ``export_openlineage`` of a generated history (the lineage benchmark's
  generator) to a file, lineagelog events read per second (target >= 50,000/s);
- ingestion: RunEvents POSTed one per request by one client with keep-alive
  (``http.client.HTTPConnection``) to a real ``lineagelog serve --allow-writes`` process on
  loopback, into a SQLite file (target >= 1,000 events/s);
- live emission: a pipeline of ``--live-steps`` uncached steps run ``--repeats``
  times without emission, then with the openlineage-python file transport
  configured (``OPENLINEAGE_CONFIG``); the difference of the median run times
  per step (target < 0.3 ms per step). After a run with emission the benchmark
  waits (untimed) until the emitter has sent its events, so that this run's
  emission does not slow the next run; the process CPU per step, including that
  catching up, is printed beside it.

A fixed pure-Python reference loop is timed too, so figures from machines (or
moments) of different speed can be compared.

    python benchmarks/bench_openlineage.py --steps 5000 --posts 2000
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from generated_history import add_history_options, history_generator

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.openlineage.export import export_openlineage


def _reference_loop() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(10**6):
        total += i * 3
    return time.perf_counter() - started


def _event(i: int) -> bytes:
    return json.dumps(
        {
            "eventType": "COMPLETE",
            "eventTime": "2026-05-01T10:00:00Z",
            "producer": "https://example.com/producer",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": str(uuid.uuid4())},
            "job": {"namespace": "bench", "name": f"job{i % 50}"},
            "inputs": [{"namespace": "s3://lake", "name": f"in/{i % 200}"}],
            "outputs": [{"namespace": "s3://lake", "name": f"out/{i}"}],
        }
    ).encode()


def bench_export(args: argparse.Namespace, folder: Path) -> None:
    store = EventStore(f"sqlite:///{folder / 'history.db'}")
    generator = history_generator()(store, args)
    generator.run(progress=False)
    events = store.max_position()
    times = []
    for _ in range(args.repeats):
        out = io.StringIO()
        started = time.perf_counter()
        result = export_openlineage(store, out)
        times.append(time.perf_counter() - started)
    took = statistics.median(times)
    print(
        f"export: {events:,} log events -> {result.count:,} RunEvents, median {took:.2f}s, "
        f"{events / took:,.0f} log events/s ({result.count / took:,.0f} RunEvents/s)"
    )
    store.close()


def bench_ingest(args: argparse.Namespace, folder: Path) -> None:
    import re
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGELOG_")}
    environment["LINEAGELOG_DATABASE_URL"] = f"sqlite:///{folder / 'ingest.db'}"
    environment["LINEAGELOG_ARTIFACT_STORE"] = str(folder / "a")
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts, open_context

    configure(database_url=environment["LINEAGELOG_DATABASE_URL"], artifact_store=str(folder / "a"))
    open_context()  # creates the store the server opens
    close_contexts()
    server = subprocess.Popen(  # the real server, in its own process as a deployment runs it
        [sys.executable, "-m", "lineagelog.api.cli", "serve", "--port", "0", "--allow-writes"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    try:
        assert server.stderr is not None
        banner = server.stderr.readline()
        found = re.search(r"serving (http://\S+?:\d+)/", banner)
        assert found, banner
        bodies = [_event(i) for i in range(args.posts)]
        host, port = found.group(1).removeprefix("http://").rsplit(":", 1)
        client = http.client.HTTPConnection(host, int(port))  # one client, kept alive
        headers = {"Content-Type": "application/json"}

        def post(body: bytes) -> None:
            client.request("POST", "/api/v1/lineage", body=body, headers=headers)
            response = client.getresponse()
            answer = response.read()
            assert response.status == 201, answer

        post(_event(-1))  # warm up: opens the store, compiles the schemas
        cpu = _cpu_seconds(server.pid)
        started = time.perf_counter()
        for body in bodies:
            post(body)
        took = time.perf_counter() - started
        server_cpu = _cpu_seconds(server.pid) - cpu
        client.close()
    finally:
        server.terminate()
        server.wait(20)
    print(
        f"ingest over HTTP (lineagelog serve --allow-writes): {args.posts:,} events in "
        f"{took:.2f}s, {args.posts / took:,.0f} events/s; server CPU "
        f"{server_cpu / args.posts * 1000:.3f} ms per event"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``), else NaN."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_live(args: argparse.Namespace, folder: Path) -> None:
    from lineagelog.api import pipeline, step
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts, open_context

    @step(enable_cache=False)
    def add_one(x: int) -> int:
        return x + 1

    @pipeline(enable_cache=False)
    def chain() -> None:
        x = add_one(0)
        for _ in range(args.live_steps - 1):
            x = add_one(x)

    def use(label: str) -> None:
        configure(database_url=f"sqlite:///{folder / (label + '.db')}", artifact_store=str(folder))

    use("off")
    chain()  # warm up; the store opened without OpenLineage configured: no emitter
    config = folder / "openlineage.yml"
    written = folder / "openlineage-events.jsonl"
    config.write_text(f"transport:\n  type: file\n  log_file_path: {written}\n  append: true\n")
    os.environ["OPENLINEAGE_CONFIG"] = str(config)
    try:
        use("on")
        chain()  # opens this store with the emitter
    finally:
        del os.environ["OPENLINEAGE_CONFIG"]
    times: dict[str, list[float]] = {"off": [], "on": []}
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    for repeat in range(args.repeats):  # interleaved, so a busy moment hits both alike
        # and in turn first: whichever runs second was measured slower or faster here
        for label in ("off", "on") if repeat % 2 == 0 else ("on", "off"):
            use(label)
            emitter = open_context().live_emission
            started, used = time.perf_counter(), time.process_time()
            chain()
            times[label].append(time.perf_counter() - started)
            # its sending follows the run: not charged to the next one (an older emitter
            # without wait_sent sent during the run)
            if emitter is not None and hasattr(emitter, "wait_sent"):
                assert emitter.wait_sent(60), "the emitter did not catch up in 60s"
            cpu[label].append(time.process_time() - used)
    use("on")
    emitter = open_context().live_emission
    assert emitter is not None
    drained = emitter.close(60)
    assert drained.failed == 0, drained
    close_contexts()
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    cpu_off, cpu_on = statistics.median(cpu["off"]), statistics.median(cpu["on"])
    # the difference within each pair of neighbouring runs: a slow moment hits both
    paired = statistics.median(b - a for a, b in zip(cpu["off"], cpu["on"], strict=True))
    lines = len(written.read_text().splitlines())
    per_step = (on - off) / args.live_steps * 1000
    print(
        f"live emission (file transport): {args.live_steps} steps per run, median run "
        f"{off * 1000:.1f} ms without, {on * 1000:.1f} ms with: {per_step:+.3f} ms per step "
        f"({lines:,} RunEvents written); CPU of the process including the emitter's "
        f"catching up: {(cpu_on - cpu_off) / args.live_steps * 1000:+.3f} ms per step "
        f"(median of the pairs' differences {paired / args.live_steps * 1000:+.3f})"
    )


_PARTS = {"export": bench_export, "ingest": bench_ingest, "live": bench_live}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_history_options(parser, steps=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--live-steps", type=int, default=50)
    parser.add_argument(
        "--parts",
        default="export,ingest,live",
        help="comma-separated parts to run (export, ingest, live)",
    )
    args = parser.parse_args()
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(_PARTS))
    if unknown:
        parser.error(f"unknown part(s) {unknown} in --parts; choose from {sorted(_PARTS)}")
    reference = [_reference_loop() for _ in range(5)]
    print(f"pure-Python reference loop: median {statistics.median(reference) * 1000:.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for part in parts:
            _PARTS[part](args, Path(tmp))


if __name__ == "__main__":
    main()
