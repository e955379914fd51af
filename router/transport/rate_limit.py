"""Per-subgraph rate limits (`traffic_shaping.*.global_rate_limit`) around a transport: a
call over its subgraph's limit is not sent, and fails as that fetch's error
(`SUBGRAPH_RATE_LIMITED`; the rest of the answer is kept)."""

from collections.abc import Awaitable
from typing import Any

from router.ratelimit import RateLimitUnavailable, SubgraphLimits
from router.transport.base import SubgraphRequestError, Transport
from router.transport.layer import AroundLayer, Call


class RateLimitedTransport(AroundLayer):
    def __init__(self, inner: Transport, limits: SubgraphLimits) -> None:
        super().__init__(inner)
        self._limits = limits

    def around(self, service: str, call: Call) -> Awaitable[dict[str, Any]]:
        if self._limits.spend_leased(service):
            return call()  # a permit from this router's lease: nothing to wait for
        return self._checked(service, call)

    async def _checked(self, service: str, call: Call) -> dict[str, Any]:
        try:
            decision = await self._limits.check(service)
        except RateLimitUnavailable:
            message = f"the rate limit of subgraph {service!r} cannot be checked right now"
            raise SubgraphRequestError(service, message, "RATE_LIMIT_UNAVAILABLE") from None
        if not decision.allowed:
            message = f"subgraph {service!r} is over its rate limit"
            raise SubgraphRequestError(service, message, "SUBGRAPH_RATE_LIMITED")
        return await call()

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            await self._limits.aclose()
