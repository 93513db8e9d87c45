"""The lineage explorer in a real headless Chromium (Debian's), driven by playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from parts import require_module, unavailable
from served import Server, build_history, serve
from waiting import wait_until

require_module("fastapi", "server")
require_module("playwright", "test")

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts

    folder = tmp_path_factory.mktemp("page")
    chosen = (f"sqlite:///{folder / 'lineage.db'}", str(folder / "artifacts"))
    configure(database_url=chosen[0], artifact_store=chosen[1])
    build_history(runs=2)
    yield chosen
    configure()
    close_contexts()


@pytest.fixture(scope="module")
def server(stores) -> Iterator[Server]:
    with serve(stores) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if shutil.which("chromium") is None:
        unavailable("Debian's chromium", "install it: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    opened = browser.new_page(viewport={"width": 1400, "height": 820})
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    opened.close()
    assert errors == []


def wait_js(page, expression: str) -> None:
    """Wait until ``expression`` holds in the page (the app's CSP forbids playwright's eval)."""
    wait_until(lambda: page.evaluate(expression), 20, expression)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def drawn_nodes(page) -> int:
    wait_js(page, "document.getElementById('cy').dataset.nodes !== undefined")
    return int(page.get_attribute("#cy", "data-nodes"))


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
