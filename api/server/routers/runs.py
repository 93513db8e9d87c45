"""Runs: the list, one run with its steps, its step graph, a step's cache decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from lineagelog.api.json_shapes import cache_explanation, run_detail, run_summary
from lineagelog.api.server.deps import Limit, Offset, Reader, page
from lineagelog.api.server.diagrams import DiagramFormat, diagram_response
from lineagelog.api.server.lineage_answer import MAX_NODES, lineage_answer
from lineagelog.api.server.models import CacheExplanation, Lineage, Page, RunDetail, RunSummary
from lineagelog.projections.jsonable import json_ready

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["runs"])

RunRef = Annotated[
    str, Path(max_length=200, description="a run id, a unique id prefix or a run name")
]


@router.get("/runs", response_model=Page[RunSummary])
def list_runs(
    client: Reader,
    pipeline: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Runs, newest first, filtered by pipeline, status or tag."""
    runs = client.list_runs(
        pipeline=pipeline, status=status, tag=tag, limit=limit + 1, offset=offset
    )
    return page([run_summary(r) for r in runs], offset, limit, len(runs) > limit)


@router.get("/runs/{run}", response_model=RunDetail)
def get_run(run: RunRef, client: Reader) -> Any:
    """One run with its steps: status, timings, cache decision and reason, inputs, outputs."""
    return json_ready(run_detail(client.get_pipeline_run(run)))


@router.get("/runs/{run}/graph", response_model=Lineage)
def run_graph(run: RunRef, client: Reader) -> Any:
    """The run's step DAG with the artifacts its steps read and wrote (as ``lineagelog graph``)."""
    found = client.get_pipeline_run(run)
    return lineage_answer(client.lineage(str(found.id), "both", depth=1), MAX_NODES)


@router.get("/runs/{run}/diagram", response_class=Response)
def run_diagram(run: RunRef, client: Reader, format: DiagramFormat = "svg") -> Response:
    """The run's graph as ``lineagelog graph RUN`` draws it: SVG or DOT, to download."""
    found = client.get_pipeline_run(run)
    title = f"run {found.pipeline_name} / {found.run_name} ({str(found.id)[:8]}): {found.status}"
    graph = client.lineage(str(found.id), "both", depth=1)
    return diagram_response(graph, format, f"run-{str(found.id)[:8]}", title)


@router.get("/step-runs/{step_run}/cache", response_model=CacheExplanation)
def cache_decision(
    step_run: Annotated[str, Path(max_length=200, description="a step run id or unique prefix")],
    client: Reader,
) -> Any:
    """A step run's cache decision: the outcome, its reason, each ingredient compared."""
    return json_ready(cache_explanation(client, step_run))
