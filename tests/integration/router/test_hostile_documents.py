"""Documents built to cost super-linear work are answered with a clear error (within the
client's deadline), and the router keeps answering everyone else meanwhile. The router runs in
its own process, as deployed, in front of real HTTP subgraphs. What they cost, and what an
attack does to others' latency, is measured in bench/hostile_documents.py."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from router.gateway.limits import MAX_SELECTIONS
from tests.hostile_documents import Bomb, bomb_family, repeated_fields, sibling_fragments
from tests.router_process import router_process
from tests.support import error_codes

ORDINARY = {"query": "{ topProduct { name reviews { body } } }"}
ORDINARY_ANSWER = {
    "data": {"topProduct": {"name": "Chair", "reviews": [{"body": "Comfy"}, {"body": "Wobbly"}]}}
}


@pytest.fixture
async def router() -> AsyncIterator[httpx.AsyncClient]:
    async with router_process() as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def _ordinary_answers(router: httpx.AsyncClient, stop: asyncio.Event) -> int:
    """Ordinary queries one after another until `stop`: each must be answered right."""
    answered = 0
    while not stop.is_set() or not answered:
        response = await router.post("/graphql", json=ORDINARY)
        assert response.json() == ORDINARY_ANSWER
        answered += 1
    return answered


async def _send(router: httpx.AsyncClient, method: str, query: str) -> httpx.Response:
    if method == "GET":
        return await router.get("/graphql", params={"query": query})
    return await router.post("/graphql", json={"query": query})


def _expected(bomb: Bomb) -> tuple[int, set[str]]:
    """Status and error codes for a bomb: within every limit it simply runs."""
    codes = set()
    if bomb.expanded_selections > MAX_SELECTIONS:
        codes.add("MAX_RECURSIVE_SELECTIONS_LIMIT")
    if bomb.field is None and bomb.expanded_leaves > 50:
        codes.add("MAX_ROOT_FIELDS_LIMIT")
    return (400 if codes else 200), codes


async def test_fragment_bombs_are_refused_in_bounded_time_while_others_are_served(
    router: httpx.AsyncClient,
) -> None:
    assert (await router.post("/graphql", json=ORDINARY)).json() == ORDINARY_ANSWER
    bombs = bomb_family() + bomb_family("Product", "id", "topProduct")
    stop = asyncio.Event()
    ordinary = asyncio.create_task(_ordinary_answers(router, stop))
    attacks = [_send(router, method, bomb.query) for bomb in bombs for method in ("POST", "GET")]
    answers = await asyncio.gather(*attacks)
    stop.set()
    await ordinary
    for response, bomb in zip(answers, [b for b in bombs for _ in "PG"], strict=True):
        status, codes = _expected(bomb)
        assert response.status_code == status, (bomb, response.text)
        assert set(error_codes(response.json())) == codes, bomb
        if not codes:
            data = response.json()["data"]
            assert data == (
                {"__typename": "Query"} if bomb.field is None else {"topProduct": {"id": "p1"}}
            )


async def test_documents_costly_to_validate_do_not_hold_up_other_requests(
    router: httpx.AsyncClient,
) -> None:
    """graphql-core compares same-named fields pairwise (seconds for 2,000 copies): such
    documents are compiled off the event loop, one at a time, while the rest is served."""
    costly = [
        repeated_fields("topProduct { id }", 2000),
        repeated_fields("a: topProduct { id } a: topProduct { name }", 900),
        sibling_fragments("Query", "__typename", 1400),
    ]
    assert (await router.post("/graphql", json=ORDINARY)).json() == ORDINARY_ANSWER
    stop = asyncio.Event()
    ordinary = asyncio.create_task(_ordinary_answers(router, stop))
    answers = await asyncio.gather(*(_send(router, "POST", query) for query in costly * 2))
    stop.set()
    await ordinary
    for response in answers:
        assert response.status_code in (200, 400), response.text
        if response.status_code == 400:
            assert error_codes(response.json()), response.text


async def test_validation_gives_up_early_on_repeated_fields_with_a_clear_error(
    router: httpx.AsyncClient,
) -> None:
    """500 copies of a leaf (1.5 KB) cost graphql-core's validation a quarter of a second;
    the router allows it a small budget of that work and says why it stopped."""
    repeated = "{ topProduct { " + "id " * 500 + "} }"
    response = await router.post("/graphql", json={"query": repeated})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "too complex to validate" in error["message"]
    fine = "{ topProduct { " + "id " * 50 + "} }"
    assert (await router.post("/graphql", json={"query": fine})).json() == {
        "data": {"topProduct": {"id": "p1"}}
    }
