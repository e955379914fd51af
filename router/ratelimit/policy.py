"""The rate limits of `router.yaml`, compiled: those a request to the router is counted
against (the whole router's, its client's, its client's for its operation) and those of
the calls to each subgraph."""

import asyncio
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from router.config import RouterConfig
from router.config.traffic import GlobalRateLimit
from router.errors import error
from router.ratelimit.gcra import Decision, Limit, Rate
from router.ratelimit.limiter import Limiter, RateLimitUnavailable

ANONYMOUS_OPERATION = ""


def _digest(*parts: str) -> str:
    """Keys of a bounded length, whatever a client sends (and no key or token in Redis)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _rate(config: GlobalRateLimit | None) -> Rate | None:
    return Rate.of(config) if config is not None else None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused: 429 (over a limit) or 503 (Redis down, `when_redis_down: closed`),
    to retry after ``retry_after`` whole seconds, and its GraphQL error."""

    status: int
    retry_after: int
    error: dict[str, Any]


class RouterLimits:
    """The limits checked at the router's endpoint, before a request is planned."""

    def __init__(self, config: RouterConfig) -> None:
        section = config.rate_limit
        self.trusted_proxies = section.trusted_proxies
        self.retry_after_minimum = section.retry_after_minimum
        self._router = _rate(config.traffic_shaping.router.global_rate_limit)
        self._client = _rate(section.per_client) if section.enabled else None
        self._operation = _rate(section.per_operation) if section.enabled else None
        active = any((self._router, self._client, self._operation))
        self._limiter = Limiter(section.redis, section.when_redis_down) if active else None

    @property
    def counts_clients(self) -> bool:
        """Whether a decision needs the client's identity."""
        return self._client is not None or self._operation is not None

    async def check(self, client: str, operation: str | None) -> Decision:
        """Raises `RateLimitUnavailable` (Redis down, `when_redis_down: closed`)."""
        if self._limiter is None:
            return Decision.allow()
        prefix = self._limiter.namespace
        limits = []
        if self._router is not None:
            limits.append(Limit("router", f"{prefix}:router", self._router))
        if self._client is not None:
            limits.append(Limit("client", f"{prefix}:client:{_digest(client)}", self._client))
        if self._operation is not None:
            name = operation or ANONYMOUS_OPERATION
            key = f"{prefix}:operation:{_digest(client, name)}"
            limits.append(Limit("operation", key, self._operation))
        return await self._limiter.check(limits)

    async def refusal(self, client: str, operation: str | None) -> Refusal | None:
        """Why the request may not go on, or None when every limit lets it through."""
        try:
            decision = await self.check(client, operation)
        except RateLimitUnavailable:
            message = "Rate limits cannot be checked right now; try again later."
            unavailable = error(message, "RATE_LIMIT_UNAVAILABLE")
            return Refusal(503, self.retry_after_minimum, unavailable)
        if decision.allowed:
            return None
        seconds = max(math.ceil(decision.retry_after), self.retry_after_minimum)
        message = f"Too many requests ({decision.scope} rate limit); "
        message += f"try again in {seconds} seconds."
        return Refusal(429, seconds, error(message, "RATE_LIMITED", retryAfter=seconds))

    async def aclose(self) -> None:
        if self._limiter is not None:
            await self._limiter.aclose()


class SubgraphLimits:
    """`traffic_shaping.subgraphs.<name>.global_rate_limit`, else `traffic_shaping.all`'s:
    the calls to one subgraph from every client together.

    A router takes a subgraph's permits from the shared count in leases of a hundredth of
    its capacity (at most 100; one permit under a capacity of 200), and spends a lease
    without asking again while it lasts (one interval of the limit): a subgraph call costs a
    Redis round trip only once per lease. The shared count is exact to within one lease per
    router; when a lease is refused, single permits
    are still asked for, so none is refused while the limit has room."""

    def __init__(self, config: RouterConfig, clock: Callable[[], float] = time.monotonic) -> None:
        shaping = config.traffic_shaping
        self._default = _rate(shaping.all.global_rate_limit)
        self._rates = {
            name: Rate.of(subgraph.global_rate_limit)
            for name, subgraph in shaping.subgraphs.items()
            if subgraph.global_rate_limit is not None
        }
        section = config.rate_limit
        self._limiter = Limiter(section.redis, section.when_redis_down)
        self._clock = clock
        self._leases: dict[str, _Lease] = {}
        self._asking: dict[str, asyncio.Future[None]] = {}

    @classmethod
    def of(cls, config: RouterConfig) -> "SubgraphLimits | None":
        shaping = config.traffic_shaping
        configured = [shaping.all, *shaping.subgraphs.values()]
        if all(subgraph.global_rate_limit is None for subgraph in configured):
            return None
        return cls(config)

    async def check(self, service: str) -> Decision:
        """Raises `RateLimitUnavailable` (Redis down, `when_redis_down: closed`)."""
        rate = self._rates.get(service, self._default)
        if rate is None:
            return Decision.allow()
        key = f"{self._limiter.namespace}:subgraph:{_digest(service)}"
        size = lease_size(rate)
        while size > 1:
            lease = self._leases.get(service)
            now = self._clock()
            if lease is not None and lease.left > 0 and now < lease.until:
                lease.left -= 1
                return Decision.allow()
            asking = self._asking.get(service)
            if asking is None:
                break
            await asyncio.shield(asking)  # one lease asked for at a time: then spend it
        if size > 1:
            asking = self._asking[service] = asyncio.get_running_loop().create_future()
            try:
                leased = Rate(rate.capacity // size, rate.interval)  # `size` permits at once
                decision = await self._limiter.check([Limit("subgraph", key, leased)])
            finally:
                del self._asking[service]
                asking.set_result(None)
            if decision.allowed:
                self._leases[service] = _Lease(size - 1, self._clock() + rate.interval)
                return decision
        return await self._limiter.check([Limit("subgraph", key, rate)])

    async def aclose(self) -> None:
        await self._limiter.aclose()


LEASE_SHARE = 100  # a lease is this share of the capacity
LEASE_MAX = 100


def lease_size(rate: Rate) -> int:
    return max(1, min(LEASE_MAX, rate.capacity // LEASE_SHARE))


@dataclass(slots=True)
class _Lease:
    left: int
    until: float  # monotonic seconds
