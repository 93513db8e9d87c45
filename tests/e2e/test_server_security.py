"""Who may use the lineage server: tokens off loopback, read-only by default, no traversal."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from cli import assert_one_line_error, run_cli
from parts import require_module
from served import Server, build_history, serve

require_module("fastapi", "server")

TOKEN = "s3cret-token-for-tests-only"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts

    folder = tmp_path_factory.mktemp("secured")
    chosen = (f"sqlite:///{folder / 'lineage.db'}", str(folder / "artifacts"))
    configure(database_url=chosen[0], artifact_store=chosen[1])
    build_history(runs=1)
    yield chosen
    configure()
    close_contexts()


@pytest.fixture(scope="module")
def guarded(stores) -> Iterator[Server]:
    with serve(stores, "--token", TOKEN) as running:
        yield running


def test_listening_beyond_loopback_needs_a_token(stores) -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "0", stores=stores, timeout=30)

    assert_one_line_error(result, "'0.0.0.0'", "--token")


def test_with_a_token_every_route_but_healthz_needs_it(guarded) -> None:
    assert httpx.get(guarded.url + "/healthz").status_code == 200
    assert httpx.get(guarded.url + "/api/v1/runs").status_code == 401
    assert httpx.get(guarded.url + "/openapi.json").status_code == 401
    assert httpx.get(guarded.url + "/", follow_redirects=False).status_code == 303


def test_a_wrong_token_is_refused_and_the_right_one_passes(guarded) -> None:
    wrong = httpx.get(guarded.url + "/api/v1/runs", headers={"Authorization": "Bearer nope"})
    right = httpx.get(guarded.url + "/api/v1/runs", headers={"Authorization": f"Bearer {TOKEN}"})

    assert wrong.status_code == 401
    assert "token" in wrong.json()["message"]
    assert right.status_code == 200


def test_a_browser_signs_in_once_and_gets_an_httponly_cookie(guarded) -> None:
    with httpx.Client(base_url=guarded.url) as browser:
        refused = browser.post("/login", data={"token": "wrong"})
        signed = browser.post("/login", data={"token": TOKEN})
        runs = browser.get("/api/v1/runs")

    assert refused.status_code == 401
    assert signed.status_code == 303
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert TOKEN not in signed.headers["set-cookie"]
    assert runs.status_code == 200


def test_writes_are_refused_without_allow_writes(stores) -> None:
    with serve(stores) as running:
        tag = httpx.post(
            running.url + "/api/v1/artifact-versions/numbers:1/tags", json={"tag": "x"}
        )
        delete = httpx.delete(running.url + "/api/v1/artifact-versions/numbers:1")

    assert tag.status_code == 403
    assert "--allow-writes" in tag.json()["message"]
    assert delete.status_code == 403


def test_with_allow_writes_tagging_is_recorded_as_an_event(stores) -> None:
    with serve(stores, "--allow-writes") as running:
        url = running.url + "/api/v1/artifact-versions/evens:1"
        tagged = httpx.post(url + "/tags", json={"tag": "reviewed"}).json()
        listed = httpx.get(running.url + "/api/v1/artifact-versions", params={"tag": "reviewed"})
        events = httpx.get(running.url + "/api/v1/events", params={"limit": 1000}).json()
        untagged = httpx.delete(url + "/tags/reviewed").json()

    assert tagged["tags"] == ["reviewed"]
    assert [v["name"] for v in listed.json()["items"]] == ["evens"]
    assert any(e["type"].endswith("VersionTagged") for e in events["items"])
    assert untagged["tags"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/artifact-versions/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/artifact-versions/numbers:1'%20OR%201=1--",
        "/api/v1/runs/%27%3B%20DROP%20TABLE%20runs%3B--",
        "/api/v1/step-runs/..%2F..%2F/cache",
        "/static/..%2F..%2Fapp.py",
        "/api/v1/lineage?node=%2Fetc%2Fpasswd",
        "/api/v1/artifact-versions/report:1/visualizations/-1",
    ],
)
def test_traversal_and_injection_in_ids_and_names_are_refused(guarded, path) -> None:
    response = httpx.get(guarded.url + path, headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code in (400, 404)
    assert "root:" not in response.text
    assert "Traceback" not in response.text
    runs = httpx.get(guarded.url + "/api/v1/runs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert len(runs.json()["items"]) == 1  # nothing was dropped


def test_the_app_sends_a_strict_csp_and_visualizations_a_sandbox(guarded) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}

    page = httpx.get(guarded.url + "/", headers=headers)
    shown = httpx.get(
        guarded.url + "/api/v1/artifact-versions/report:1/visualizations/0", headers=headers
    )

    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert shown.headers["content-security-policy"].startswith("sandbox allow-scripts;")
    assert "allow-same-origin" not in shown.headers["content-security-policy"]


def test_openlineage_events_are_recorded_only_when_the_server_allows_writes(stores) -> None:
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-05-01T10:00:00.000Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0190e3a4-3c1b-7f6e-9b2d-5a1c3e7f9d21", "facets": {}},
        "job": {"namespace": "spark", "name": "etl", "facets": {}},
        "inputs": [{"namespace": "s3://lake", "name": "raw"}],
        "outputs": [{"namespace": "s3://lake", "name": "clean"}],
    }
    with serve(stores) as running:
        refused = httpx.post(running.url + "/api/v1/lineage", json=event)
    with serve(stores, "--allow-writes") as running:
        recorded = httpx.post(running.url + "/api/v1/lineage", json=event)
        lineage = httpx.get(running.url + "/api/v1/lineage", params={"node": "job:spark:etl"})

    assert refused.status_code == 403
    assert "--allow-writes" in refused.json()["message"]
    assert recorded.status_code == 201, recorded.text
    assert lineage.status_code == 200, lineage.text


def _event(run_id: str, facet_bytes: int = 0) -> dict[str, object]:
    facets = (
        {}
        if not facet_bytes
        else {
            "bulky": {
                "_producer": "https://example.com/producer",
                "_schemaURL": "https://example.com/bulky.json",
                "x": "y" * facet_bytes,
            }
        }
    )
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-05-01T10:00:00.000Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": facets},
        "job": {"namespace": "spark", "name": "bulky"},
    }


def test_openlineage_posts_pass_the_same_guard_as_every_route(guarded) -> None:
    # The endpoint is served in a fast lane beside FastAPI's stack: the token, the
    # security headers and the JSON errors must be the same as on every other route.
    event = _event("0190e3a4-3c1b-7f6e-9b2d-5a1c3e7f9d22")
    anonymous = httpx.post(guarded.url + "/api/v1/lineage", json=event)
    wrong = httpx.post(
        guarded.url + "/api/v1/lineage", json=event, headers={"Authorization": "Bearer nope"}
    )
    read_only = httpx.post(
        guarded.url + "/api/v1/lineage", json=event, headers={"Authorization": f"Bearer {TOKEN}"}
    )

    for refused in (anonymous, wrong):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "token" in refused.json()["message"]
    assert read_only.status_code == 403
    assert read_only.json()["error"] == "HTTPError"
    assert "--allow-writes" in read_only.json()["message"]
    for answer in (anonymous, read_only):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")


def test_an_openlineage_body_over_the_limit_is_refused_with_413_and_nothing_recorded(
    stores,
) -> None:
    from lineagelog.adapters.event_store import EventStore
    from lineagelog.api.openlineage_routes import MAX_EVENT_BYTES

    before = EventStore(stores[0]).max_position()
    oversized = _event("0190e3a4-3c1b-7f6e-9b2d-5a1c3e7f9d23", MAX_EVENT_BYTES)
    body = httpx.Request("POST", "http://x", json=oversized).content

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    with serve(stores, "--allow-writes") as running:
        declared = httpx.post(
            running.url + "/api/v1/lineage",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        streamed = httpx.post(
            running.url + "/api/v1/lineage",
            content=chunked(),
            headers={"Content-Type": "application/json"},
        )
        within = httpx.post(
            running.url + "/api/v1/lineage",
            json=_event("0190e3a4-3c1b-7f6e-9b2d-5a1c3e7f9d24", 1 << 20),
        )

    for refused in (declared, streamed):
        assert refused.status_code == 413, refused.text[:200]
        assert f"{MAX_EVENT_BYTES:,} bytes" in refused.json()["message"]
    assert within.status_code == 201, within.text[:200]
    assert EventStore(stores[0]).max_position() == before + 1  # only the event within it
