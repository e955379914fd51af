"""A parallel node's fetches: all sent at once, each answer merged; when the request is
cancelled (its client went away) every fetch still waiting is cancelled; a fetch that
fails unexpectedly (a bug: a subgraph's failure is an error in the response) fails the
request and leaves nothing running."""

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from router.execution import ExecutionState, execute_plan
from router.planning.nodes import FetchNode, ParallelNode, QueryPlan
from tests.support import eventually


class Held:
    """A transport whose requests wait until let go (each answering its own field), or
    fail at once for the service `broken`; it notes what was sent and cancelled."""

    def __init__(self, broken: str = "") -> None:
        self.sent: list[str] = []
        self.cancelled: list[str] = []
        self.go = asyncio.Event()
        self.broken = broken
        self.waiting = 0  # requests sent and not yet answered nor cancelled

    async def send(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str], **_: Any
    ) -> dict[str, Any]:
        self.sent.append(service)
        if service == self.broken:
            raise RuntimeError("unexpected")
        self.waiting += 1
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.cancelled.append(service)
            raise
        finally:
            self.waiting -= 1
        return {"data": {service: True}}


SERVICES = ("a", "b", "c")
PLAN = QueryPlan(ParallelNode(tuple(FetchNode(s, f"{{ {s} }}") for s in SERVICES)))


def _state(transport: Held) -> ExecutionState:
    return ExecutionState(transport, {}, {}, frozenset())  # type: ignore[arg-type]


async def test_every_fetch_is_sent_at_once_and_merged() -> None:
    transport = Held()
    running = asyncio.ensure_future(execute_plan(PLAN, _state(transport)))
    await eventually(lambda: sorted(transport.sent) == list(SERVICES))  # none answered yet
    transport.go.set()
    state = await running
    assert state.data == {"a": True, "b": True, "c": True}


async def test_a_cancelled_request_cancels_every_fetch_it_waits_on() -> None:
    transport = Held()
    running = asyncio.ensure_future(execute_plan(PLAN, _state(transport)))
    await eventually(lambda: len(transport.sent) == len(SERVICES))
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await eventually(lambda: sorted(transport.cancelled) == list(SERVICES))
    assert transport.waiting == 0


@pytest.mark.parametrize("broken", SERVICES)
async def test_a_fetch_failing_unexpectedly_fails_the_request_and_leaves_nothing_running(
    broken: str,
) -> None:
    transport = Held(broken)
    running = asyncio.ensure_future(execute_plan(PLAN, _state(transport)))
    await eventually(lambda: broken in transport.sent)
    if broken != SERVICES[0]:  # the first fetch, in the request's own coroutine, ends first
        transport.go.set()
    with pytest.raises(RuntimeError):
        await running
    await eventually(lambda: transport.waiting == 0)  # the others cancelled or answered
