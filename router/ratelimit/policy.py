"""The rate limits of `router.yaml`, compiled: those a request to the router is counted
against (the whole router's, its client's, its client's for its operation) and those of
the calls to each subgraph."""

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
from router.ratelimit.leases import LeasingLimiter
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
    """The limits checked at the router's endpoint, before a request is planned: spent from
    leases (`leases`), so that most requests cost no Redis round trip."""

    def __init__(self, config: RouterConfig) -> None:
        section = config.rate_limit
        self.trusted_proxies = section.trusted_proxies
        self.retry_after_minimum = section.retry_after_minimum
        self._router = _rate(config.traffic_shaping.router.global_rate_limit)
        self._client = _rate(section.per_client) if section.enabled else None
        self._operation = _rate(section.per_operation) if section.enabled else None
        active = any((self._router, self._client, self._operation))
        limiter = Limiter(section.redis, section.when_redis_down)
        self._limiter = LeasingLimiter(limiter) if active else None

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
    the calls to one subgraph from every client together, taken in leases (`leases`), so
    that a subgraph call costs a Redis round trip only once per lease."""

    def __init__(self, config: RouterConfig, clock: Callable[[], float] = time.monotonic) -> None:
        shaping = config.traffic_shaping
        self._default = _rate(shaping.all.global_rate_limit)
        self._rates = {
            name: Rate.of(subgraph.global_rate_limit)
            for name, subgraph in shaping.subgraphs.items()
            if subgraph.global_rate_limit is not None
        }
        section = config.rate_limit
        self._limiter = LeasingLimiter(Limiter(section.redis, section.when_redis_down), clock)
        self._limits: dict[str, list[Limit]] = {}  # per subgraph: none, or its one limit

    @classmethod
    def of(cls, config: RouterConfig) -> "SubgraphLimits | None":
        shaping = config.traffic_shaping
        configured = [shaping.all, *shaping.subgraphs.values()]
        if all(subgraph.global_rate_limit is None for subgraph in configured):
            return None
        return cls(config)

    def applies(self, service: str) -> bool:
        """Whether a limit counts the calls to the subgraph."""
        return bool(self._limits_of(service))

    def spend_leased(self, service: str) -> bool:
        """Whether a call to the subgraph was let through at once: no limit, or a permit of
        this router's lease (else `check` decides)."""
        return self._limiter.spend_leased(self._limits_of(service))

    async def check(self, service: str) -> Decision:
        """Raises `RateLimitUnavailable` (Redis down, `when_redis_down: closed`)."""
        return await self._limiter.check(self._limits_of(service))

    def _limits_of(self, service: str) -> list[Limit]:
        limits = self._limits.get(service)
        if limits is None:
            rate = self._rates.get(service, self._default)
            key = f"{self._limiter.namespace}:subgraph:{_digest(service)}"
            limits = self._limits[service] = [] if rate is None else [Limit("subgraph", key, rate)]
        return limits

    async def aclose(self) -> None:
        await self._limiter.aclose()
