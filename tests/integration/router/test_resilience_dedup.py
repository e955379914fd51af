"""Subgraph request deduplication (`traffic_shaping.*.deduplicate_query`, on by default) with
real servers: identical queries in flight to a subgraph share one request; other forwarded
headers, mutations, or the option turned off never share; a caller that gives up does not
take the shared request away from the others."""

import asyncio
from typing import Any

from router.config import RouterConfig
from router.transport import StreamTransport
from router.transport.dedup import Deduplication
from tests.integration.router.resilience_world import World, resilience_world
from tests.support import eventually

QUERY = "{ topProduct { name } }"
CHAIR = {"data": {"topProduct": {"name": "Chair"}}}


async def _shared(world: World) -> float:
    return await world.metric("router_subgraph_deduplicated_total", subgraph="products")


async def _requests(world: World) -> float:
    name = "router_subgraph_fetch_duration_seconds_count"
    return await world.metric(name, subgraph="products")


async def test_identical_queries_in_flight_share_one_subgraph_request() -> None:
    async with resilience_world({}) as world:
        products = world.proxies["products"]
        products.hold = asyncio.Event()
        before = await _shared(world)
        requests_before = await _requests(world)
        answers = [asyncio.create_task(world.query(QUERY)) for _ in range(5)]
        await eventually(lambda: products.held == 1)

        async def all_joined() -> bool:
            return await _shared(world) == before + 4

        await eventually(all_joined)
        products.hold.set()
        assert await asyncio.gather(*answers) == [CHAIR] * 5
        assert products.requests == 1
        assert len(world.subgraphs["products"].requests) == 1
        # the fetch metrics count subgraph requests: the four that shared it are counted above
        assert await _requests(world) == requests_before + 1


async def test_different_operations_share_a_fetch_and_each_completes_its_own_plan() -> None:
    """Three operations whose first fetch is the same: one products request, then each goes
    on with its own entity fetches on its own copy of the shared answer."""
    async with resilience_world({}) as world:
        products = world.proxies["products"]
        products.hold = asyncio.Event()
        operations = {
            "{ topProduct { name reviews { body } } }": [{"body": "Comfy"}, {"body": "Wobbly"}],
            "{ topProduct { name reviews { id author { name } } } }": [
                {"id": "r1", "author": {"name": "Ada"}},
                {"id": "r2", "author": {"name": "Alan"}},
            ],
            "{ topProduct { name reviews { author { email } } } }": [
                {"author": {"email": "ada@example.com"}},
                {"author": {"email": "alan@example.com"}},
            ],
        }
        answers = [asyncio.create_task(world.query(q)) for q in [*operations, *operations]]
        await eventually(lambda: products.held == 1)
        products.hold.set()
        bodies = await asyncio.gather(*answers)
        assert products.requests == 1
        expected = [
            {"data": {"topProduct": {"name": "Chair", "reviews": reviews}}}
            for reviews in operations.values()
        ]
        assert bodies == expected * 2


async def test_a_callers_merges_into_a_shared_answer_never_show_in_anothers() -> None:
    """Two operations share the products answer and each merges, under the same response
    keys of its objects, values of its own (a review's body for one, its id for the other),
    and both wait on a later fetch (users) while the other merges: each answer is its own."""
    async with resilience_world({}) as world:
        products, users = world.proxies["products"], world.proxies["users"]
        products.hold, users.hold = asyncio.Event(), asyncio.Event()
        bodies = "{ topProduct { name v: reviews { t: body author { name } } } }"
        ids = "{ topProduct { name v: reviews { t: id author { email } } } }"
        answers = [asyncio.create_task(world.query(q)) for q in (bodies, ids)]
        await eventually(lambda: products.held == 1)
        products.hold.set()
        await eventually(lambda: users.held == 2)  # both merged their reviews
        users.hold.set()
        assert await asyncio.gather(*answers) == [
            {
                "data": {
                    "topProduct": {
                        "name": "Chair",
                        "v": [
                            {"t": "Comfy", "author": {"name": "Ada"}},
                            {"t": "Wobbly", "author": {"name": "Alan"}},
                        ],
                    }
                }
            },
            {
                "data": {
                    "topProduct": {
                        "name": "Chair",
                        "v": [
                            {"t": "r1", "author": {"email": "ada@example.com"}},
                            {"t": "r2", "author": {"email": "alan@example.com"}},
                        ],
                    }
                }
            },
        ]
        assert products.requests == 1


async def _not_shared(world: World, requests: list[tuple[str, dict[str, str]]]) -> None:
    products = world.proxies["products"]
    products.hold = asyncio.Event()
    answers = [asyncio.create_task(world.query(q, **headers)) for q, headers in requests]
    await eventually(lambda: products.held == len(requests))
    products.hold.set()
    for body in await asyncio.gather(*answers):
        assert "errors" not in body, body
    assert products.requests == len(requests)


async def test_queries_with_other_authorization_are_not_shared() -> None:
    async with resilience_world({}) as world:
        await _not_shared(
            world, [(QUERY, {"authorization": "Bearer a"}), (QUERY, {"authorization": "Bearer b"})]
        )


async def test_queries_from_other_clients_and_traces_are_shared() -> None:
    """The client's address and trace context differ per request: they do not keep
    otherwise identical fetches apart."""
    async with resilience_world({}) as world:
        products = world.proxies["products"]
        products.hold = asyncio.Event()
        clients = [
            {"x-forwarded-for": f"203.0.113.{n}", "traceparent": f"00-{n:032x}-{n:016x}-01"}
            for n in range(1, 4)
        ]
        before = await _shared(world)
        answers = [asyncio.create_task(world.query(QUERY, **headers)) for headers in clients]
        await eventually(lambda: products.held == 1)

        async def all_joined() -> bool:
            return await _shared(world) == before + 2

        await eventually(all_joined)
        products.hold.set()
        assert await asyncio.gather(*answers) == [CHAIR] * 3
        assert products.requests == 1


async def test_mutations_are_never_shared() -> None:
    async with resilience_world({}) as world:
        mutation = 'mutation { createProduct(name: "Stool") { name } }'
        await _not_shared(world, [(mutation, {}), (mutation, {})])


async def test_deduplication_turned_off_for_a_subgraph() -> None:
    async with resilience_world({"subgraphs": {"products": {"deduplicate_query": False}}}) as world:
        await _not_shared(world, [(QUERY, {}), (QUERY, {})])


async def test_a_caller_giving_up_leaves_the_shared_request_to_the_others() -> None:
    async with resilience_world({}) as world:
        products = world.proxies["products"]
        products.hold = asyncio.Event()
        config = RouterConfig()
        dedup = Deduplication(
            StreamTransport({"products": products.url}, 30.0, None), config.traffic_shaping
        )
        payload: dict[str, Any] = {"query": "{ topProduct { name } }"}
        try:
            first = asyncio.create_task(dedup.send("products", payload, {}, idempotent=True))
            second = asyncio.create_task(dedup.send("products", payload, {}, idempotent=True))
            await eventually(lambda: products.held == 1)
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
            assert first.cancelled()
            products.hold.set()
            assert await second == {"data": {"topProduct": {"name": "Chair"}}}
            assert products.requests == 1
        finally:
            await dedup.aclose()
