"""What the benchmarks that generate a history share: its options, its generator, a fresh file.

The generator is ``bench_lineage.HistoryGenerator``; the benchmarks run as scripts from
this folder, so it is loaded from its file.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any


def history_generator() -> Any:
    """``bench_lineage.HistoryGenerator``: generates runs, steps and artifacts into a store."""
    path = Path(__file__).with_name("bench_lineage.py")
    spec = importlib.util.spec_from_file_location("bench_lineage", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_lineage"] = module
    spec.loader.exec_module(module)
    return module.HistoryGenerator


def add_history_options(parser: argparse.ArgumentParser, steps: int = 62_000) -> None:
    """The options of the generated history (its size and shape), with their defaults."""
    parser.add_argument("--steps", type=int, default=steps, help="step runs to generate")
    parser.add_argument("--steps-per-run", type=int, default=10)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--hit-rate", type=float, default=0.2)
    parser.add_argument("--chain-rate", type=float, default=0.02)
    parser.add_argument("--batch", type=int, default=2000, help="aggregates per save")
    parser.add_argument("--seed", type=int, default=42)


def remove_sqlite(path: Path) -> None:
    """Delete the SQLite file ``path`` with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
