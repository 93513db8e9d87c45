"""Render the README's lineage diagrams to PNG with the real Graphviz ``dot``.

    .venv/bin/python docs/diagrams/render.py [OUTPUT_FOLDER]

Runs the pipelines in a fresh temporary project and draws them with the
``lineagelog`` command line, as a user would: the demo pipeline run twice, the
README's pipeline run twice and one of its artifacts, a deleted artifact
version, a failed step, and a run every step of which was served from cache.
The PNGs go to OUTPUT_FOLDER (default: this folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from lineagelog.api import Client, pipeline, step
from lineagelog.api.config import configure
from lineagelog.domain.errors import RunFailedError
from lineagelog.examples.numbers_pipeline import numbers
from lineagelog.examples.training import training


@step
def fetch() -> list[int]:
    """Return a few numbers."""
    return [3, 1, 2]


@step
def clean(values: list[int]) -> list[int]:
    """Sort the numbers."""
    return sorted(values)


@step
def publish(values: list[int]) -> int:
    """Fail, as an upload to a full disk would."""
    raise RuntimeError(f"upload of {len(values)} values refused: disk full")


@pipeline
def release() -> None:
    """Fetch, clean and publish: fails at publish."""
    publish(clean(fetch()))


@pipeline
def preparation() -> None:
    """Fetch and clean: every step is cached when run again."""
    clean(fetch())


def render(folder: Path, home: Path) -> list[Path]:
    """Run the example pipelines under ``home`` and write their diagrams into ``folder``."""
    # Named outright, so settings in the environment cannot send the runs elsewhere.
    settings = configure(
        database_url=f"sqlite:///{home / 'lineage.db'}", artifact_store=str(home / "artifacts")
    )
    env = {
        **os.environ,
        "LINEAGELOG_DATABASE_URL": settings.database_url,
        "LINEAGELOG_ARTIFACT_STORE": settings.artifact_store,
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def draw(name: str, *args: str) -> None:
        path = folder / f"{name}.png"
        command = [sys.executable, "-m", "lineagelog.api.cli", *args, "-o", str(path)]
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        written.append(path)

    training()
    again = training()
    draw("demo-second-run", "graph", str(again.id))

    numbers()
    cached = numbers()
    draw("readme-second-run", "graph", str(cached.id))
    evens = cached.steps["split"].outputs["evens"]
    draw("readme-evens-lineage", "lineage", f"evens:{evens.version}", "--both")

    preparation()
    fully_cached = preparation()
    draw("fully-cached-run", "graph", str(fully_cached.id))

    Client().delete_artifact_version("numbers", "1", reason="superseded by a larger sample")
    draw("deleted-version", "lineage", "numbers:1", "--downstream", "--depth", "2")

    try:
        release()
    except RunFailedError as failure:
        draw("failed-step", "graph", str(failure.run_id))
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    with tempfile.TemporaryDirectory() as scratch:
        for path in render(out.resolve(), Path(scratch)):
            print(path)
