"""The headless Chromium the page tests drive (Debian's ``chromium``, through playwright).

``browser`` and ``page`` are fixtures (see ``tests/e2e/conftest.py``); a page that
raises a JavaScript error fails its test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from parts import unavailable
from waiting import wait_until

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # copied to docs/ by hand
CHROMIUM = "/usr/bin/chromium"


def launched_browser() -> Iterator[Any]:
    """Debian's chromium, headless, for as long as the caller keeps the generator open."""
    if shutil.which("chromium") is None:
        unavailable("Debian's chromium", "install it: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def opened_page(browser: Any) -> Iterator[Any]:
    """A new page of ``browser``, closed afterwards; JavaScript errors fail the test."""
    opened = browser.new_page(viewport={"width": 1400, "height": 820})
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    opened.close()
    assert errors == []


def wait_js(page: Any, expression: str) -> None:
    """Wait until ``expression`` holds in the page (the app's CSP forbids playwright's eval)."""
    wait_until(lambda: page.evaluate(expression), 20, expression)


def shot(page: Any, name: str) -> None:
    """Save a screenshot of ``page`` as ``tests/screenshots/NAME.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
