"""How the lineage view takes OpenLineage events in, and joins them to lineagelog's artifacts.

A received RunEvent adds a ``job`` node (``job:NAMESPACE:NAME``), a node for the
run (``openlineage_run``, contained by its job) and a ``dataset`` node for each
input and output, with ``consumed`` (dataset -> run) and ``produced`` (run ->
dataset) edges, as a lineagelog step run has with its artifacts. More of the
event is drawn the way lineagelog draws its own runs:

- the run's status: ``running`` from its first event, then ``completed``,
  ``failed`` or ``aborted`` from the first terminal event (COMPLETE, FAIL,
  ABORT) received, with that event's position, so ``as_of`` before it reads
  ``running``;
- a ParentRunFacet: the parent run (and its job) ``contains`` the run, as a
  pipeline run contains its step runs;
- a lineagelog cache hit (its ``lineagelog_cache`` facet, ``cached_from``): the
  run is ``cached_from`` the original run and its outputs are ``reused``, not
  produced, exactly as the step run it was exported from.

Every artifact version records where its bytes live as a dataset
(``dataset_locations``): a step's output where it was written, a registered
version where it was registered from (its ``source``). When a dataset node
exists at that place, the two are joined: ``stored_as`` (artifact -> dataset)
for a version a step wrote, and ``registered_from`` (dataset -> artifact) for
one registered from data that was already there. Whichever arrives first, the
join is made when the second does, so a rebuild in log order makes the same
edges.

What already exists is read once per page (``_PageIndex``): the nodes, run
statuses, edges and dataset locations the page's events name, in a few
queries, instead of a query per node and per edge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select, tuple_

from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.openlineage import (
    OpenLineageEvent,
    dataset_address,
    dataset_node_id,
    dataset_of_uri,
    job_address,
    job_node_id,
    openlineage_run_node_id,
)
from lineagelog.domain.step_run import StepRun
from lineagelog.projections import schema as t
from lineagelog.projections.batch import PageBatch

__all__ = ["JOIN_KINDS", "RUN_STATUSES", "artifact_located", "openlineage_received"]

JOIN_KINDS = ("stored_as", "registered_from")
"""Edge kinds joining an artifact version and the dataset where its bytes live."""

RUN_STATUSES = {"COMPLETE": "completed", "FAIL": "failed", "ABORT": "aborted"}
"""An OpenLineage run's status after its first terminal event; ``running`` before."""

_RECEIVED = OpenLineageEvent.Received.__name__
_WRITTEN = StepRun.ArtifactWritten.__name__
_LOCATED = (_WRITTEN, ArtifactName.ExternalVersionRegistered.__name__)
_CHUNK = 500
"""Ids per ``IN`` list (SQLite allows 32766 parameters, older builds 999)."""


def openlineage_received(b: PageBatch, pos: int, e: Any) -> None:
    """Add the nodes and edges a received RunEvent names (each once, however often named)."""
    index = _PageIndex.of(b)
    drawn = index.drawing(e)
    _ensure_run(b, index, pos, e, drawn.run, (e.job_namespace, e.job_name), e.run_id)
    _ensure_status(b, index, pos, drawn.run, e.event_type)
    if drawn.parent is not None:
        parent_run, parent_job, parent_run_id = drawn.parent
        _ensure_run(b, index, pos, e, parent_run, parent_job, parent_run_id)
        _ensure_edge(b, index, pos, e, parent_run, drawn.run, "contains")
    if drawn.cached_from is not None and drawn.cached_from in index.nodes:
        # drawn only to a run this log has seen
        _ensure_edge(b, index, pos, e, drawn.cached_from, drawn.run, "cached_from")
    for node, address, named, kind in drawn.datasets:
        if _ensure_node(b, index, pos, e, node, "dataset", address, named):
            for avid, produced in sorted(index.locations.get(node, {}).items()):
                _join(b, index, pos, e, node, avid, produced)
        src, dst = (node, drawn.run) if kind == "consumed" else (drawn.run, node)
        _ensure_edge(b, index, pos, e, src, dst, kind)


def artifact_located(produced: bool) -> Any:
    """The handler recording where an artifact version lives (``produced``: a step wrote it)."""

    def handle(b: PageBatch, pos: int, e: Any) -> None:
        index = _PageIndex.of(b)
        avid = str(e.artifact_version_id)
        dataset = index.located.pop(id(e), None) or _located_dataset(e)
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
        index.locations.setdefault(dataset, {})[avid] = produced
        if dataset in index.nodes:
            _join(b, index, pos, e, dataset, avid, produced)

    return handle


# -- what exists already, read once per page ------------------------------------------------


@dataclass(frozen=True)
class _Drawn:
    """The node ids and edges one received event draws, worked out once."""

    run: str
    job: str
    parent: tuple[str, tuple[str, str], str] | None  # node id, (job namespace, name), runId
    cached_from: str | None  # the original run's node id
    datasets: list[tuple[str, str, tuple[str, str], str]]  # node id, address, named, edge kind

    @classmethod
    def of(cls, e: Any) -> _Drawn:
        parent = None
        if e.parent is not None:
            p = e.parent
            named = (p["job_namespace"], p["job_name"])
            parent = (openlineage_run_node_id(p["run_id"]), named, p["run_id"].lower())
        cached_from = getattr(e, "cached_from", None)  # None in events recorded before it
        output_kind = "produced" if cached_from is None else "reused"
        datasets = [
            (dataset_node_id(ns, name), dataset_address(ns, name), (ns, name), kind)
            for side, kind in ((e.inputs, "consumed"), (e.outputs, output_kind))
            for ns, name in side
        ]
        return cls(
            openlineage_run_node_id(e.run_id),
            job_node_id(e.job_namespace, e.job_name),
            parent,
            None if cached_from is None else openlineage_run_node_id(cached_from),
            datasets,
        )

    def nodes(self) -> Iterator[str]:
        yield self.run
        yield self.job
        if self.parent is not None:
            yield self.parent[0]
            yield job_node_id(*self.parent[1])
        if self.cached_from is not None:
            yield self.cached_from
        for node, _, _, _ in self.datasets:
            yield node

    def edges(self) -> Iterator[tuple[str, str, str]]:
        yield self.job, self.run, "contains"
        if self.parent is not None:
            yield job_node_id(*self.parent[1]), self.parent[0], "contains"
            yield self.parent[0], self.run, "contains"
        if self.cached_from is not None:
            yield self.cached_from, self.run, "cached_from"
        for node, _, _, kind in self.datasets:
            yield (node, self.run, kind) if kind == "consumed" else (self.run, node, kind)


@dataclass
class _PageIndex:
    """The rows of the OpenLineage tables that a page's events name, kept current as it goes."""

    nodes: set[str] = field(default_factory=set)
    statuses: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    edges: set[tuple[str, str, str]] = field(default_factory=set)
    locations: dict[str, dict[str, bool]] = field(default_factory=dict)
    drawn: dict[int, _Drawn] = field(default_factory=dict)
    located: dict[int, str] = field(default_factory=dict)  # id(event) -> its dataset node

    @classmethod
    def of(cls, b: PageBatch) -> _PageIndex:
        index: _PageIndex | None = b.memo.get(__name__)
        if index is None:
            index = cls.load(b.connection, b.page, b.table)
            b.memo[__name__] = index
        return index

    def drawing(self, e: Any) -> _Drawn:
        drawn = self.drawn.get(id(e))
        return _Drawn.of(e) if drawn is None else drawn

    @classmethod
    def load(
        cls, conn: Connection, page: Sequence[Any], table: Callable[[Table], Table]
    ) -> _PageIndex:
        """What the page's events need of the stored rows, read once (``table``: where from)."""
        index = cls()
        index.drawn = {id(e): _Drawn.of(e) for _, e in page if type(e).__name__ == _RECEIVED}
        index.located = {
            id(e): _located_dataset(e) for _, e in page if type(e).__name__ in _LOCATED
        }
        located = set(index.located.values())
        n = table(t.openlineage_nodes)
        if not index.drawn and not (located and conn.execute(select(n.c.id).limit(1)).first()):
            # Artifacts alone only join dataset nodes that exist: none (most logs) to look up.
            return index
        drawn = list(index.drawn.values())
        named = {node for d in drawn for node in d.nodes()} | located
        for ids in _chunks(sorted(named)):
            rows = conn.execute(select(n.c.id, n.c.status, n.c.ended_pos).where(n.c.id.in_(ids)))
            for node, status, ended in rows:
                index.nodes.add(node)
                index.statuses[node] = (status, ended)
        datasets = located | {node for d in drawn for node, _, _, _ in d.datasets}
        loc = table(t.dataset_locations)
        for ids in _chunks(sorted(datasets)):
            rows = conn.execute(
                select(loc.c.dataset_id, loc.c.artifact_version_id, loc.c.produced).where(
                    loc.c.dataset_id.in_(ids)
                )
            )
            for dataset, avid, produced in rows:
                index.locations.setdefault(dataset, {})[avid] = bool(produced)
        # Only an edge between two nodes that existed before this page can exist already.
        old = {k for d in drawn for k in d.edges() if k[0] in index.nodes and k[1] in index.nodes}
        o = table(t.openlineage_edges)
        for keys in _chunks(sorted(old)):
            rows = conn.execute(
                select(o.c.src, o.c.dst, o.c.kind).where(
                    tuple_(o.c.src, o.c.dst, o.c.kind).in_(keys)
                )
            )
            index.edges.update((src, dst, kind) for src, dst, kind in rows)
        return index


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _located_dataset(e: Any) -> str:
    uri = e.uri if type(e).__name__ == _WRITTEN else e.source
    if type(uri) is str and uri[:1] == "/":  # a path (the usual form): no URL to parse
        return dataset_node_id("file", uri)
    return dataset_node_id(*dataset_of_uri(uri))


# -- writing ---------------------------------------------------------------------------------


def _ensure_run(
    b: PageBatch,
    index: _PageIndex,
    pos: int,
    e: Any,
    run: str,
    job_named: tuple[str, str],
    run_id: str,
) -> None:
    job = job_node_id(*job_named)
    _ensure_node(b, index, pos, e, job, "job", job_address(*job_named), job_named)
    label = f"{job_named[1]} {run_id[:8]}"
    if _ensure_node(b, index, pos, e, run, "openlineage_run", label, job_named, run_id):
        index.statuses[run] = ("running", None)
    _ensure_edge(b, index, pos, e, job, run, "contains")


def _ensure_status(
    b: PageBatch, index: _PageIndex, pos: int, run: str, event_type: str | None
) -> None:
    """A run's first terminal event decides its status (later ones are kept in the log only)."""
    ended = RUN_STATUSES.get(event_type or "")
    status, ended_pos = index.statuses.get(run, (None, None))
    if ended is not None and ended_pos is None:
        index.statuses[run] = (ended, pos)
        b.update(t.openlineage_nodes, (run,), {"status": ended, "ended_pos": pos})
    elif status is None:  # a node made before runs had a status: running from now
        index.statuses[run] = ("running", None)
        b.update(t.openlineage_nodes, (run,), {"status": "running"})


def _join(
    b: PageBatch, index: _PageIndex, pos: int, e: Any, dataset: str, avid: str, produced: bool
) -> None:
    if produced:
        _ensure_edge(b, index, pos, e, avid, dataset, "stored_as")
    else:
        _ensure_edge(b, index, pos, e, dataset, avid, "registered_from")


def _ensure_node(
    b: PageBatch,
    index: _PageIndex,
    pos: int,
    e: Any,
    node: str,
    kind: str,
    label: str,
    named: tuple[str, str],
    run_id: str | None = None,
) -> bool:
    """Add the node unless it exists; return whether it was added."""
    if node in index.nodes:
        return False
    index.nodes.add(node)
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
            "status": "running" if kind == "openlineage_run" else None,
            "ended_pos": None,
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
        },
        key=(node,),
    )
    return True


def _ensure_edge(
    b: PageBatch, index: _PageIndex, pos: int, e: Any, src: str, dst: str, kind: str
) -> None:
    key = (src, dst, kind)
    if key in index.edges:
        return
    index.edges.add(key)
    b.insert(t.openlineage_edges, {"src": src, "dst": dst, "kind": kind}, key=key)
    b.insert(
        t.lineage_edges,
        {
            "src": src,
            "dst": dst,
            "kind": kind,
            "position": pos,
        },
        key=key,
    )
