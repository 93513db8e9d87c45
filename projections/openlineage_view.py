"""How the lineage view takes OpenLineage events in, and joins them to lineagelog's artifacts.

A received RunEvent adds a ``job`` node (``job:NAMESPACE:NAME``), a node for the
run (``openlineage_run``, contained by its job) and a ``dataset`` node for each
input and output, with ``consumed`` (dataset -> run) and ``produced`` (run ->
dataset) edges, as a lineagelog step run has with its artifacts.

Every artifact version records where its bytes live as a dataset
(``dataset_locations``): a step's output where it was written, a registered
version where it was registered from (its ``source``). When a dataset node
exists at that place, the two are
joined: ``stored_as`` (artifact -> dataset) for a version a step wrote, and
``registered_from`` (dataset -> artifact) for one registered from data that was
already there. Whichever arrives first, the join is made when the second does,
so a rebuild in log order makes the same edges.
"""

from __future__ import annotations

from typing import Any

from lineagelog.domain.openlineage import (
    dataset_address,
    dataset_node_id,
    dataset_of_uri,
    job_address,
    job_node_id,
    openlineage_run_node_id,
)
from lineagelog.projections import schema as t
from lineagelog.projections.batch import PageBatch, utc_text

__all__ = ["JOIN_KINDS", "artifact_located", "openlineage_received"]

JOIN_KINDS = ("stored_as", "registered_from")
"""Edge kinds joining an artifact version and the dataset where its bytes live."""


def openlineage_received(b: PageBatch, pos: int, e: Any) -> None:
    """Add the nodes and edges a received RunEvent names (each once, however often named)."""
    run = openlineage_run_node_id(e.run_id)
    job = job_node_id(e.job_namespace, e.job_name)
    named = (e.job_namespace, e.job_name)
    _ensure_node(b, pos, e, job, "job", job_address(*named), named)
    _ensure_node(b, pos, e, run, "openlineage_run", f"{e.job_name} {e.run_id[:8]}", named, e.run_id)
    _ensure_edge(b, pos, e, job, run, "contains")
    for side, kind in ((e.inputs, "consumed"), (e.outputs, "produced")):
        for namespace, name in side:
            dataset = dataset_node_id(namespace, name)
            address = dataset_address(namespace, name)
            if _ensure_node(b, pos, e, dataset, "dataset", address, (namespace, name)):
                _join_located_artifacts(b, pos, e, dataset)
            src, dst = (dataset, run) if kind == "consumed" else (run, dataset)
            _ensure_edge(b, pos, e, src, dst, kind)


def artifact_located(produced: bool) -> Any:
    """The handler recording where an artifact version lives (``produced``: a step wrote it)."""

    def handle(b: PageBatch, pos: int, e: Any) -> None:
        avid = str(e.artifact_version_id)
        dataset = dataset_node_id(*dataset_of_uri(e.uri if produced else e.source))
        b.insert(
            t.dataset_locations,
            {
                "dataset_id": dataset,
                "artifact_version_id": avid,
                "produced": produced,
                "position": pos,
            },
            key=(dataset, avid),
        )
        if _node_exists(b, dataset):
            _join(b, pos, e, dataset, avid, produced)

    return handle


def _join_located_artifacts(b: PageBatch, pos: int, e: Any, dataset: str) -> None:
    found = {
        row["artifact_version_id"]: row["produced"]
        for key, row in b.pending_rows(t.dataset_locations)
        if key[0] == dataset
    }
    stored = b.stored_rows(
        t.dataset_locations, ["artifact_version_id", "produced"], {"dataset_id": dataset}
    )
    for avid, produced in stored:
        found.setdefault(avid, produced)
    for avid, produced in sorted(found.items()):
        _join(b, pos, e, dataset, avid, bool(produced))


def _join(b: PageBatch, pos: int, e: Any, dataset: str, avid: str, produced: bool) -> None:
    if produced:
        _ensure_edge(b, pos, e, avid, dataset, "stored_as")
    else:
        _ensure_edge(b, pos, e, dataset, avid, "registered_from")


def _node_exists(b: PageBatch, node: str) -> bool:
    return b.exists(t.openlineage_nodes, (node,))


def _ensure_node(
    b: PageBatch,
    pos: int,
    e: Any,
    node: str,
    kind: str,
    label: str,
    named: tuple[str, str],
    run_id: str | None = None,
) -> bool:
    """Add the node unless it exists; return whether it was added."""
    if _node_exists(b, node):
        return False
    namespace, name = named
    b.insert(
        t.openlineage_nodes,
        {
            "id": node,
            "kind": kind,
            "namespace": namespace,
            "name": name,
            "run_id": run_id,
            "position": pos,
        },
        key=(node,),
    )
    b.insert(
        t.lineage_nodes,
        {
            "id": node,
            "kind": kind,
            "label": label,
            "run_id": None,
            "position": pos,
            "created_at": utc_text(e.timestamp),
        },
        key=(node,),
    )
    return True


def _ensure_edge(b: PageBatch, pos: int, e: Any, src: str, dst: str, kind: str) -> None:
    key = (src, dst, kind)
    if b.exists(t.openlineage_edges, key):
        return
    b.insert(t.openlineage_edges, {"src": src, "dst": dst, "kind": kind}, key=key)
    b.insert(
        t.lineage_edges,
        {
            "src": src,
            "dst": dst,
            "kind": kind,
            "position": pos,
            "created_at": utc_text(e.timestamp),
        },
        key=key,
    )
