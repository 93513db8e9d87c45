"""Lineage query latency and projection rebuild throughput on a large history.

Generates a history of pipeline runs through the real aggregates (hash-chained
events, ``ArtifactName`` version streams), saves it to a SQLite file in large
batches, projects it, then measures:

- the median latency of ``LineageQueries.lineage(artifact, "upstream")`` for
  artifacts whose answer has fewer than 100 nodes (target < 5 ms), and the same
  with ``as_of`` (target within 2x);
- ``Projector.rebuild()`` throughput in events/s (target >= 30,000/s).

The history: ``--pipelines`` pipelines of ``--steps-per-run`` steps each; every
step consumes 1-3 outputs of earlier steps of its run (fan-in) and writes 1-3
outputs (fan-out: later steps share them). The first step of a run reads one
of a few hub datasets (consumed by thousands of steps), and sometimes the model
of an earlier run (lineage chains across runs). ``--hit-rate`` of the steps are
cache hits of an earlier execution of the same step (``reused`` and
``cached_from`` edges).

    python benchmarks/bench_lineage.py --steps 10000
    python benchmarks/bench_lineage.py               # 100,000 step runs
    python benchmarks/bench_lineage.py --profile     # cProfile of the rebuild

Run with the ``lineagelog`` package importable (``pip install -e .`` or
``PYTHONPATH`` pointing at a folder that holds it).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import create_engine, func, select

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.view_engine import sqlite_bulk_writes, sqlite_write_locking
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome
from lineagelog.projections import schema as t
from lineagelog.projections.lineage_queries import LineageQueries
from lineagelog.projections.projector import Projector

HUB_DATASETS = 5


class HistoryGenerator:
    """Writes a synthetic but realistic history of runs to an event store."""

    def __init__(self, store: EventStore, args: argparse.Namespace) -> None:
        self.store = store
        self.args = args
        self.rng = random.Random(args.seed)
        self.names: dict[str, ArtifactName] = {}
        # (pipeline, invocation) -> recent executions: (step run id, outputs name -> av id)
        self.executions: dict[tuple[str, str], deque[tuple[Any, dict[str, str]]]] = defaultdict(
            lambda: deque(maxlen=8)
        )
        self.models: deque[str] = deque(maxlen=200)
        self.hubs: list[str] = []
        self.steps = self.artifacts = self.events = self.run_number = 0
        self.templates = [self._template(p) for p in range(args.pipelines)]

    def _template(self, index: int) -> list[tuple[str, str, int]]:
        """A pipeline: (invocation id, step name, number of outputs) per step."""
        steps = []
        for position in range(self.args.steps_per_run):
            step = ["load", "clean", "split", "features", "train", "evaluate", "total", "report"][
                position % 8
            ]
            if position >= 8:
                step = f"{step}{position // 8}"
            invocations = [s for s in steps if s[1] == step]
            invocation = step if not invocations else f"{step}_{len(invocations) + 1}"
            if step == "total" and position + 1 < self.args.steps_per_run and not invocations:
                steps.append((invocation, step, self.rng.randint(1, 3)))
                invocation = f"{step}_2"
            steps.append((invocation, step, self.rng.randint(1, 3)))
        return steps[: self.args.steps_per_run]

    def _artifact(self, step: StepRun, pipeline: str, output: str, pending: dict[int, Any]) -> str:
        name = f"{pipeline}::{step.invocation_id}::{output}"
        artifact_name = self.names.get(name)
        if artifact_name is None:
            artifact_name = self.names[name] = ArtifactName.register_name(name)
        artifact_id = uuid4()
        content_hash = uuid4().hex + uuid4().hex
        version = artifact_name.register_version(artifact_id, step.id, content_hash)
        step.record_artifact(
            output_name=output,
            artifact_version_id=artifact_id,
            name=name,
            version=version,
            uri=f"/artifacts/{name}/{artifact_id}",
            materializer="lineagelog.adapters.materializers.builtin.BuiltInMaterializer",
            data_type="builtins.dict",
            artifact_type="data",
            content_hash=content_hash,
            size=self.rng.randint(100, 10_000_000),
            metadata={"rows": self.rng.randint(1, 100_000)},
            visualizations=[],
        )
        pending[id(artifact_name)] = artifact_name
        self.artifacts += 1
        return str(artifact_id)

    def _step(
        self,
        run: PipelineRun,
        invocation: str,
        step_name: str,
        n_outputs: int,
        inputs: dict[str, str],
        pending: dict[int, Any],
    ) -> dict[str, str]:
        step = StepRun.start(
            run_id=run.id,
            pipeline=run.pipeline,
            invocation_id=invocation,
            step_name=step_name,
            source_ref=f"pipelines.{run.pipeline}:{step_name}",
            code_hash="c0de" * 16,
            parameters={"lr": 0.1, "seed": 7},
            inputs=inputs,
        )
        earlier = self.executions[(run.pipeline, invocation)]
        if earlier and self.rng.random() < self.args.hit_rate:
            original, outputs = self.rng.choice(earlier)
            step.decide_cache(
                cache_key=uuid4().hex + uuid4().hex,
                outcome=CacheOutcome.HIT,
                reason="cached",
                ingredients={"code_hash": "c0de", "inputs": {}},
                original_step_run_id=original,
                reused_outputs=outputs,
            )
        else:
            step.decide_cache(
                cache_key=uuid4().hex + uuid4().hex,
                outcome=CacheOutcome.MISS,
                reason="input `data` changed",
                ingredients={"code_hash": "c0de", "inputs": {}},
            )
            outputs = {
                f"output_{i}": self._artifact(step, run.pipeline, f"output_{i}", pending)
                for i in range(n_outputs)
            }
            earlier.append((step.id, outputs))
        step.succeed(duration_s=self.rng.random())
        pending[id(step)] = step
        self.steps += 1
        return outputs

    def _seed_hubs(self) -> None:
        run = PipelineRun.start(
            pipeline="ingest", run_name="ingest-0", parameters={}, dag={}, environment={}
        )
        pending: dict[int, Any] = {id(run): run}
        for i in range(HUB_DATASETS):
            outputs = self._step(
                run, f"ingest_{i + 1}" if i else "ingest", "ingest", 1, {}, pending
            )
            self.hubs.extend(outputs.values())
        run.complete()
        self.events += len(self.store.save(*pending.values()))

    def run(self, progress: bool = True) -> None:
        self.grow(self.args.steps, progress)

    def grow(self, steps: int, progress: bool = True) -> None:
        """Append runs until the history holds ``steps`` step runs (seeding the hubs first)."""
        if not self.hubs:
            self._seed_hubs()
            self.run_number = 0
        batch: dict[int, Any] = {}
        started, first_events = time.perf_counter(), self.events
        while self.steps < steps:
            self.run_number += 1
            run_number = self.run_number
            pipeline_index = self.rng.randrange(len(self.templates))
            pipeline = f"pipeline_{pipeline_index:02d}"
            run = PipelineRun.start(
                pipeline=pipeline,
                run_name=f"{pipeline}-{run_number}",
                parameters={"epochs": 3},
                dag={},
                environment={"python": "3.11"},
            )
            batch[id(run)] = run
            produced: list[str] = []
            for position, (invocation, step_name, n_outputs) in enumerate(
                self.templates[pipeline_index]
            ):
                if position == 0:
                    inputs = {"dataset": self.rng.choice(self.hubs)}
                    if self.models and self.rng.random() < self.args.chain_rate:
                        inputs["pretrained"] = self.rng.choice(self.models)
                else:
                    k = min(len(produced), self.rng.randint(1, 3))
                    recent = produced[-6:]
                    inputs = {f"in_{i}": a for i, a in enumerate(self.rng.sample(recent, k))}
                outputs = self._step(run, invocation, step_name, n_outputs, inputs, batch)
                produced.extend(outputs.values())
                if step_name == "train" and outputs:
                    self.models.append(next(iter(outputs.values())))
            run.complete()
            if len(batch) >= self.args.batch:
                self.events += len(self.store.save(*batch.values()))
                batch.clear()
                if progress and run_number % 500 == 0:
                    rate = (self.events - first_events) / (time.perf_counter() - started)
                    print(f"  {self.steps:>8,} step runs, {self.events:>9,} events ({rate:,.0f}/s)")
        if batch:
            self.events += len(self.store.save(*batch.values()))


def _timed(fn: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def measure_queries(engine: Any, args: argparse.Namespace) -> None:
    lineage = LineageQueries(engine)
    rng = random.Random(args.seed + 1)
    av = t.artifact_versions
    with engine.connect() as conn:
        max_position = conn.scalar(select(func.max(t.timeline.c.position))) or 0
        count = conn.scalar(select(func.count()).select_from(av)) or 0
        offsets = sorted(rng.sample(range(count), min(count, args.samples)))
        candidates = [
            (row.id, row.position)
            for offset in offsets
            for row in conn.execute(select(av.c.id, av.c.position).limit(1).offset(offset))
        ]
    sizes = []
    small: list[tuple[str, int]] = []
    for artifact_id, position in candidates:
        size = len(lineage.lineage(artifact_id, "upstream").nodes)
        sizes.append(size)
        if size < 100:
            small.append((artifact_id, position))
    sizes.sort()
    print(
        f"\nupstream answer sizes over {len(sizes)} sampled artifacts: "
        f"median {statistics.median(sizes):.0f} nodes, p90 {sizes[int(len(sizes) * 0.9)]}, "
        f"max {sizes[-1]}; {len(small)} have < 100 nodes"
    )
    if not small:
        return
    repeats = args.repeats
    now = [_timed(lambda a=a: lineage.lineage(a, "upstream"), repeats) for a, _ in small]
    # as of a moment between the artifact's creation and the end of the log
    as_of = [
        _timed(
            lambda a=a, p=p: lineage.lineage(a, "upstream", as_of=(p + max_position) // 2),
            repeats,
        )
        for a, p in small
    ]
    depth2 = [
        _timed(lambda a=a: lineage.lineage(a, "upstream", depth=2), repeats) for a, _ in small
    ]
    for label, values in (
        ("upstream", now),
        ("upstream, as_of", as_of),
        ("upstream, depth=2", depth2),
    ):
        values = sorted(values)
        print(
            f"{label:<20} median {statistics.median(values) * 1000:6.2f} ms   "
            f"p95 {values[int(len(values) * 0.95)] * 1000:6.2f} ms   (best of {repeats}, "
            f"{len(values)} artifacts)"
        )
    ratio = statistics.median(as_of) / statistics.median(now)
    print(f"as_of / now median ratio: {ratio:.2f}x (target <= 2x)")
    target = statistics.median(now) * 1000
    print(f"upstream median {target:.2f} ms: {'meets' if target < 5 else 'MISSES'} the 5 ms target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000, help="step runs to generate")
    parser.add_argument("--steps-per-run", type=int, default=10)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--hit-rate", type=float, default=0.2)
    parser.add_argument(
        "--chain-rate",
        type=float,
        default=0.02,
        help="share of runs that read the model of an earlier run",
    )
    parser.add_argument("--batch", type=int, default=2000, help="aggregates per save")
    parser.add_argument("--database", default="/tmp/lineagelog-bench/lineage.db")
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="cProfile the rebuild")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    path = Path(args.database)
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = EventStore(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    sqlite_write_locking(engine)
    projector = Projector(engine, store, page_size=args.page_size, bulk_writes=sqlite_bulk_writes)
    projector.create_tables()

    if store.max_position() == 0:
        print(f"generating {args.steps:,} step runs into {path}")
        generator = HistoryGenerator(store, args)
        started = time.perf_counter()
        generator.run()
        took = time.perf_counter() - started
        print(
            f"wrote {generator.events:,} events ({generator.steps:,} step runs, "
            f"{generator.artifacts:,} artifact versions) in {took:.1f}s "
            f"({generator.events / took:,.0f} events/s)"
        )
        started = time.perf_counter()
        projector.catch_up()
        took = time.perf_counter() - started
        print(f"initial catch-up: {took:.1f}s ({store.max_position() / took:,.0f} events/s)")

    with engine.connect() as conn:
        edges = conn.scalar(select(func.count()).select_from(t.lineage_edges))
        nodes = conn.scalar(select(func.count()).select_from(t.lineage_nodes))
    print(f"log: {store.max_position():,} events; lineage: {nodes:,} nodes, {edges:,} edges")

    if args.samples:
        measure_queries(engine, args)

    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    count, took = projector.rebuild()
    if profiler is not None:
        profiler.disable()
    rate = count / took
    print(
        f"\nrebuild: {count:,} events in {took:.1f}s = {rate:,.0f} events/s "
        f"({'meets' if rate >= 30_000 else 'MISSES'} the 30,000/s target)"
        + (" [under cProfile]" if profiler is not None else "")
    )
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    engine.dispose()
    store.close()


if __name__ == "__main__":
    main()
