"""`deduplicate_query` (on by default, as in Hive Gateway and Grafbase): identical queries in
flight to one subgraph — the same body (query and variables) and the same forwarded headers,
but for the client's address and trace context, which differ per request — share one
request (carrying the first one's address and trace context). Never a mutation nor an
upload. Each caller gets its own copy of the answer (the executor changes what it is given),
and one caller giving up (cancelled) does not cancel the request for the others; it is
cancelled only when every caller has given up.

A copy is made by `router.jsoncopy.copied` when the router runs compiled (its
objects and lists new, its strings and numbers shared: about twice as fast as decoding
JSON), else decoded from the answer encoded once (in pure Python, faster than the copy)."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router import jsonio, native
from router.config.traffic import SubgraphShaping, TrafficShapingSection
from router.jsoncopy import copied
from router.metrics import LoopCounter
from router.transport.base import SubgraphRequestError, Transport
from router.transport.headers import shared_items
from router.transport.layer import PolicyLayer

SHARED = LoopCounter(
    "router_subgraph_deduplicated",
    "Subgraph queries that shared a request already in flight instead of sending their own",
    "subgraph",
)

Key = tuple[str, bytes, tuple[tuple[str, str], ...]]


# Whether `copied` runs compiled (router.native): decided once, as the router's modules are.
COMPILED_COPY = native.in_use() == native.NATIVE


@dataclass(eq=False)
class _InFlight:
    request: asyncio.Future[dict[str, Any]]
    # Each caller's future, settled with the request (a caller that gives up cancels only
    # its own): cheaper than `asyncio.shield`'s outer future and two callbacks per caller.
    waiters: list[asyncio.Future[dict[str, Any]]] = field(default_factory=list)
    waiting: int = 0  # callers that have not taken their answer yet
    # Pure Python: the answer encoded once, by the first caller to copy it; every other
    # copy is decoded from these bytes (a copy no caller can change), not encoded again.
    encoded: bytes | None = None

    def copy(self, response: dict[str, Any]) -> dict[str, Any]:
        # (`response` is unchanged until the last caller takes it, after every copy)
        if COMPILED_COPY:
            fresh: dict[str, Any] = copied(response)
            return fresh
        if self.encoded is None:
            self.encoded = jsonio.dumps(response)
        decoded: dict[str, Any] = jsonio.loads(self.encoded)
        return decoded

    def settle(self, request: asyncio.Future[dict[str, Any]]) -> None:
        """Hands the request's outcome to every caller still waiting."""
        waiters, self.waiters = self.waiters, []
        if request.cancelled():
            for waiter in waiters:
                waiter.cancel()
            return
        failure = request.exception()  # read, so that an unread failure is not reported
        for waiter in waiters:
            if waiter.done():
                continue
            if failure is None:
                waiter.set_result(request.result())
            else:
                waiter.set_exception(failure)


class Deduplication(PolicyLayer[bool]):
    def __init__(self, inner: Transport, section: TrafficShapingSection) -> None:
        def make(service: str, shaping: SubgraphShaping) -> bool | None:
            return True if shaping.deduplicate_query else None

        super().__init__(inner, section, make)
        self._in_flight: dict[Key, _InFlight] = {}

    async def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        if not idempotent or self.policy(service) is None:
            return await self.inner.send(service, payload, headers, idempotent=idempotent)
        key: Key = (service, jsonio.dumps(payload), shared_items(headers))
        shared = self._in_flight.get(key)
        if shared is None:
            request = asyncio.ensure_future(
                self.inner.send(service, payload, headers, idempotent=True)
            )
            shared = self._in_flight[key] = _InFlight(request)
            request.add_done_callback(lambda done: self._settled(key, shared, done))
        else:
            SHARED.inc(service)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        shared.waiters.append(waiter)
        shared.waiting += 1
        try:
            response = await waiter
        except asyncio.CancelledError:
            if waiter in shared.waiters:  # (not yet settled) the others wait on
                shared.waiters.remove(waiter)
            if shared.waiting == 1:  # nobody is left to read the answer
                shared.request.cancel()
                self._forget(key, shared)
            raise
        except SubgraphRequestError as failure:  # each caller records its own
            raise SubgraphRequestError(
                failure.service, failure.message, failure.code, status=failure.status
            ) from failure
        finally:
            shared.waiting -= 1
        # The last caller takes the answer itself: the others copied it before it could change.
        return response if shared.waiting == 0 else shared.copy(response)

    def _settled(
        self, key: Key, shared: _InFlight, request: asyncio.Future[dict[str, Any]]
    ) -> None:
        self._forget(key, shared)
        shared.settle(request)

    def _forget(self, key: Key, shared: _InFlight) -> None:
        if self._in_flight.get(key) is shared:
            del self._in_flight[key]
