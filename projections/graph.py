"""Pure graph algorithms over lineage graphs held as ``networkx.DiGraph``.

Every edge points downstream: ``src`` is upstream of ``dst`` (an artifact is
upstream of the step run that consumed it, a step run upstream of what it
produced). Nodes carry the attributes ``LineageGraph.to_networkx`` sets:
``kind`` (``"run"``, ``"step_run"`` or ``"artifact"``), ``label`` and
``attributes`` (a dict); these functions only read them where they say so.

The functions never change the graph they are given.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import networkx as nx

from lineagelog.domain.errors import (
    InvalidLineageQueryError,
    LineageCycleError,
    LineageNodeNotFoundError,
    NoLineagePathError,
)

__all__ = [
    "ancestors_of",
    "check_acyclic",
    "check_depth",
    "collapse_invocations",
    "descendants_of",
    "lineage_path",
]


_INVOCATION_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<n>[2-9]|[1-9][0-9]+)$")


def check_depth(depth: object) -> int | None:
    """Return ``depth`` if it is ``None`` or a whole number of hops >= 0, else raise.

    Raises
    ------
    InvalidLineageQueryError
        naming the bad value.

    Examples
    --------
    >>> check_depth(2)
    2
    >>> check_depth(-1)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    lineagelog.domain.errors.InvalidLineageQueryError: depth -1 is not a number of hops; ...

    """
    if depth is None:
        return None
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise InvalidLineageQueryError(
            f"depth {depth!r} is not a number of hops; use a whole number >= 0 "
            "(1 = direct neighbours) or None for no limit"
        )
    return depth


def _check_node(g: nx.DiGraph, node: Hashable) -> None:
    if node not in g:
        raise LineageNodeNotFoundError(
            f"node {node!r} is not in this lineage graph of {g.number_of_nodes()} node(s); "
            "query the lineage of that node instead, or widen the depth"
        )


def _within(g: nx.DiGraph, node: Hashable, depth: int | None, *, upstream: bool) -> set[Any]:
    _check_node(g, node)
    limit = check_depth(depth)
    neighbours = g.predecessors if upstream else g.successors
    seen = {node}
    frontier = [node]
    hops = 0
    while frontier and (limit is None or hops < limit):
        hops += 1
        reached = [m for n in frontier for m in neighbours(n) if m not in seen]
        seen.update(reached)
        frontier = reached
    seen.discard(node)
    return seen


def ancestors_of(g: nx.DiGraph, node: Hashable, depth: int | None = None) -> set[Any]:
    """Return the nodes upstream of ``node``: those with a directed path to it.

    Parameters
    ----------
    g : networkx.DiGraph
        A lineage graph whose edges point downstream.
    node : node
        The node to start from.
    depth : int or None, optional (default None)
        The most hops a path may have; ``1`` gives the direct inputs only,
        ``None`` no limit.

    Returns
    -------
    set
        The upstream nodes, without ``node`` itself.

    Raises
    ------
    LineageNodeNotFoundError
        ``node`` is not in ``g``.
    InvalidLineageQueryError
        ``depth`` is negative or not a whole number.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("raw", "clean"), ("clean", "features"), ("features", "train")])
    >>> sorted(ancestors_of(g, "train"))
    ['clean', 'features', 'raw']
    >>> sorted(ancestors_of(g, "train", depth=1))
    ['features']

    """
    return _within(g, node, depth, upstream=True)


def descendants_of(g: nx.DiGraph, node: Hashable, depth: int | None = None) -> set[Any]:
    """Return the nodes downstream of ``node``: those it has a directed path to.

    Parameters
    ----------
    g : networkx.DiGraph
        A lineage graph whose edges point downstream.
    node : node
        The node to start from.
    depth : int or None, optional (default None)
        The most hops a path may have; ``None`` means no limit.

    Returns
    -------
    set
        The downstream nodes, without ``node`` itself.

    Raises
    ------
    LineageNodeNotFoundError
        ``node`` is not in ``g``.
    InvalidLineageQueryError
        ``depth`` is negative or not a whole number.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("raw", "clean"), ("clean", "features"), ("clean", "report")])
    >>> sorted(descendants_of(g, "raw"))
    ['clean', 'features', 'report']
    >>> sorted(descendants_of(g, "raw", depth=1))
    ['clean']

    """
    return _within(g, node, depth, upstream=False)


def lineage_path(g: nx.DiGraph, a: Hashable, b: Hashable) -> list[Any]:
    """Return a shortest directed path between ``a`` and ``b``, whichever way it runs.

    Parameters
    ----------
    g : networkx.DiGraph
        A lineage graph whose edges point downstream.
    a, b : nodes
        The two ends.

    Returns
    -------
    list
        The nodes of the path from upstream to downstream: it starts at ``a``
        when ``b`` is downstream of ``a``, and at ``b`` when ``b`` is upstream.

    Raises
    ------
    LineageNodeNotFoundError
        ``a`` or ``b`` is not in ``g``.
    NoLineagePathError
        Neither node is upstream of the other.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("raw", "clean"), ("clean", "model"), ("raw", "report")])
    >>> lineage_path(g, "raw", "model")
    ['raw', 'clean', 'model']
    >>> lineage_path(g, "model", "raw")
    ['raw', 'clean', 'model']
    >>> lineage_path(g, "model", "report")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    lineagelog.domain.errors.NoLineagePathError: no lineage path between 'model' and ...

    """
    _check_node(g, a)
    _check_node(g, b)
    for source, target in ((a, b), (b, a)):
        try:
            path: list[Any] = nx.shortest_path(g, source, target)
        except nx.NetworkXNoPath:
            continue
        return path
    raise NoLineagePathError(
        f"no lineage path between {a!r} and {b!r} in either direction: neither is "
        "upstream of the other in this graph; query with direction='both' and no depth "
        "limit if you expected one"
    )


def _invocation(data: dict[str, Any]) -> tuple[Any, str, str]:
    attributes = data.get("attributes") or {}
    invocation = str(attributes.get("invocation_id") or data.get("label", ""))
    step = attributes.get("step_name")
    if not step:
        match = _INVOCATION_SUFFIX.match(invocation)
        step = match.group("base") if match else invocation
    return attributes.get("run_id"), str(step), invocation


def _invocation_order(invocation: str) -> tuple[int, str]:
    match = _INVOCATION_SUFFIX.match(invocation)
    return (int(match.group("n")) if match else 1, invocation)


def collapse_invocations(g: nx.DiGraph) -> nx.DiGraph:
    """Merge repeated invocations of one step in one run into a single node.

    A step called three times in a pipeline runs as the invocations ``total``,
    ``total_2`` and ``total_3``; a diagram reads better with one ``total`` node.
    Step runs (``kind == "step_run"``) are grouped by the ``run_id`` and
    ``step_name`` in their ``attributes``; without a ``step_name`` the step is
    the invocation id (``attributes["invocation_id"]`` or the ``label``) less a
    ``_<n>`` suffix with n >= 2. Other nodes are kept as they are.

    Parameters
    ----------
    g : networkx.DiGraph
        A lineage graph whose edges point downstream.

    Returns
    -------
    networkx.DiGraph
        A new graph. Each group becomes its first invocation's node, with the
        label ``"<invocation> x<count>"`` and the attribute ``members`` (the
        merged node ids, in invocation order); edges of the members move to it.
        Where members shared a neighbour, one edge remains (the first one's
        ``kind``); edges between members of a group are dropped.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> for node, label in [("s1", "total"), ("s2", "total_2"), ("s3", "report")]:
    ...     g.add_node(node, kind="step_run", label=label, attributes={"run_id": "r1"})
    >>> g.add_node("a1", kind="artifact", label="numbers:1")
    >>> g.add_edges_from([("a1", "s1"), ("a1", "s2"), ("s2", "s3")], kind="consumed")
    >>> c = collapse_invocations(g)
    >>> sorted(c.nodes), c.nodes["s1"]["label"], c.nodes["s1"]["members"]
    (['a1', 's1', 's3'], 'total x2', ['s1', 's2'])
    >>> sorted(c.edges)
    [('a1', 's1'), ('s1', 's3')]

    """
    groups: dict[tuple[Any, str], list[tuple[tuple[int, str], Any]]] = {}
    for node, data in g.nodes(data=True):
        if data.get("kind") == "step_run":
            run_id, step, invocation = _invocation(data)
            groups.setdefault((run_id, step), []).append((_invocation_order(invocation), node))
    merged_into: dict[Any, Any] = {}
    collapsed = nx.DiGraph(**g.graph)
    for node, data in g.nodes(data=True):
        collapsed.add_node(node, **data)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda item: (item[0], str(item[1])))
        head = members[0][1]
        ids = [node for _, node in members]
        for node in ids[1:]:
            merged_into[node] = head
            collapsed.remove_node(node)
        collapsed.nodes[head]["label"] = f"{_invocation(g.nodes[head])[2]} x{len(ids)}"
        collapsed.nodes[head]["members"] = ids
    for src, dst, data in g.edges(data=True):
        src, dst = merged_into.get(src, src), merged_into.get(dst, dst)
        if src != dst and not collapsed.has_edge(src, dst):
            collapsed.add_edge(src, dst, **data)
    return collapsed


def check_acyclic(g: nx.DiGraph) -> None:
    """Raise unless ``g`` has no directed cycle.

    Lineage comes from an append-only log in which a step can only consume
    what already exists, so a cycle means corrupted views or hand-built input.

    Parameters
    ----------
    g : networkx.DiGraph
        The graph to check.

    Raises
    ------
    LineageCycleError
        Naming the nodes of one cycle.

    Examples
    --------
    >>> import networkx as nx
    >>> check_acyclic(nx.DiGraph([("raw", "clean")]))
    >>> check_acyclic(nx.DiGraph([("a", "b"), ("b", "a")]))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    lineagelog.domain.errors.LineageCycleError: lineage graph has a cycle: a -> b -> a; ...

    """
    try:
        cycle = nx.find_cycle(g, orientation="original")
    except nx.NetworkXNoCycle:
        return
    nodes = [str(edge[0]) for edge in cycle] + [str(cycle[0][0])]
    raise LineageCycleError(
        f"lineage graph has a cycle: {' -> '.join(nodes)}; the event log cannot record one, "
        "so rebuild the lineage view (`lineagelog projections rebuild`) and report it "
        "if the cycle remains"
    )
