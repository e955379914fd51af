"""A bulkhead's slots handed from request to request (the end-to-end behaviour is in
tests/integration/router/test_resilience_bulkheads.py)."""

import asyncio

import pytest

from router.config.traffic import Bulkhead
from router.metrics import REGISTRY
from router.transport.base import SubgraphRequestError
from router.transport.bulkheads import Compartment
from tests.support import eventually


def _gauge(name: str, service: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"subgraph": service})


async def _waiting(compartment: Compartment, count: int) -> None:
    await eventually(
        lambda: _gauge("router_bulkhead_waiting", compartment.service) == count, every=0.001
    )


async def test_waiters_get_freed_slots_in_arrival_order_and_the_gauges_follow() -> None:
    compartment = Compartment("unit-order", Bulkhead(max_concurrent=1, max_waiting=5))
    await compartment.enter()
    served: list[int] = []

    async def request(number: int) -> None:
        await compartment.enter()
        served.append(number)
        compartment.leave()

    waiters = [asyncio.ensure_future(request(n)) for n in range(3)]
    await _waiting(compartment, 3)
    assert _gauge("router_bulkhead_in_use", "unit-order") == 1
    compartment.leave()
    await asyncio.gather(*waiters)
    assert served == [0, 1, 2]
    assert _gauge("router_bulkhead_in_use", "unit-order") == 0
    assert _gauge("router_bulkhead_waiting", "unit-order") == 0


async def test_a_waiter_cancelled_after_it_was_handed_a_slot_passes_it_on() -> None:
    compartment = Compartment("unit-cancel", Bulkhead(max_concurrent=1, max_waiting=5))
    await compartment.enter()
    first = asyncio.ensure_future(compartment.enter())
    second = asyncio.ensure_future(compartment.enter())
    await _waiting(compartment, 2)
    compartment.leave()  # the slot is handed to `first`...
    first.cancel()  # ...which gives up before it runs
    await asyncio.wait_for(second, 5)  # so the slot went on to `second`
    assert first.cancelled()
    compartment.leave()
    assert compartment.in_use == 0


async def test_a_full_queue_and_a_long_wait_are_refused() -> None:
    compartment = Compartment("unit-full", Bulkhead(max_concurrent=1, max_waiting=1, max_wait=0.05))
    await compartment.enter()
    waiter = asyncio.ensure_future(compartment.enter())
    await _waiting(compartment, 1)
    with pytest.raises(SubgraphRequestError) as full:
        await compartment.enter()
    assert full.value.code == "SUBGRAPH_BULKHEAD_FULL"
    with pytest.raises(SubgraphRequestError) as waited:
        await waiter
    assert "no slot freed within" in waited.value.message
    compartment.leave()
    assert compartment.in_use == 0
    await compartment.enter()  # the slot is free again
