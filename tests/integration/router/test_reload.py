"""The router reloads its supergraph file when it changes, without dropping requests in flight.

A real router (uvicorn) over real HTTP subgraphs; the test rewrites the supergraph file and
watches what clients see.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.infra.ports import free_port
from router.server import create_app
from tests.integration.router.conftest import TYPES, make_subgraphs
from tests.integration.router.subgraphs import Subgraph, subgraphs_app
from tests.support import eventually, serve
from tests.unit.router.supergraphs import supergraph

INTERVAL = 0.02  # seconds between the watcher's looks at the file, in these tests
WITHOUT_PRICE = TYPES.replace("  price: Int @join__field(graph: PRODUCTS)\n", "")
PRICE = "{ topProduct { name price } }"


def _supergraph(base: str, types: str = TYPES) -> str:
    graphs = {name: f"{base}/{name}/graphql" for name in ("products", "reviews", "users")}
    return supergraph(graphs, types, mutation=True, inaccessible=True)


async def _post(router: httpx.AsyncClient, query: str) -> dict[str, Any]:
    body: dict[str, Any] = (await router.post("/graphql", json={"query": query})).json()
    return body


async def _supergraph_changes(router: httpx.AsyncClient, before: str) -> str:
    async def changed() -> str | None:
        current: str = (await router.get("/health")).json()["supergraph"]
        return current if current != before else None

    found: str = await eventually(changed, within=4)
    return found


@pytest.fixture
async def subgraphs() -> AsyncIterator[tuple[dict[str, Subgraph], str]]:
    graphs = make_subgraphs()
    async with serve(subgraphs_app(graphs), free_port()) as url:
        yield graphs, url


@pytest.fixture
async def watched(
    tmp_path: Path, subgraphs: tuple[dict[str, Subgraph], str]
) -> AsyncIterator[tuple[httpx.AsyncClient, Path, str]]:
    _, base = subgraphs
    path = tmp_path / "supergraph.graphql"
    path.write_text(_supergraph(base, WITHOUT_PRICE))
    app = create_app(path.read_text(), watch=path, watch_interval=INTERVAL)
    async with serve(app, free_port()) as url, httpx.AsyncClient(base_url=url) as router:
        yield router, path, base


async def test_a_changed_supergraph_is_served_without_a_restart(
    watched: tuple[httpx.AsyncClient, Path, str],
) -> None:
    router, path, base = watched
    before = (await router.get("/health")).json()["supergraph"]
    refused = await _post(router, PRICE)
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    path.write_text(_supergraph(base))
    await _supergraph_changes(router, before)
    assert await _post(router, PRICE) == {"data": {"topProduct": {"name": "Chair", "price": 10}}}


@pytest.mark.parametrize(
    "broken",
    ["", "type Query {", "schema { query: Query } type Query { a: Int }", "\udcff"],
    ids=["empty", "truncated", "not-a-supergraph", "undecodable"],
)
async def test_a_broken_supergraph_is_refused_and_the_old_one_keeps_serving(
    watched: tuple[httpx.AsyncClient, Path, str],
    caplog: pytest.LogCaptureFixture,
    broken: str,
) -> None:
    router, path, base = watched
    before = (await router.get("/health")).json()["supergraph"]
    with caplog.at_level(logging.ERROR, logger="router"):
        path.write_bytes(broken.encode("utf-8", "surrogateescape"))

        async def refused() -> bool:
            return any("refused" in r.message or "cannot read" in r.message for r in caplog.records)

        await eventually(refused, within=4)
    # A poll that catches the file truncated but not yet written reads it after the write
    # and refuses it, and the next poll, seeing the written file's new size, refuses it
    # again: one record or two, each the reason at ERROR, never a traceback.
    records = [r for r in caplog.records if r.name == "router"]
    assert 1 <= len(records) <= 2, records
    assert all(r.levelno == logging.ERROR for r in records)
    assert all(r.exc_info is None for r in records)  # the reason, not a traceback
    assert (await router.get("/health")).json()["supergraph"] == before
    assert await _post(router, "{ topProduct { name } }") == {
        "data": {"topProduct": {"name": "Chair"}}
    }
    # a valid file after the broken one is taken
    path.write_text(_supergraph(base))
    await _supergraph_changes(router, before)
    assert (await _post(router, PRICE))["data"]["topProduct"]["price"] == 10


async def test_requests_in_flight_finish_on_the_supergraph_they_started_with(
    subgraphs: tuple[dict[str, Subgraph], str],
    watched: tuple[httpx.AsyncClient, Path, str],
) -> None:
    graphs, _ = subgraphs
    router, path, base = watched
    before = (await router.get("/health")).json()["supergraph"]
    products = graphs["products"]
    products.gate = asyncio.Event()
    slow = asyncio.create_task(_post(router, "{ topProduct { name } }"))
    try:
        await eventually(lambda: products.arrived == 1, within=5)
        # the request is now held at the products subgraph. The new supergraph reaches the
        # subgraphs by another address: a new connection pool, and the old one may only close
        # once the held request is done with it
        path.write_text(_supergraph(base.replace("127.0.0.1", "localhost")))
        await _supergraph_changes(router, before)
        assert not slow.done()
    finally:
        products.gate.set()  # never left held, even when the test fails
    assert await slow == {"data": {"topProduct": {"name": "Chair"}}}
    assert (await _post(router, PRICE))["data"]["topProduct"]["price"] == 10


async def test_without_watch_the_file_is_read_once(
    watched: tuple[httpx.AsyncClient, Path, str],
) -> None:
    """Beside a router watching the same file, one given the same interval but no file to
    watch: after the watched one took the change, and ten of its polls later, the other still
    serves what it was started with."""
    control, path, base = watched
    app = create_app(path.read_text(), watch_interval=INTERVAL)
    async with serve(app, free_port()) as url, httpx.AsyncClient(base_url=url) as router:
        before = (await router.get("/health")).json()["supergraph"]
        path.write_text(_supergraph(base))
        await _supergraph_changes(control, before)
        # not synchronisation: the window in which a watcher would have acted, if there were one
        await asyncio.sleep(10 * INTERVAL)
        assert (await router.get("/health")).json()["supergraph"] == before
        body = await _post(router, PRICE)
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
