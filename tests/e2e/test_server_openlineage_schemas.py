"""lineagelog's OpenLineage facet schemas, fetched by ``_schemaURL`` from ``lineagelog serve``.

An export with ``--schema-base`` pointing at the server names schemas that the
server answers without credentials; every custom facet of the export validates
against the schema fetched from its ``_schemaURL``. Without ``--schema-base``
the ``_schemaURL`` is the schema's ``$id``, which the package resolves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli import run_cli, store_options
from parts import require_module
from served import Server, build_history, serve

from lineagelog.adapters.openlineage.schemas import shipped_schema
from lineagelog.adapters.openlineage.validation import facet_schemas
from lineagelog.api.context import close_contexts

require_module("fastapi", "server")
jsonschema = require_module("jsonschema", "openlineage")
referencing = require_module("referencing", "openlineage")


@pytest.fixture
def history(sqlite_stores: tuple[str, str]) -> tuple[str, str]:
    build_history(runs=2)  # the second run's cache hits carry lineagelog_cache facets
    return sqlite_stores


@pytest.fixture
def server(history: tuple[str, str]) -> Iterator[Server]:
    with serve(history, "--token", "a-long-enough-server-token") as running:
        yield running


def _custom_facets(lines: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for line in lines.splitlines():
        event = json.loads(line)
        places = [event["run"]["facets"]]
        places += [d["facets"] for d in event["inputs"] + event["outputs"]]
        for facets in places:
            found += [(k, v) for k, v in facets.items() if k.startswith("lineagelog_")]
    return found


def _validate(facet: dict[str, Any], schema: dict[str, Any], url: str) -> None:
    core = shipped_schema("https://openlineage.io/spec/2-0-2/OpenLineage.json")
    assert core is not None
    registry = referencing.Registry().with_resources(
        [
            (core["$id"], referencing.Resource.from_contents(core)),
            (schema["$id"], referencing.Resource.from_contents(schema)),
        ]
    )
    pointer = url.split("#", 1)[1]
    jsonschema.Draft202012Validator(
        {"$ref": schema["$id"] + "#" + pointer}, registry=registry
    ).validate(facet)


def test_with_a_schema_base_every_custom_facets_schema_url_is_served_without_a_token(
    server: Server, history: tuple[str, str]
) -> None:
    base = f"{server.url}/openlineage/facets"

    exported = run_cli(
        "events", "export", "--format", "openlineage", "--schema-base", base,
        *store_options(*history),
    )  # fmt: skip

    assert exported.returncode == 0, exported.stderr
    facets = _custom_facets(exported.stdout)
    assert {key for key, _ in facets} == {"lineagelog_cache", "lineagelog_artifact"}
    for _, facet in facets:
        url = facet["_schemaURL"]
        assert url.startswith(base + "/")
        answer = httpx.get(url.split("#", 1)[0], timeout=20)  # no token
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/schema+json")
        _validate(facet, answer.json(), url)
    assert httpx.get(f"{server.url}/api/v1/runs", timeout=20).status_code == 401  # data: token
    missing = httpx.get(f"{base}/Nope.json", timeout=20)
    assert missing.status_code == 404
    assert "LineagelogCacheRunFacet.json" in missing.json()["message"]


def test_without_a_schema_base_the_schema_url_is_the_id_the_package_resolves(
    history: tuple[str, str],
) -> None:
    exported = run_cli("events", "export", "--format", "openlineage", *store_options(*history))

    facets = _custom_facets(exported.stdout)
    assert facets
    for _, facet in facets:
        assert facet["_schemaURL"].startswith("urn:lineagelog:openlineage:facets:1-0-0:")
        schema = shipped_schema(facet["_schemaURL"])
        assert schema is not None
        _validate(facet, schema, facet["_schemaURL"])


def _fetched_schemas_are_the_validators(
    facets: list[tuple[str, dict[str, Any]]], base: str
) -> None:
    """Each facet's _schemaURL, fetched, is the schema ingestion validates it with; it passes."""
    assert {key for key, _ in facets} == {"lineagelog_cache", "lineagelog_artifact"}
    for key, facet in facets:
        url = facet["_schemaURL"]
        assert url.startswith(base + "/")
        answer = httpx.get(url.split("#", 1)[0], timeout=20)  # no token
        assert answer.status_code == 200, answer.text
        place = "run" if key == "lineagelog_cache" else "dataset"
        used = facet_schemas().schema_for(place, key)
        assert used is not None
        assert answer.json() == facet_schemas().documents[used]
        _validate(facet, answer.json(), url)


def test_the_schema_base_variable_points_export_and_live_emission_at_the_server(
    server: Server, history: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = f"{server.url}/openlineage/facets"
    monkeypatch.setenv("LINEAGELOG_OPENLINEAGE_SCHEMA_BASE", base)
    written = tmp_path / "events.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(
        f"transport:\n  type: file\n  log_file_path: {written}\n  append: true\n", encoding="utf-8"
    )
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))
    close_contexts()  # the next context starts live emission

    build_history(runs=1)
    close_contexts()  # drains the emitter
    exported = run_cli(
        "events", "export", "--format", "openlineage", *store_options(*history),
        settings={"LINEAGELOG_OPENLINEAGE_SCHEMA_BASE": base},
    )  # fmt: skip

    assert exported.returncode == 0, exported.stderr
    _fetched_schemas_are_the_validators(_custom_facets(written.read_text("utf-8")), base)
    _fetched_schemas_are_the_validators(_custom_facets(exported.stdout), base)


def test_a_schema_base_that_is_no_http_url_is_refused_naming_it(
    history: tuple[str, str],
) -> None:
    result = run_cli(
        "events", "export", "--format", "openlineage", *store_options(*history),
        settings={"LINEAGELOG_OPENLINEAGE_SCHEMA_BASE": "lineage:8080/facets"},
    )  # fmt: skip

    assert result.returncode != 0
    assert "LINEAGELOG_OPENLINEAGE_SCHEMA_BASE 'lineage:8080/facets'" in result.stderr
    assert "http://" in result.stderr


def test_a_schema_base_without_the_openlineage_format_is_refused(
    history: tuple[str, str],
) -> None:
    result = run_cli("events", "export", "--schema-base", "http://x", *store_options(*history))

    assert result.returncode != 0
    assert "--format openlineage" in result.stderr
