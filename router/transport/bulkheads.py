"""`bulkhead`: per subgraph, at most `max_concurrent` requests in flight and `max_waiting`
waiting (each at most `max_wait`); a request beyond fails at once with
`SUBGRAPH_BULKHEAD_FULL` on that fetch's paths, so a slow subgraph holds only its own share
of the router."""

import asyncio
from collections import deque

from prometheus_client import Counter, Gauge

from router.config.traffic import Bulkhead
from router.metrics import REGISTRY
from router.transport.base import SubgraphRequestError

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
    """One subgraph's slots: a count of those in use, and the requests waiting for one in
    arrival order (each a future the leaving request hands its slot to)."""

    def __init__(self, service: str, settings: Bulkhead) -> None:
        self.service = service
        self.settings = settings
        self.in_use = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        # read when scraped, not counted on every request
        IN_USE.labels(service).set_function(lambda: self.in_use)
        WAITING.labels(service).set_function(lambda: len(self._waiting))

    async def enter(self) -> None:
        if self.in_use < self.settings.max_concurrent and not self._waiting:
            self.in_use += 1
            return
        if len(self._waiting) >= self.settings.max_waiting:
            REJECTED.labels(self.service, "queue_full").inc()
            raise bulkhead_full(self.service, "its waiting queue is full")
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            async with asyncio.timeout(self.settings.max_wait):
                await turn  # the slot is ours once it is set (`leave` hands it over)
        except BaseException as failure:
            if turn in self._waiting:
                self._waiting.remove(turn)
            elif turn.done() and not turn.cancelled():
                self.leave()  # handed a slot as we gave up: it goes on to the next
            if isinstance(failure, TimeoutError):
                REJECTED.labels(self.service, "wait_timeout").inc()
                why = f"no slot freed within {self.settings.max_wait}s"
                raise bulkhead_full(self.service, why) from None
            raise

    def leave(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot goes on to the next in line
                return
        self.in_use -= 1
