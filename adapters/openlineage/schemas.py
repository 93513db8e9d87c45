"""The JSON Schemas shipped in the package, found by their ``$id`` or by file name.

lineagelog's own facets (``lineagelog_cache``, ``lineagelog_artifact``) have
schemas in ``facets/``; the OpenLineage specification's are vendored in
``spec/``. A facet's ``_schemaURL`` is its schema's ``$id`` with a pointer to its
definition (``...#/$defs/LineagelogCacheRunFacet``). The ids of lineagelog's
facets (``https://lineagelog.dev/spec/facets/...``) are names, not a website:
``shipped_schema`` resolves them from the package, ``lineagelog serve`` serves
them at ``/openlineage/facets/<file>``, and ``schema_base`` (``--schema-base``,
``LINEAGELOG_OPENLINEAGE_SCHEMA_BASE``) points the exported ``_schemaURL`` values
at any place that serves these files, such as that server.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = [
    "custom_facet_files",
    "custom_facet_schema",
    "facet_schema_url",
    "shipped_schema",
]

_ROOT = "lineagelog.adapters.openlineage"


def custom_facet_files() -> list[str]:
    """The file names of lineagelog's own facet schemas (``LineagelogCacheRunFacet.json``...)."""
    folder = resources.files(_ROOT) / "facets"
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))


def custom_facet_schema(file_name: str) -> dict[str, Any] | None:
    """The schema of one of lineagelog's own facets by file name, else None."""
    if file_name not in custom_facet_files():  # only the listed files: no path from a request
        return None
    text = (resources.files(_ROOT) / "facets" / file_name).read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@functools.cache
def _by_id() -> dict[str, str]:
    root = resources.files(_ROOT)
    found: dict[str, str] = {}
    for folder in (root / "spec", root / "spec" / "facets", root / "facets"):
        for entry in folder.iterdir():
            if entry.name.endswith(".json"):
                text = entry.read_text("utf-8")
                found[json.loads(text)["$id"]] = text
    return found


def shipped_schema(url: str) -> dict[str, Any] | None:
    """The shipped schema whose ``$id`` is ``url`` (a ``#`` fragment is ignored), else None.

    Examples:
        >>> shipped_schema("https://lineagelog.dev/spec/facets/1-0-0/"
        ...                "LineagelogCacheRunFacet.json#/$defs/LineagelogCacheRunFacet")["$id"]
        'https://lineagelog.dev/spec/facets/1-0-0/LineagelogCacheRunFacet.json'
        >>> shipped_schema("https://example.com/elsewhere.json") is None
        True

    """
    text = _by_id().get(url.split("#", 1)[0])
    return None if text is None else json.loads(text)


@functools.cache
def facet_schema_url(file_name: str, schema_base: str | None = None) -> str:
    """The ``_schemaURL`` of a facet: its schema's ``$id`` and its definition's pointer.

    ``file_name`` is a schema file of the vendored specification
    (``ParentRunFacet.json``) or of lineagelog's own facets; with ``schema_base``
    a facet of lineagelog's own points at ``{schema_base}/{file_name}`` instead.
    """
    definition = f"#/$defs/{file_name.removesuffix('.json')}"
    root = resources.files(_ROOT)
    own = root / "facets" / file_name
    if own.is_file() and schema_base:
        return f"{schema_base.rstrip('/')}/{file_name}{definition}"
    for entry in (root / "spec" / "facets" / file_name, own):
        if entry.is_file():
            return str(json.loads(entry.read_text("utf-8"))["$id"]) + definition
    raise KeyError(f"no facet schema {file_name!r} in the package")  # a bug, not bad input
