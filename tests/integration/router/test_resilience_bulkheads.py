"""Bulkheads (`traffic_shaping.*.bulkhead`) with real servers: a slow subgraph (its requests
held at a proxy) fills its own compartment; beyond it requests fail at once with
`SUBGRAPH_BULKHEAD_FULL`, and queries to the other subgraphs are answered meanwhile."""

import asyncio
from typing import Any

from tests.integration.router.resilience_world import World, resilience_world
from tests.support import error_codes, eventually

# products answers topProduct, reviews (the slow one) its reviews
SLOW = "{ topProduct { reviews { body } } }"
REVIEWED = {"data": {"topProduct": {"reviews": [{"body": "Comfy"}, {"body": "Wobbly"}]}}}


def _bulkhead(**settings: object) -> dict[str, Any]:
    # deduplication off: the identical slow queries must each be a request
    return {"subgraphs": {"reviews": {"deduplicate_query": False, "bulkhead": settings}}}


async def _waiting(world: World) -> float:
    return await world.metric("router_bulkhead_waiting", subgraph="reviews")


async def test_a_full_bulkhead_refuses_at_once_and_other_subgraphs_are_unaffected() -> None:
    async with resilience_world(
        _bulkhead(max_concurrent=2, max_waiting=1, max_wait="30s")
    ) as world:
        reviews = world.proxies["reviews"]
        reviews.hold = asyncio.Event()
        rejected = await world.metric(
            "router_bulkhead_rejected_total", subgraph="reviews", reason="queue_full"
        )
        in_flight = [asyncio.create_task(world.query(SLOW)) for _ in range(2)]
        await eventually(lambda: reviews.held == 2)
        assert await world.metric("router_bulkhead_in_use", subgraph="reviews") == 2
        queued = asyncio.create_task(world.query(SLOW))
        await eventually(lambda: _waiting(world))

        body = await world.query(SLOW)
        assert body["data"] is None
        assert error_codes(body) == ["SUBGRAPH_BULKHEAD_FULL"]
        assert (
            await world.metric(
                "router_bulkhead_rejected_total", subgraph="reviews", reason="queue_full"
            )
            == rejected + 1
        )
        # The other subgraphs answer while reviews is saturated.
        for _ in range(3):
            assert await world.query("{ products { name } }") == {
                "data": {"products": [{"name": "Chair"}, {"name": "Table"}]}
            }
        assert reviews.held == 2

        reviews.hold.set()
        assert await asyncio.gather(*in_flight, queued) == [REVIEWED] * 3
        assert reviews.requests == 3
        assert await world.metric("router_bulkhead_in_use", subgraph="reviews") == 0


async def test_a_request_that_waits_too_long_for_a_slot_is_refused() -> None:
    async with resilience_world(
        _bulkhead(max_concurrent=1, max_waiting=4, max_wait="50ms")
    ) as world:
        reviews = world.proxies["reviews"]
        reviews.hold = asyncio.Event()
        held = asyncio.create_task(world.query(SLOW))
        await eventually(lambda: reviews.held == 1)
        body = await world.query(SLOW)
        assert error_codes(body) == ["SUBGRAPH_BULKHEAD_FULL"]
        assert "no slot freed within 0.05s" in body["errors"][0]["message"]
        reviews.hold.set()
        assert await held == REVIEWED
        assert reviews.requests == 1
