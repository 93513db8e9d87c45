"""The JSON Schemas shipped in the package, found by their ``$id`` or by file name.

lineagelog's own facets (``lineagelog_cache``, ``lineagelog_artifact``) have
schemas in ``facets/``; the OpenLineage specification's are vendored in
``spec/``. A facet's ``_schemaURL`` is where its schema is, with a pointer to its
definition (``...#/$defs/LineagelogCacheRunFacet``).

lineagelog has no website serving its schemas, so by default the ``_schemaURL``
of its own facets is its schema's ``$id``, a URN that claims no host
(``urn:lineagelog:openlineage:facets:1-0-0:LineagelogCacheRunFacet.json``):
``shipped_schema`` resolves it from the package. ``lineagelog serve`` serves
these schemas, without a token, at ``/openlineage/facets/<file>``; a team that
wants the URLs to resolve sets the schema base (``--schema-base`` of ``events
export`` and ``openlineage send``, ``LINEAGELOG_OPENLINEAGE_SCHEMA_BASE`` for
those and live emission) to ``http://HOST:PORT/openlineage/facets`` of its
server, or to any place serving the files. Ids of earlier releases
(``https://lineagelog.dev/spec/facets/1-0-0/...``, a host that does not exist)
still resolve with ``shipped_schema``.
"""

from __future__ import annotations

import functools
import json
import os
from importlib import resources
from typing import Any

from lineagelog.domain.errors import ConfigurationError

__all__ = [
    "SCHEMA_BASE_VARIABLE",
    "custom_facet_files",
    "custom_facet_schema",
    "facet_schema_url",
    "schema_base",
    "shipped_schema",
]

_ROOT = "lineagelog.adapters.openlineage"

SCHEMA_BASE_VARIABLE = "LINEAGELOG_OPENLINEAGE_SCHEMA_BASE"
"""Where lineagelog's facet schemas are served, when ``--schema-base`` does not say."""

_FORMER_IDS = "https://lineagelog.dev/spec/facets/1-0-0/"
"""The prefix of the ids of lineagelog's facet schemas before 1-0-0 ids became URNs."""

_ID_PREFIX = "urn:lineagelog:openlineage:facets:1-0-0:"


def schema_base(given: str | None = None) -> str | None:
    """The schema base: ``given`` (``--schema-base``), else ``LINEAGELOG_OPENLINEAGE_SCHEMA_BASE``.

    None (neither set) keeps each facet's ``$id`` as its ``_schemaURL``.

    Raises:
        ConfigurationError: the base is not an http(s) URL.

    """
    chosen = given if given is not None else os.environ.get(SCHEMA_BASE_VARIABLE, "").strip()
    if not chosen:
        return None
    if not chosen.startswith(("http://", "https://")) or any(c.isspace() for c in chosen):
        where = "--schema-base" if given is not None else SCHEMA_BASE_VARIABLE
        raise ConfigurationError(
            f"{where} {chosen!r} is not an http:// or https:// URL; give where the facet "
            "schemas are served, e.g. http://lineage:8080/openlineage/facets (`lineagelog "
            "serve` serves them there)"
        )
    return chosen


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
        >>> shipped_schema("urn:lineagelog:openlineage:facets:1-0-0:"
        ...                "LineagelogCacheRunFacet.json#/$defs/LineagelogCacheRunFacet")["$id"]
        'urn:lineagelog:openlineage:facets:1-0-0:LineagelogCacheRunFacet.json'
        >>> shipped_schema("https://lineagelog.dev/spec/facets/1-0-0/"
        ...                "LineagelogCacheRunFacet.json")["$id"]  # an earlier release's id
        'urn:lineagelog:openlineage:facets:1-0-0:LineagelogCacheRunFacet.json'
        >>> shipped_schema("https://example.com/elsewhere.json") is None
        True

    """
    document = url.split("#", 1)[0]
    if document.startswith(_FORMER_IDS):
        document = _ID_PREFIX + document.removeprefix(_FORMER_IDS)
    text = _by_id().get(document)
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
