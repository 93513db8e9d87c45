"""Lineage: the graph around a node, now or as of any moment; its diagram to download."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from lineagelog.api.server.deps import AsOf, Reader, client_of, reading
from lineagelog.api.server.diagrams import DiagramFormat, diagram_response
from lineagelog.api.server.lineage_answer import MAX_NODES, capped, lineage_answer
from lineagelog.api.server.models import Lineage

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["lineage"])

Node = Annotated[
    str,
    Query(
        min_length=1,
        max_length=300,
        description="an artifact as name or name:version, a run name, or an artifact "
        "version, step run or run id (or a unique prefix of one)",
    ),
]
Direction = Annotated[Literal["upstream", "downstream", "both"], Query()]
Depth = Annotated[int | None, Query(ge=0, le=10_000, description="hops from the node")]
MaxNodes = Annotated[int, Query(ge=1, le=MAX_NODES, description="cap on the nodes answered")]


@router.get("/lineage", response_model=Lineage)
async def lineage(
    request: Request,
    node: Node,
    direction: Direction = "both",
    depth: Depth = 1,
    max_nodes: MaxNodes = MAX_NODES,
    as_of: AsOf = None,
) -> JSONResponse:
    """The lineage of a node (one hop each way by default), as of ``as_of`` when given.

    The answer holds at most ``max_nodes`` nodes, those nearest the node;
    ``truncated`` says when the walk reached more.
    """

    # The explorer's hottest route: one trip to a worker thread for all of the reading, and
    # the answer sent as built (LineageGraph.to_dict has the model's shape; the tests hold
    # it to the model) instead of validated again field by field.
    def answer() -> dict[str, Any]:
        client = reading(client_of(request), as_of)
        return lineage_answer(client.lineage(node, direction, depth), max_nodes)

    return JSONResponse(await run_in_threadpool(answer))


@router.get("/lineage/diagram", response_class=Response)
def lineage_diagram(
    node: Node,
    client: Reader,
    direction: Direction = "both",
    depth: Depth = 1,
    max_nodes: MaxNodes = MAX_NODES,
    format: DiagramFormat = "svg",
) -> Response:
    """The same graph as ``lineagelog lineage`` draws it: SVG or DOT, to download."""
    graph = capped(client.lineage(node, direction, depth), max_nodes)
    return diagram_response(graph, format, f"lineage-{graph.root[:8]}")
