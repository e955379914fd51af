"""Per-subgraph rate limits (`traffic_shaping.*.global_rate_limit`) around a transport: a
call over its subgraph's limit is not sent, and fails as that fetch's error
(`SUBGRAPH_RATE_LIMITED`; the rest of the answer is kept)."""

from collections.abc import Mapping
from typing import Any

from router.ratelimit import RateLimitUnavailable, SubgraphLimits
from router.transport.base import SubgraphRequestError, Transport


class RateLimitedTransport:
    def __init__(self, inner: Transport, limits: SubgraphLimits) -> None:
        self.inner = inner
        self._limits = limits

    async def _admit(self, service: str) -> None:
        try:
            decision = await self._limits.check(service)
        except RateLimitUnavailable:
            message = f"the rate limit of subgraph {service!r} cannot be checked right now"
            raise SubgraphRequestError(service, message, "RATE_LIMIT_UNAVAILABLE") from None
        if not decision.allowed:
            message = f"subgraph {service!r} is over its rate limit"
            raise SubgraphRequestError(service, message, "SUBGRAPH_RATE_LIMITED")

    async def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        await self._admit(service)
        return await self.inner.send(service, payload, headers, idempotent=idempotent)

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        await self._admit(service)
        return await self.inner.send_multipart(service, payload, headers)

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            await self._limits.aclose()
