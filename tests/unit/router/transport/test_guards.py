"""The guards run in one layer, in order: bulkhead → circuit breaker → retries. A retried
call reaches the breaker once, with its last outcome; every way out of a call frees its
bulkhead slot (the end-to-end behaviour of each guard is in tests/integration/router)."""

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from router.config.traffic import TrafficShapingSection
from router.transport.base import SubgraphRequestError
from router.transport.guards import Guards, circuit_states
from tests.support import eventually

SHAPING = TrafficShapingSection.model_validate(
    {
        "all": {
            "bulkhead": {"max_concurrent": 1, "max_waiting": 0},
            "circuit_breaker": {"minimum_requests": 2, "failure_rate": 0.5, "open_for": 60},
            "experimental_retry": {"min_per_sec": 10},
        }
    }
)


class Scripted:
    """A transport answering each call with the next outcome of its script (an exception
    is raised), or holding it until `release` is set."""

    def __init__(self, *outcomes: dict[str, Any] | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0
        self.release: asyncio.Event | None = None

    async def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        self.calls += 1
        if self.release is not None:
            await self.release.wait()
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        return await self.send(service, payload, headers)

    async def aclose(self) -> None:
        pass


def _down() -> SubgraphRequestError:
    return SubgraphRequestError("products", "connection refused")


def _guards(inner: Scripted) -> Guards:
    return Guards(inner, SHAPING, None, rng=lambda: 0.0)  # retries without a wait


async def test_a_retried_query_reaches_the_breaker_once_with_its_last_outcome() -> None:
    inner = Scripted(_down(), {"data": {}}, _down(), {"data": {}})
    guards = _guards(inner)
    for _ in range(2):  # each failed once, then succeeded on its retry
        assert await guards.send("products", {}, {}, idempotent=True) == {"data": {}}
    assert inner.calls == 4
    assert circuit_states(guards, ["products"]) == {"products": "closed"}


async def test_failures_open_the_circuit_and_an_open_circuit_frees_the_slot_at_once() -> None:
    inner = Scripted(_down(), _down())
    guards = _guards(inner)
    for _ in range(2):  # mutations: never retried, each failure reaches the breaker
        with pytest.raises(SubgraphRequestError):
            await guards.send("products", {}, {})
    assert circuit_states(guards, ["products", "reviews"]) == {
        "products": "open",
        "reviews": "closed",
    }
    for _ in range(3):  # refused at once, and the only bulkhead slot is free every time
        with pytest.raises(SubgraphRequestError) as refused:
            await guards.send("products", {}, {}, idempotent=True)
        assert refused.value.code == "SUBGRAPH_CIRCUIT_OPEN"
    assert inner.calls == 2


async def test_a_cancelled_call_frees_its_slot_and_says_nothing_of_the_subgraph() -> None:
    inner = Scripted({"data": {"after": True}})  # the held call never gets an answer
    inner.release = asyncio.Event()
    guards = _guards(inner)
    held = asyncio.ensure_future(guards.send("products", {}, {}, idempotent=True))
    await eventually(lambda: inner.calls == 1, every=0.001)
    with pytest.raises(SubgraphRequestError) as full:  # one slot, no waiting room
        await guards.send("products", {}, {}, idempotent=True)
    assert full.value.code == "SUBGRAPH_BULKHEAD_FULL"
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    inner.release.set()
    assert await guards.send("products", {}, {}, idempotent=True) == {"data": {"after": True}}
    assert circuit_states(guards, ["products"]) == {"products": "closed"}
