"""The answer one deduplicated subgraph request gives its callers: each caller's own dict,
equal to the others, whose values are the one decoded answer they share, never copied (the
executor copies what it merges into: tests/unit/router/execution/test_merge.py; end to end:
tests/integration/router/test_resilience_dedup.py)."""

import asyncio
from collections.abc import Mapping
from typing import Any

from router.config.traffic import TrafficShapingSection
from router.transport.base import SubgraphRequestError
from router.transport.dedup import Deduplication

ANSWER = {"data": {"_entities": [{"id": 1, "tags": ["a", {"b": None}]}, {"id": 2}]}}


class Held:
    """A transport answering every request with one new copy of ANSWER once let go."""

    def __init__(self) -> None:
        self.requests = 0
        self.go = asyncio.Event()

    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str], **_: Any
    ) -> dict[str, Any]:
        self.requests += 1
        await self.go.wait()
        return {"data": {"_entities": [{"id": 1, "tags": ["a", {"b": None}]}, {"id": 2}]}}

    async def aclose(self) -> None:
        pass


async def test_every_caller_gets_an_answer_of_its_own() -> None:
    inner = Held()
    layer = Deduplication(inner, TrafficShapingSection())  # type: ignore[arg-type]
    payload = {"query": "{ _entities { id } }", "variables": {"representations": []}}
    calls = [layer.send("books", payload, {}, idempotent=True) for _ in range(3)]
    answers = asyncio.gather(*calls)
    await asyncio.sleep(0)
    inner.go.set()
    first, second, third = await answers
    assert inner.requests == 1
    assert first == second == third == ANSWER
    first["data"] = {"_entities": []}  # as the executor's unaliasing and unbatching do
    second["errors"] = []
    assert third == ANSWER


class Failing(Held):
    """A transport whose request fails once let go, or notes that it was cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.cancellations = 0

    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str], **_: Any
    ) -> dict[str, Any]:
        self.requests += 1
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.cancellations += 1
            raise
        raise SubgraphRequestError(service, "subgraph 'books' could not be reached")


PAYLOAD = {"query": "{ _entities { id } }", "variables": {"representations": []}}


async def test_the_shared_request_is_cancelled_when_every_caller_has_given_up() -> None:
    inner = Failing()
    layer = Deduplication(inner, TrafficShapingSection())  # type: ignore[arg-type]
    callers = [asyncio.ensure_future(layer.send("books", PAYLOAD, {}, idempotent=True))]
    callers.append(asyncio.ensure_future(layer.send("books", PAYLOAD, {}, idempotent=True)))
    await asyncio.sleep(0)
    callers[0].cancel()
    await asyncio.sleep(0)
    assert inner.cancellations == 0  # the second still waits
    callers[1].cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    await asyncio.sleep(0)
    assert inner.requests == 1
    assert inner.cancellations == 1
    # a new caller sends a request of its own
    again = asyncio.ensure_future(layer.send("books", PAYLOAD, {}, idempotent=True))
    for _ in range(3):  # (the caller, then its request's task, start)
        await asyncio.sleep(0)
    assert inner.requests == 2
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)


async def test_a_failed_shared_request_fails_each_caller_with_its_own_error() -> None:
    inner = Failing()
    layer = Deduplication(inner, TrafficShapingSection())  # type: ignore[arg-type]
    calls = [layer.send("books", PAYLOAD, {}, idempotent=True) for _ in range(3)]
    answers = asyncio.gather(*calls, return_exceptions=True)
    await asyncio.sleep(0)
    inner.go.set()
    failures = await answers
    assert inner.requests == 1
    assert all(isinstance(failure, SubgraphRequestError) for failure in failures)
    assert len({id(failure) for failure in failures}) == 3
    assert {str(failure) for failure in failures} == {"subgraph 'books' could not be reached"}
