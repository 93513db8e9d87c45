"""lineagelog's modules import each other without cycles.

import-linter keeps the layers pointing one way; inside a layer nothing does,
so this walks grimp's import graph (the one import-linter builds) and looks for
modules that import each other, directly or round a loop.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

import grimp
import networkx as nx

LAYERS = ("domain", "projections", "adapters", "api", "examples")

# Cycles that exist only through imports made later than import time or for type
# checking. A new one fails the second test; break it (or, if it is truly
# deliberate, name it here with the reason).
DEFERRED_CYCLES: set[frozenset[str]] = {
    # The post-execution models navigate back to the client that made them, as ZenML's
    # response models do (run.pipeline.runs, artifact.versions): the models import the
    # client for typing and when navigated, never at import time.
    frozenset({"lineagelog.api.client", "lineagelog.api.download", "lineagelog.api.models"}),
    # The event store hands a long read for the projector to a worker process that opens an
    # event store of its own: the store imports the pool when such a read begins, the
    # pool's worker imports the store when its process starts (and names it for typing).
    frozenset(
        {
            "lineagelog.adapters.decode_pool",
            "lineagelog.adapters.event_store",
            "lineagelog.adapters.hash_pool",
        }
    ),
}


def _ours(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "lineagelog" and (len(parts) == 1 or parts[1] in LAYERS)


@cache
def _lines_inside_functions(module: str) -> frozenset[int]:
    """Line numbers of the imports a module makes inside a function (run later, not on import)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    tree = ast.parse(Path(spec.origin).read_text())
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.update(
                inner.lineno
                for inner in ast.walk(node)
                if isinstance(inner, (ast.Import, ast.ImportFrom))
            )
    return frozenset(lines)


def _cycles(*, at_import_time: bool) -> set[frozenset[str]]:
    graph = grimp.build_graph(
        "lineagelog", exclude_type_checking_imports=at_import_time, cache_dir=None
    )
    imports = nx.DiGraph()
    for importer in filter(_ours, graph.modules):
        for imported in filter(_ours, graph.find_modules_directly_imported_by(importer)):
            details = graph.get_import_details(importer=importer, imported=imported)
            deferred = _lines_inside_functions(importer)
            if at_import_time and all(d["line_number"] in deferred for d in details):
                continue
            imports.add_edge(importer, imported)
    return {frozenset(c) for c in nx.strongly_connected_components(imports) if len(c) > 1}


def test_no_two_modules_import_each_other_when_they_load():
    assert _cycles(at_import_time=True) == set()


def test_every_cycle_through_deferred_or_typing_imports_is_one_explained_here():
    assert _cycles(at_import_time=False) == DEFERRED_CYCLES
