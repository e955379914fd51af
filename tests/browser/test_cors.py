"""CORS as a browser enforces it: pages served from other loopback origins (other ports) call
the router with fetch() and open its WebSocket. An allowed origin reads the answer; a foreign
one gets the browser's CORS failure (a TypeError), and its socket never opens."""

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from common.infra.ports import free_port
from router.config import RouterConfig
from tests.browser.chromium import Page
from tests.integration.router.served import served_router
from tests.support import serve

FETCH = """
fetch({url!r}, {{
  method: "POST",
  credentials: {credentials!r},
  headers: {{"content-type": "application/json"}},
  body: JSON.stringify({{query: "{{ topProduct {{ name }} }}"}}),
}}).then((r) => r.json(), (e) => `${{e.name}}: ${{e.message}}`)
"""
SOCKET = """
new Promise((resolve) => {{
  const socket = new WebSocket({url!r}, "graphql-transport-ws");
  socket.onopen = () => {{ socket.close(); resolve("open"); }};
  socket.onerror = () => resolve("error");
}})
"""


async def _blank(_: object) -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>another site</title>")


@contextlib.asynccontextmanager
async def _site() -> AsyncIterator[str]:
    """A tiny static site on its own port: another origin than the router's."""
    async with serve(Starlette(routes=[Route("/", _blank)]), free_port()) as url:
        yield url


@dataclass
class Sites:
    router: str
    trusted: str  # allowed, with credentials
    public: str  # allowed, without credentials
    foreign: str  # in no policy


@pytest.fixture
async def sites() -> AsyncIterator[Sites]:
    async with _site() as trusted, _site() as public, _site() as foreign:
        config = RouterConfig.model_validate(
            {
                "cors": {
                    "policies": [
                        {"origins": [trusted], "allow_credentials": True},
                        {"match_origins": [re.escape(public)]},
                    ]
                }
            }
        )
        async with served_router(config) as router:
            yield Sites(router, trusted, public, foreign)


async def _fetch(page: Page, site: str, router: str, credentials: str = "omit") -> object:
    await page.open(site)
    await page.wait_for("document.readyState === 'complete'", "the page loads")
    return await page.evaluate(FETCH.format(url=f"{router}/graphql", credentials=credentials))


async def test_an_allowed_origin_reads_the_answer(page: Page, sites: Sites) -> None:
    answer = {"data": {"topProduct": {"name": "Chair"}}}
    assert await _fetch(page, sites.trusted, sites.router, "include") == answer
    assert await _fetch(page, sites.public, sites.router) == answer


async def test_a_foreign_origin_cannot_read_the_answer(page: Page, sites: Sites) -> None:
    failure = await _fetch(page, sites.foreign, sites.router)
    assert isinstance(failure, str)
    assert failure.startswith("TypeError"), failure


async def test_credentials_only_from_an_origin_allowed_them(page: Page, sites: Sites) -> None:
    failure = await _fetch(page, sites.public, sites.router, "include")
    assert isinstance(failure, str)
    assert failure.startswith("TypeError"), failure


async def test_a_foreign_page_cannot_open_the_routers_websocket(page: Page, sites: Sites) -> None:
    socket = sites.router.replace("http://", "ws://") + "/graphql"
    await page.open(sites.trusted)
    assert await page.evaluate(SOCKET.format(url=socket)) == "open"
    await page.open(sites.foreign)
    assert await page.evaluate(SOCKET.format(url=socket)) == "error"
