"""The lineage server's JSON API, against a real uvicorn process on loopback, with httpx."""

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

    folder = tmp_path_factory.mktemp("served")
    stores = (f"sqlite:///{folder / 'lineage.db'}", str(folder / "artifacts"))
    configure(database_url=stores[0], artifact_store=stores[1])
    runs = list(build_history(runs=3))
    yield stores, runs
    configure()
    close_contexts()


@pytest.fixture(scope="module")
def server(history: tuple[tuple[str, str], list[str]]) -> Iterator[Server]:
    with serve(history[0]) as running:
        yield running


def get(server: Server, path: str, **params: object) -> httpx.Response:
    return httpx.get(server.url + path, params=params, timeout=20)


def test_runs_are_listed_in_pages_in_the_shape_of_the_cli_json(server, history) -> None:
    stores, runs = history

    first = get(server, "/api/v1/runs", limit=2).json()
    second = get(server, "/api/v1/runs", limit=2, offset=first["next_offset"]).json()
    cli = json.loads(run_cli("runs", "list", "--json", stores=stores).stdout)

    assert [r["id"] for r in first["items"] + second["items"]] == list(reversed(runs))
    assert second["next_offset"] is None
    assert first["items"] == cli[:2]


def test_one_run_by_prefix_has_its_steps_with_cache_decisions(server, history) -> None:
    stores, runs = history

    answer = get(server, f"/api/v1/runs/{runs[1][:8]}").json()
    cli = json.loads(run_cli("runs", "show", runs[1], "--json", stores=stores).stdout)

    assert answer == cli
    outcomes = {s["invocation"]: s["cache_outcome"] for s in answer["steps"]}
    assert outcomes == {"load": "hit", "split": "hit", "report": "disabled"}


def test_a_steps_cache_decision_gives_its_reason_and_ingredients(server, history) -> None:
    _, runs = history
    run = get(server, f"/api/v1/runs/{runs[2]}").json()
    load = next(s for s in run["steps"] if s["invocation"] == "load")

    decision = get(server, f"/api/v1/step-runs/{load['id']}/cache").json()

    assert decision["outcome"] == "miss"
    assert "parameter `n` changed 4 -> 5" in decision["reason"]
    assert any(r["ingredient"] == "parameter n" and not r["same"] for r in decision["ingredients"])


def test_lineage_now_and_as_of_a_position_before_a_run(server, history) -> None:
    _, runs = history
    before_last = get(server, f"/api/v1/runs/{runs[2]}").json()
    events = get(server, "/api/v1/events", limit=1000).json()["items"]
    started = next(
        e["position"]
        for e in events
        if e["type"].endswith("RunStarted")
        and e["stream_id"].replace("-", "") == before_last["id"].replace("-", "")
    )

    now = get(server, "/api/v1/lineage", node="numbers", direction="both", depth=1).json()
    past = get(server, "/api/v1/lineage", node="numbers", as_of=started - 1).json()

    root = next(n for n in now["nodes"] if n["id"] == now["root"])
    assert root["attributes"]["name"] == "numbers"
    assert {n["attributes"]["name"] for n in now["nodes"] if n["kind"] == "artifact"} == {"numbers"}
    assert now["root"] != past["root"]  # the latest `numbers` did not exist yet
    assert past["as_of"] == started - 1
    assert not now["truncated"]


def test_a_lineage_answer_has_exactly_the_documented_shape(server) -> None:
    from lineagelog.api.server.models import Lineage

    answer = get(server, "/api/v1/lineage", node="evens:1", direction="both", depth=2).json()
    schema = get(server, "/openapi.json").json()["paths"]["/api/v1/lineage"]["get"]

    assert Lineage.model_validate(answer).model_dump(mode="json") == answer
    assert "Lineage" in json.dumps(schema["responses"]["200"])
    assert {p["name"] for p in schema["parameters"]} == {
        "node",
        "direction",
        "depth",
        "max_nodes",
        "as_of",
    }


def test_a_lineage_answer_is_capped_and_says_so(server) -> None:
    answer = get(
        server, "/api/v1/lineage", node="numbers:1", direction="both", depth=10, max_nodes=3
    ).json()

    assert len(answer["nodes"]) == 3
    assert answer["truncated"] is True
    assert answer["total_nodes"] > 3
    kept = {n["id"] for n in answer["nodes"]}
    assert all(e["src"] in kept and e["dst"] in kept for e in answer["edges"])


def test_artifact_versions_by_tag_and_one_with_its_visualizations(server, history) -> None:
    stores, _ = history

    versions = get(server, "/api/v1/artifact-versions", name="report").json()["items"]
    detail = get(server, "/api/v1/artifact-versions/report:1").json()
    cli = json.loads(run_cli("artifacts", "show", "report:1", "--json", stores=stores).stdout)
    shown = get(server, "/api/v1/artifact-versions/report:1/visualizations/0")

    assert [v["version"] for v in versions] == ["1", "2", "3"]
    assert detail == cli
    assert shown.headers["content-type"].startswith("text/html")
    assert "sandbox" in shown.headers["content-security-policy"]
    assert "<script>" in shown.text


def test_artifact_versions_come_in_pages_that_join_up_to_the_whole_list(server) -> None:
    everything = get(server, "/api/v1/artifact-versions", limit=1000).json()
    pages, offset = [], 0
    while offset is not None:
        answer = get(server, "/api/v1/artifact-versions", limit=2, offset=offset).json()
        pages.append(answer["items"])
        offset = answer["next_offset"]

    of_report = get(server, "/api/v1/artifact-versions", name="report", limit=1, offset=1).json()
    names = get(server, "/api/v1/artifacts", limit=1000).json()["items"]
    second_name = get(server, "/api/v1/artifacts", limit=1, offset=1).json()

    assert everything["next_offset"] is None
    assert [v for p in pages for v in p] == everything["items"]
    assert all(len(p) == 2 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    assert [v["version"] for v in of_report["items"]] == ["2"]
    assert of_report["next_offset"] == 2
    assert [n["name"] for n in names] == sorted({v["name"] for v in everything["items"]})
    assert second_name["items"] == names[1:2] and second_name["next_offset"] == 2


def test_run_graph_and_diagram_downloads(server, history, dot_program) -> None:
    _, runs = history

    graph = get(server, f"/api/v1/runs/{runs[0]}/graph").json()
    dot = get(server, f"/api/v1/runs/{runs[0]}/diagram", format="dot")
    svg = get(server, "/api/v1/lineage/diagram", node="report", format="svg")

    assert {n["kind"] for n in graph["nodes"]} == {"run", "step_run", "artifact"}
    assert dot.text.startswith("digraph")
    assert "attachment" in dot.headers["content-disposition"]
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "<svg" in svg.text


def test_events_after_a_position_are_paged(server) -> None:
    first = get(server, "/api/v1/events", after=0, limit=5).json()
    second = get(server, "/api/v1/events", after=first["next_offset"], limit=5).json()

    assert [e["position"] for e in first["items"]] == [1, 2, 3, 4, 5]
    assert second["items"][0]["position"] == 6
    assert first["items"][0]["type"].endswith("RunStarted")


def test_the_event_stream_sends_events_after_a_position(server) -> None:
    with httpx.stream(
        "GET", server.url + "/api/v1/events/stream", params={"after": 2}, timeout=20
    ) as r:
        ids = []
        for line in r.iter_lines():
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            if len(ids) == 2:
                break

    assert r.headers["content-type"].startswith("text/event-stream")
    assert ids == [3, 4]


@pytest.mark.parametrize(
    ("path", "params", "status", "fragment"),
    [
        ("/api/v1/runs/ffffffff", {}, 404, "ffffffff"),
        ("/api/v1/artifact-versions/nosuch:1", {}, 404, "nosuch"),
        ("/api/v1/lineage", {"node": "numbers", "direction": "sideways"}, 400, "direction"),
        ("/api/v1/lineage", {"node": "numbers", "as_of": "yesterday"}, 400, "as_of 'yesterday'"),
        ("/api/v1/lineage", {"node": "numbers", "depth": -1}, 400, "depth"),
        ("/api/v1/runs", {"status": "exploded"}, 400, "exploded"),
        ("/api/v1/runs", {"limit": 0}, 400, "limit"),
        ("/api/v1/nothing-here", {}, 404, "/api/v1/nothing-here"),
    ],
)
def test_errors_are_one_json_message_naming_the_bad_value(
    server, path, params, status, fragment
) -> None:
    response = get(server, path, **params)

    assert response.status_code == status
    body = response.json()
    assert fragment in body["message"]
    assert "Traceback" not in response.text


def test_healthz_and_the_openapi_page(server) -> None:
    docs = get(server, "/docs")

    assert get(server, "/healthz").json()["status"] == "ok"
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert docs.headers["content-security-policy"].startswith("default-src 'self'")
    assert "'sha256-" in docs.headers["content-security-policy"]
    assert get(server, "/redoc").status_code == 404  # ReDoc would load from a CDN
    assert "/api/v1/lineage" in get(server, "/openapi.json").json()["paths"]


def test_sigterm_stops_the_server_cleanly(history) -> None:
    with serve(history[0]) as running:
        assert get(running, "/healthz").status_code == 200

        code = running.stop()

    assert code == 0
