"""--dedup-inflight: identical queries in flight with the same credentials share one execution."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from router.server import create_app
from router.transport import HttpTransport
from tests.integration.router.conftest import SUPERGRAPH
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.unit.router.supergraphs import local_graphs

Client = Callable[[bool], httpx.AsyncClient]


@pytest.fixture
async def client(subgraphs: dict[str, Subgraph]) -> AsyncIterator[Client]:
    transports: list[HttpTransport] = []

    def build(deduplicate: bool) -> httpx.AsyncClient:
        transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
        transports.append(transport)
        app = create_app(SUPERGRAPH, transport=transport, deduplicate=deduplicate)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")

    yield build
    for transport in transports:
        await transport.aclose()


async def _together(router: httpx.AsyncClient, bodies: list[tuple[str, str]]) -> list[Any]:
    responses = await asyncio.gather(
        *(
            router.post("/graphql", json={"query": q}, headers={"authorization": token})
            for q, token in bodies
        )
    )
    return [response.json() for response in responses]


async def test_identical_queries_in_flight_share_one_execution(
    client: Client, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["products"].delay = 0.2
    query = "{ topProduct { name reviews { body } } }"
    async with client(True) as router:
        answers = await _together(router, [(query, "Bearer a")] * 5)
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["data"]["topProduct"]["name"] == "Chair"
    assert len(subgraphs["products"].requests) == 1
    assert len(subgraphs["reviews"].requests) == 1


async def test_other_credentials_variables_or_mutations_are_never_shared(
    client: Client, subgraphs: dict[str, Subgraph]
) -> None:
    subgraphs["products"].delay = 0.2
    query = "{ topProduct { name } }"
    mutation = 'mutation { createProduct(name: "Lamp") { id } }'
    async with client(True) as router:
        answers = await _together(
            router, [(query, "Bearer a"), (query, "Bearer b"), (mutation, "x"), (mutation, "x")]
        )
    assert [a["data"] for a in answers[2:]] == [
        {"createProduct": {"id": "new1"}},
        {"createProduct": {"id": "new2"}},
    ] or [a["data"] for a in answers[2:]] == [
        {"createProduct": {"id": "new2"}},
        {"createProduct": {"id": "new1"}},
    ]
    assert len(subgraphs["products"].requests) == 4


async def test_off_by_default(client: Client, subgraphs: dict[str, Subgraph]) -> None:
    subgraphs["products"].delay = 0.1
    async with client(False) as router:
        await _together(router, [("{ topProduct { name } }", "Bearer a")] * 3)
    assert len(subgraphs["products"].requests) == 3
