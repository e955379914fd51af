"""`bulkhead`: per subgraph, at most `max_concurrent` requests in flight and `max_waiting`
waiting (each at most `max_wait`); a request beyond fails at once with
`SUBGRAPH_BULKHEAD_FULL` on that fetch's paths, so a slow subgraph holds only its own share
of the router."""

import asyncio
from typing import Any

from prometheus_client import Counter, Gauge

from router.config.traffic import Bulkhead, SubgraphShaping, TrafficShapingSection
from router.metrics import REGISTRY
from router.transport.base import SubgraphRequestError, Transport
from router.transport.layer import Call, GuardLayer

IN_USE = Gauge(
    "router_bulkhead_in_use",
    "Requests in flight to a subgraph under its bulkhead",
    ["subgraph"],
    registry=REGISTRY,
)
WAITING = Gauge(
    "router_bulkhead_waiting",
    "Requests waiting for a slot in a subgraph's bulkhead",
    ["subgraph"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "router_bulkhead_rejected",
    "Subgraph requests refused by the bulkhead: its queue was full, or the wait too long",
    ["subgraph", "reason"],
    registry=REGISTRY,
)


def bulkhead_full(service: str, why: str) -> SubgraphRequestError:
    return SubgraphRequestError(
        service,
        f"subgraph {service!r} has too many requests in flight: {why}",
        "SUBGRAPH_BULKHEAD_FULL",
    )


class Compartment:
    def __init__(self, service: str, settings: Bulkhead) -> None:
        self.service = service
        self.settings = settings
        self.slots = asyncio.Semaphore(settings.max_concurrent)
        self.waiting = 0

    async def enter(self) -> None:
        if self.slots.locked():
            if self.waiting >= self.settings.max_waiting:
                REJECTED.labels(self.service, "queue_full").inc()
                raise bulkhead_full(self.service, "its waiting queue is full")
            self.waiting += 1
            WAITING.labels(self.service).inc()
            try:
                async with asyncio.timeout(self.settings.max_wait):
                    await self.slots.acquire()
            except TimeoutError:
                REJECTED.labels(self.service, "wait_timeout").inc()
                raise bulkhead_full(
                    self.service, f"no slot freed within {self.settings.max_wait}s"
                ) from None
            finally:
                self.waiting -= 1
                WAITING.labels(self.service).dec()
        else:
            await self.slots.acquire()
        IN_USE.labels(self.service).inc()

    def leave(self) -> None:
        IN_USE.labels(self.service).dec()
        self.slots.release()


class Bulkheads(GuardLayer[Compartment]):
    def __init__(self, inner: Transport, section: TrafficShapingSection) -> None:
        def make(service: str, shaping: SubgraphShaping) -> Compartment | None:
            settings = shaping.bulkhead
            return None if settings is None else Compartment(service, settings)

        super().__init__(inner, section, make)

    async def around(self, service: str, call: Call) -> dict[str, Any]:
        compartment = self.policy(service)
        if compartment is None:
            return await call()
        await compartment.enter()
        try:
            return await call()
        finally:
            compartment.leave()
