"""The answer one deduplicated subgraph request gives its callers: each caller's own, equal
to the others and sharing no object or list with them (the executor merges into what it is
given), copied compiled or decoded again in pure Python (end to end:
tests/integration/router/test_resilience_dedup.py)."""

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from router.config.traffic import TrafficShapingSection
from router.transport import dedup
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


def _containers(value: Any) -> set[int]:
    """The identities of the objects and lists in a decoded JSON value."""
    if isinstance(value, dict):
        return {id(value)}.union(*(_containers(item) for item in value.values()))
    if isinstance(value, list):
        return {id(value)}.union(*(_containers(item) for item in value))
    return set()


@pytest.mark.parametrize("compiled_copy", [True, False])
async def test_every_caller_gets_an_answer_of_its_own(
    compiled_copy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dedup, "COMPILED_COPY", compiled_copy)
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
    assert not _containers(first) & _containers(second)
    assert not _containers(first) & _containers(third)
    assert not _containers(second) & _containers(third)
    first["data"]["_entities"][0]["tags"][1]["b"] = 2  # as a merge would
    second["data"]["_entities"].append({})
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
