"""The explorer's comparison view in a real headless Chromium (Debian's), driven by playwright."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from browser import shot, wait_js
from parts import require_module
from served import Server, build_history, serve

require_module("fastapi", "server")
require_module("playwright", "test")


@pytest.fixture(scope="module")
def history(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[tuple[str, str], list[str]]]:
    from lineagelog.api.config import configure
    from lineagelog.api.context import close_contexts

    folder = tmp_path_factory.mktemp("compare-page")
    chosen = (f"sqlite:///{folder / 'lineage.db'}", str(folder / "artifacts"))
    configure(database_url=chosen[0], artifact_store=chosen[1])
    runs = list(build_history(runs=3))  # n=4, n=4 (served from cache), n=5
    yield chosen, runs
    configure()
    close_contexts()


@pytest.fixture(scope="module")
def server(history) -> Iterator[Server]:
    with serve(history[0]) as running:
        yield running


def api_diff(server: Server, a: str, b: str) -> dict:
    return httpx.get(server.url + "/api/v1/diff", params={"a": a, "b": b}, timeout=30).json()


def test_two_versions_show_their_aligned_histories_with_the_cause_path_highlighted(
    server, page
) -> None:
    answer = api_diff(server, "evens:1", "evens:2")
    path = answer["root_causes"][0]["path_keys"]

    page.goto(server.url + "/#/compare?a=evens:1&b=evens:2")

    wait_js(
        page, f"document.getElementById('compare-cy').dataset.nodes === '{len(answer['nodes'])}'"
    )
    wait_js(page, f"document.getElementById('compare-cy').dataset.pathNodes === '{len(path)}'")
    highlighted = page.evaluate("lineagelogView.compare.cy.nodes('.path').map(n => n.id())")
    cause = page.evaluate("lineagelogView.compare.cy.nodes('.cause').map(n => n.id())")
    assert sorted(highlighted) == sorted(path)
    assert cause == [path[0]]
    panel = page.inner_text("#compare-panel")
    assert "parameter `n` of step `load` changed 4 -> 5" in panel
    assert "load → numbers:1 -> numbers:2 → split → evens:1 -> evens:2" in panel
    assert "1 root cause" in page.inner_text("#compare-title")
    shot(page, "compare-artifacts")


def test_clicking_a_cause_fades_what_is_not_on_its_path(server, page) -> None:
    page.goto(server.url + "/#/compare?a=evens:1&b=evens:2")
    page.wait_for_selector("#compare-panel .cause")

    page.click("#compare-panel .cause")

    wait_js(page, "document.querySelector('#compare-panel .cause.focused') !== null")
    faded = page.evaluate("lineagelogView.compare.cy.nodes('.faded').length")
    on_path = page.evaluate("lineagelogView.compare.cy.nodes('.path').length")
    total = page.evaluate("lineagelogView.compare.cy.nodes().length")
    assert faded == total - on_path and on_path > 0


def test_two_runs_chosen_in_the_form_compare_step_by_step(server, history, page) -> None:
    _, runs = history
    page.goto(server.url + "/#/compare")
    page.wait_for_selector("#compare-choices option", state="attached")

    page.fill("#compare-a", runs[0])
    page.fill("#compare-b", runs[2])
    page.select_option("#compare-kind", "runs")
    page.click("#compare-form button[type=submit]")

    page.wait_for_selector("#compare-runs tr[data-step='load']")
    load = page.inner_text("#compare-runs tr[data-step='load']")
    assert "changed" in load and "parameter `n` changed 4 -> 5" in load
    assert page.locator("#compare-runs tr.changed").count() == 3  # load, split, report
    assert "3 of 3 steps differ" in page.inner_text("#compare-title")
    assert page.is_hidden("#compare-artifacts")
    assert "kind=runs" in page.evaluate("location.hash")
    shot(page, "compare-runs")


def test_an_artifact_panel_links_to_why_it_differs_from_the_version_before(server, page) -> None:
    page.goto(server.url + "/#/lineage?node=evens:2")
    page.wait_for_selector("text=why does it differ from evens:1?")

    page.click("text=why does it differ from evens:1?")

    page.wait_for_selector("#compare-panel .cause")
    assert "a=evens%3A1" in page.evaluate("location.hash")


def test_a_run_and_an_artifact_version_cannot_be_compared_and_the_page_says_why(
    server, history, page
) -> None:
    _, runs = history

    page.goto(server.url + f"/#/compare?a={runs[0]}&b=evens:1")

    page.wait_for_selector("#error:not([hidden])")
    assert "compare two runs, or two artifact versions" in page.inner_text("#error")
