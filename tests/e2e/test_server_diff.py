"""``GET /api/v1/diff`` against a real uvicorn process: the answer of ``lineagelog diff --json``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from cli import run_cli
from parts import require_module
from served import Server, build_history, serve

require_module("fastapi", "server")


@pytest.fixture(scope="module")
def history(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[tuple[str, str], list[str]]]:
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts

    folder = tmp_path_factory.mktemp("diffed")
    stores = (f"sqlite:///{folder / 'lineage.db'}", str(folder / "artifacts"))
    configure(database_url=stores[0], artifact_store=stores[1])
    runs = list(build_history(runs=3))  # n=4, n=4 (served from cache), n=5
    yield stores, runs
    configure()
    close_contexts()


@pytest.fixture(scope="module")
def server(history: tuple[tuple[str, str], list[str]]) -> Iterator[Server]:
    with serve(history[0]) as running:
        yield running


def diff(server: Server, **params: object) -> httpx.Response:
    return httpx.get(server.url + "/api/v1/diff", params=params, timeout=30)


def cli_json(stores: tuple[str, str], *args: str) -> object:
    return json.loads(run_cli("diff", *args, "--json", stores=stores).stdout)


def test_two_runs_compare_as_the_cli_prints_them(server, history) -> None:
    stores, runs = history

    answer = diff(server, a=runs[0][:8], b=runs[2]).json()

    assert answer == cli_json(stores, runs[0][:8], runs[2])
    assert answer["kind"] == "runs"
    load = next(s for s in answer["steps"] if s["invocation_id"] == "load")
    assert [d["reason"] for d in load["differences"]] == ["parameter `n` changed 4 -> 5"]


def test_two_artifact_versions_are_traced_to_their_root_cause_as_the_cli_does(
    server, history
) -> None:
    stores, _ = history

    answer = diff(server, a="evens:1", b="evens:2").json()

    assert answer == cli_json(stores, "evens:1", "evens:2")
    assert [(c["kind"], c["step"]) for c in answer["root_causes"]] == [("parameter", "load")]
    assert answer["root_causes"][0]["path"] == [
        "load",
        "numbers:1 -> numbers:2",
        "split",
        "evens:1 -> evens:2",
    ]
    assert answer["value"]["how"] == "values"


def test_as_of_a_position_compares_what_existed_then(server, history) -> None:
    _, runs = history
    graph = httpx.get(f"{server.url}/api/v1/lineage", params={"node": runs[2]}, timeout=30)
    third_started = next(n["position"] for n in graph.json()["nodes"] if n["id"] == runs[2])

    past = diff(server, a="evens:1", b="evens", as_of=third_started - 1)
    now = diff(server, a="evens:1", b="evens")

    assert past.status_code == 200
    assert (past.json()["new"]["version"], past.json()["root_causes"]) == ("1", [])
    assert now.json()["new"]["version"] == "2"


def test_without_values_the_versions_are_compared_by_what_the_log_recorded(server) -> None:
    answer = diff(server, a="evens:1", b="evens:2", values="false").json()

    assert answer["value"] is None
    assert [c["kind"] for c in answer["root_causes"]] == ["parameter"]


@pytest.mark.parametrize(
    ("params", "status", "error", "fragment"),
    [
        ({"a": "evens:1", "b": "nosuch:1"}, 404, "NotFoundError", "'nosuch:1'"),
        ({"a": "evens:1", "b": "RUN"}, 400, "InvalidComparisonError", "compare two runs"),
        ({"a": "evens:1", "b": "evens:2", "kind": "runs"}, 404, "RunNotFoundError", "evens:1"),
        ({"a": "evens:1", "b": "evens:2", "kind": "models"}, 400, "InvalidParameter", "kind"),
        ({"a": "evens:1"}, 400, "InvalidParameter", "'b'"),
        ({"a": "evens:1", "b": "evens:2", "as_of": "someday"}, 400, "", "as_of 'someday'"),
    ],
)
def test_errors_are_one_json_message_naming_the_bad_value(
    server, history, params, status, error, fragment
) -> None:
    _, runs = history
    params = {k: runs[0] if v == "RUN" else v for k, v in params.items()}

    response = diff(server, **params)

    assert response.status_code == status
    body = response.json()
    assert error in body["error"]
    assert fragment in body["message"]
    assert "Traceback" not in response.text


def test_the_comparison_is_described_in_the_openapi_page(server) -> None:
    schema = httpx.get(server.url + "/openapi.json", timeout=30).json()

    parameters = {p["name"] for p in schema["paths"]["/api/v1/diff"]["get"]["parameters"]}

    assert {"a", "b", "kind", "values", "as_of"} <= parameters
    assert {"RunComparison", "ArtifactComparison"} <= set(schema["components"]["schemas"])
