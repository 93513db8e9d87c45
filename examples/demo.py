"""``lineagelog demo``: run the example pipeline twice and show the second is cached.

The command is registered on the CLI through the ``lineagelog.commands`` entry
point group (see pyproject.toml), so the CLI never imports the examples: they
sit above the API, as any user's code does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.client import Client
from lineagelog.api.config import Settings, resolve_settings
from lineagelog.api.models import Run

__all__ = ["demo", "run_demo", "write_demo_diagram"]


ExecutorName = Annotated[
    str,
    typer.Option(
        "--executor",
        help="where the steps run: local (this process), dask (a temporary local cluster), "
        "or dask://HOST:PORT (a running scheduler)",
    ),
]


@app.command()
def demo(
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
    executor: ExecutorName = "local",
) -> None:
    """Run an example pipeline twice: the second run is served from cache."""
    run_demo(resolve_settings(database_url, artifact_store), executor=executor)


@contextmanager
def _progress(say: Callable[[str], None]) -> Iterator[None]:
    """Say what the runner reports while steps run on an executor (which step, on which worker)."""

    class Say(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            say(f"  .. {record.getMessage()}")

    logger, handler = logging.getLogger("lineagelog.run"), Say(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _describe(run: Run, say: Callable[[str], None]) -> None:
    say(f"run {run.run_name}  id={run.id}  status={run.status}")
    for name, step in run.steps.items():
        outputs = ", ".join(f"{av.name}:{av.version}" for av in step.outputs.values()) or "-"
        outcome = "served from cache" if step.cache_hit else step.cache_outcome or "?"
        where = f"  on {step.worker}" if step.worker and not step.cache_hit else ""
        say(f"  {name:<12} {step.status:<10} {outcome:<18} -> {outputs}{where}")
        if step.cache_reason:
            say(f"  {'':<12} why: {step.cache_reason}")


def run_demo(
    settings: Settings, say: Callable[[str], None] = print, executor: str = "local"
) -> tuple[Run, Run]:
    """Run the training example twice with ``settings`` on ``executor``; return both runs."""
    from lineagelog.examples.training import training

    db, store = settings.database_url, settings.artifact_store
    with _progress(say):
        first = training.run(database_url=db, artifact_store=store, executor=executor)
    executed = sum(not step.cache_hit for step in first.steps.values())
    if executed == len(first.steps):
        say("First run: every step executes.")
    else:  # the demo ran in this folder before
        say(
            f"First run here: {executed} of {len(first.steps)} steps execute, the cache "
            "serves the rest (the demo ran in this folder before)."
        )
    _describe(first, say)
    with _progress(say):
        second = training.run(database_url=db, artifact_store=store, executor=executor)
    say("")
    say("Second run, same code and inputs: the cache serves what it can.")
    _describe(second, say)
    client = Client(settings.database_url, settings.artifact_store)
    model = client.get_artifact_version("model")
    say("")
    say(f"model:{model.version} = {model.load()}  (sha256 {model.content_hash[:16]}...)")
    from lineagelog.domain.redaction import redact_url  # never print a password

    say(f"database:        {redact_url(settings.database_url)}")
    say(f"artifact store:  {Path(store) if '://' not in store else redact_url(store)}")
    diagram = write_demo_diagram(client, second, settings.home)
    say(f"lineage diagram written to {diagram}")
    if diagram.suffix == ".dot":
        say("  (Graphviz `dot` is not installed, so this is DOT text; install graphviz for SVG)")
    return first, second


def write_demo_diagram(client: Client, run: Run, folder: Path) -> Path:
    """Draw ``run`` with its artifacts and the runs its cache hits reused; return the file.

    SVG when the Graphviz ``dot`` program is installed, DOT text otherwise.
    """
    from lineagelog.adapters.graphviz import (
        DiagramOptions,
        GraphvizNotFoundError,
        lineage_dot,
        render_dot,
    )

    lineage = client.lineage(str(run.id), "both", depth=1)
    title = f"run {run.pipeline_name} / {run.run_name} ({str(run.id)[:8]}): {run.status}"
    source = lineage_dot(lineage, DiagramOptions(title=title))
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"lineage-{str(run.id)[:8]}"
    try:
        svg = render_dot(source, "svg")
    except GraphvizNotFoundError:
        path = stem.with_suffix(".dot")
        path.write_text(source, encoding="utf-8")
        return path
    path = stem.with_suffix(".svg")
    path.write_bytes(svg)
    return path
