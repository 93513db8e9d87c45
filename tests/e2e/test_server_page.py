"""The lineage explorer in a real headless Chromium (Debian's), driven by playwright."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import shot, wait_js
from cli import run_cli
from parts import require_module
from served import Server, build_history, serve
from waiting import wait_until

require_module("fastapi", "server")
require_module("playwright", "test")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from lineagelog.api import Client
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts

    folder = tmp_path_factory.mktemp("page")
    chosen = (f"sqlite:///{folder / 'lineage.db'}", str(folder / "artifacts"))
    configure(database_url=chosen[0], artifact_store=chosen[1])
    build_history(runs=2)
    Client().delete_artifact_version("odds", "1", reason="drawn as deleted")
    yield chosen
    configure()
    close_contexts()


@pytest.fixture(scope="module")
def server(stores) -> Iterator[Server]:
    with serve(stores) as running:
        yield running


def drawn_nodes(page) -> int:
    wait_js(page, "document.getElementById('cy').dataset.drawnMs !== undefined")
    return int(page.get_attribute("#cy", "data-nodes"))


def lineage(server: Server, **params: object) -> dict:
    return httpx.get(server.url + "/api/v1/lineage", params=params, timeout=20).json()


def click_node(page, node_id: str, *, shift: bool = False) -> None:
    """Click a node where it is drawn, as a person does (Shift held to pick it for a path)."""
    box = page.locator("#cy").bounding_box()
    x, y = page.evaluate(
        f"(() => {{ const p = lineagelogView.cy.$id('{node_id}').renderedPosition();"
        " return [p.x, p.y]; })()"
    )
    if shift:
        page.keyboard.down("Shift")
    page.mouse.click(box["x"] + x, box["y"] + y)
    if shift:
        page.keyboard.up("Shift")


def producer_of(answer: dict, artifact: str) -> str:
    return next(e["src"] for e in answer["edges"] if e["dst"] == artifact)


def node_named(answer: dict, label: str) -> str:
    """The id of the artifact ``name:version`` or of the step run ``invocation`` in ``answer``."""
    for n in answer["nodes"]:
        attributes = n["attributes"]
        if f"{attributes.get('name')}:{attributes.get('version')}" == label:
            return n["id"]
        if n["kind"] == "step_run" and attributes.get("invocation_id") == label:
            return n["id"]
    raise AssertionError(f"no node {label} in the answer")


def test_the_runs_page_loads_with_status_colours(server, page) -> None:
    page.goto(server.url + "/")

    page.wait_for_selector("#runs-body tr")

    assert page.locator("#runs-body tr").count() == 2
    assert page.locator("#runs-body .status.completed").count() == 2
    shot(page, "runs")


def test_the_lineage_graph_shows_as_many_nodes_as_the_api_returns(server, page) -> None:
    api = httpx.get(server.url + "/api/v1/lineage", params={"node": "evens", "depth": 2}).json()

    page.goto(server.url + "/#/lineage?node=evens&direction=both&depth=2")

    wait_js(page, f"document.getElementById('cy').dataset.nodes === '{len(api['nodes'])}'")
    assert drawn_nodes(page) == len(api["nodes"])
    shot(page, "lineage")


def test_clicking_a_node_expands_its_neighbours(server, page) -> None:
    page.goto(server.url + "/#/lineage?node=numbers&direction=both&depth=1")
    before = drawn_nodes(page)
    split = page.evaluate(
        "lineagelogView.cy.nodes().filter(n => n.data('kind') === 'step_run')[0].id()"
    )

    page.evaluate(f"lineagelogView.cy.$id('{split}').emit('tap')")

    wait_js(page, f"Number(document.getElementById('cy').dataset.nodes) > {before}")
    assert drawn_nodes(page) > before


def test_changing_as_of_shows_the_past_graph(server, page) -> None:
    page.goto(server.url + "/#/lineage?node=numbers&direction=both&depth=3")
    now = drawn_nodes(page)
    first_run_end = httpx.get(server.url + "/api/v1/lineage", params={"node": "numbers"}).json()
    past_position = max(n["position"] for n in first_run_end["nodes"]) - 1

    page.fill("#asof-text", str(past_position))
    page.press("#asof-text", "Enter")

    wait_js(page, "location.hash.includes('as_of=')")
    wait_js(page, f"document.getElementById('cy').dataset.nodes !== '{now}'")
    assert drawn_nodes(page) < now
    assert "as of position" in page.inner_text("#graph-note")


def test_an_html_visualization_cannot_read_the_apps_dom_or_storage(server, page) -> None:
    page.goto(server.url + "/#/lineage?node=report")
    page.evaluate("localStorage.setItem('secret', 'app-only')")
    page.wait_for_selector("iframe[sandbox='allow-scripts']")
    frame = page.frame_locator("iframe[sandbox='allow-scripts']")

    wait_until(lambda: frame.locator("#out").inner_text() != "starting", 20, "the script")
    text = frame.locator("#out").inner_text()

    assert "parent blocked" in text
    assert "storage blocked" in text
    assert "app-only" not in text
    shot(page, "artifact")


def test_a_run_started_while_the_page_is_open_appears(server, stores, page) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#runs-body tr")
    page.wait_for_selector("#live.on")

    build_history(runs=3)

    wait_js(page, "document.querySelectorAll('#runs-body tr').length >= 5")
    assert page.locator("#runs-body tr").count() >= 5


def test_shift_clicking_two_nodes_highlights_the_path_between_them(server, page) -> None:
    answer = lineage(server, node="evens:1", direction="both", depth=2)
    start, end = node_named(answer, "numbers:1"), node_named(answer, "report:1")
    page.goto(server.url + "/#/lineage?node=evens:1&direction=both&depth=2")
    drawn_nodes(page)

    click_node(page, start, shift=True)
    click_node(page, end, shift=True)

    wait_js(page, "document.getElementById('graph-note').textContent.startsWith('path of')")
    on_path = page.evaluate("lineagelogView.cy.nodes('.path').map(n => n.id())")
    faded = page.evaluate("lineagelogView.cy.nodes('.faded').map(n => n.id())")
    expected = {start, node_named(answer, "split"), node_named(answer, "evens:1")}
    expected |= {producer_of(answer, end), end}
    assert set(on_path) == expected
    assert set(faded) == {n["id"] for n in answer["nodes"]} - expected != set()
    assert page.evaluate("lineagelogView.cy.edges('.path').length") == 4
    widths = page.evaluate("lineagelogView.cy.nodes('.path').map(n => n.width() > 20)")
    assert all(widths)  # a highlighted node keeps its size
    shot(page, "path")


def test_a_deleted_version_is_drawn_and_described_as_deleted(server, page) -> None:
    answer = lineage(server, node="odds:1", direction="both", depth=1)
    deleted, kept = node_named(answer, "odds:1"), node_named(answer, "split")
    page.goto(server.url + "/#/lineage?node=odds:1&direction=both&depth=1")
    drawn_nodes(page)

    look = page.evaluate(
        f"(() => {{ const n = lineagelogView.cy.$id('{deleted}');"
        " return [n.hasClass('deleted'), n.style('border-style'), n.data('label')]; })()"
    )

    assert look == [True, "dotted", "odds:1\n(deleted)"]
    assert not page.evaluate(f"lineagelogView.cy.$id('{kept}').hasClass('deleted')")
    page.wait_for_selector("#panel h2 .status.failed")
    assert page.inner_text("#panel h2 .status") == "deleted"
    assert page.locator("#panel .vis").count() == 0
    shot(page, "deleted")


def test_the_svg_and_dot_links_download_the_cli_diagram_of_the_graph_on_screen(
    server, stores, page
) -> None:
    answer = lineage(server, node="numbers:1", direction="both", depth=3)
    past = max(n["position"] for n in answer["nodes"]) - 1
    page.goto(server.url + f"/#/lineage?node=numbers:1&direction=both&depth=3&as_of={past}")
    drawn_nodes(page)

    with page.expect_download() as dot_download:
        page.click("#download-dot")
    with page.expect_download() as svg_download:
        page.click("#download-svg")

    dot = Path(dot_download.value.path()).read_text()
    svg = Path(svg_download.value.path()).read_text()
    cli = run_cli(
        "lineage",
        "numbers:1",
        "--both",
        "--depth",
        "3",
        "--as-of",
        str(past),
        "--format",
        "dot",
        stores=stores,
    ).stdout
    assert dot == cli
    assert dot_download.value.suggested_filename.endswith(".dot")
    assert svg_download.value.suggested_filename.endswith(".svg")
    assert "<svg" in svg and "numbers:1" in svg


def test_the_step_panel_shows_parameters_cache_decision_timings_host_and_outputs(
    server, page
) -> None:
    second = httpx.get(server.url + "/api/v1/runs", params={"limit": 50}).json()["items"][-2]
    run = httpx.get(server.url + f"/api/v1/runs/{second['id']}").json()
    load = next(s for s in run["steps"] if s["invocation"] == "load")
    page.goto(server.url + f"/#/run/{run['id']}")
    drawn_nodes(page)

    click_node(page, load["id"])

    page.wait_for_selector("#panel .reason")
    panel = page.inner_text("#panel")
    assert panel.startswith("load")
    assert '"n": 4' in panel
    assert f"hit — {load['cache_reason']}" in panel
    assert load["started_at"].replace("T", " ")[:19] in panel
    assert "duration" in panel and "ended" in panel
    assert socket.gethostname() in panel and f"pid {run['environment']['pid']}" in panel
    assert "numbers → numbers:1" in panel
    shot(page, "step-panel")


def test_the_api_docs_page_loads_nothing_from_elsewhere(server, page) -> None:
    requested: list[str] = []
    complaints: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)

    page.goto(server.url + "/docs")

    page.wait_for_selector(".opblock-summary-path")
    assert page.locator(".opblock").count() >= 10
    assert requested and all(url.startswith(server.url + "/") for url in requested)
    assert complaints == []
    shot(page, "api-docs")


LAYERED_CHECK = """(() => {
  // a hub read by 600 steps, each writing an artifact read by a second step: 1,801 nodes
  const ids = ["hub"], edges = [];
  for (let i = 0; i < 600; i++) {
    ids.push(`s${i}`, `a${i}`, `t${i}`);
    edges.push(["hub", `s${i}`], [`s${i}`, `a${i}`], [`a${i}`, `t${i}`]);
  }
  const started = performance.now();
  const at = lineagelogLayered.positions(ids, edges);
  const took = performance.now() - started;
  const spots = new Set(ids.map((id) => `${at[id].x},${at[id].y}`));
  const xs = ids.map((id) => at[id].x), ys = ids.map((id) => at[id].y);
  return {
    took, distinct: spots.size, placed: Object.keys(at).length,
    forward: edges.every(([s, d]) => at[s].x < at[d].x),
    width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys),
  };
})()"""


def test_a_big_graph_is_laid_out_in_layers_left_to_right_without_overlaps(server, page) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#runs-body tr")

    result = page.evaluate(LAYERED_CHECK)

    assert result["placed"] == result["distinct"] == 1801
    assert result["forward"]
    assert result["height"] < 3 * result["width"]  # the 600-node ranks fold into columns
    assert result["took"] < 500
