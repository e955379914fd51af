"""Browser tests: headless Chromium, without network, on the GraphiQL of this session's
router and subgraphs."""

from collections.abc import AsyncIterator

import pytest

from tests.browser.chromium import Browser, Page, chromium
from tests.integration.courses.conftest import admin, graph

__all__ = ["admin", "graph"]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as started:
        yield started


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    async with browser.page() as opened:
        yield opened
        assert await opened.evaluate("window.cspViolations ?? []") == [], (
            "blocked by the page's CSP"
        )
