from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser import launched_browser, opened_page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless chromium (skipped, or failed in CI, when it is missing)."""
    yield from launched_browser()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page of the browser; a JavaScript error in it fails the test."""
    yield from opened_page(browser)
