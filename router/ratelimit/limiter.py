"""The limiter a policy asks: Redis when configured, with what `when_redis_down` says when
Redis cannot answer; in-process only without Redis."""

import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal

from router.config.rate_limit import RateLimitRedis
from router.ratelimit.gcra import Decision, Limit, LocalLimiter
from router.ratelimit.metrics import RATE_LIMITED, REDIS_DOWN_DECISIONS
from router.ratelimit.redis_store import RedisStore, RedisUnavailable

logger = logging.getLogger("router.ratelimit")

# while Redis is down, it is asked again at most this often (the requests between are
# decided as `when_redis_down` says without waiting for it)
PROBE_INTERVAL = 0.5


class RateLimitUnavailable(Exception):
    """Redis is down and `when_redis_down` is `closed`: the request is refused."""


class Limiter:
    def __init__(
        self,
        redis: RateLimitRedis | None,
        when_redis_down: Literal["open", "closed"] = "open",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = RedisStore(redis) if redis is not None else None
        self._when_down = when_redis_down
        self._local = LocalLimiter(clock)
        self._clock = clock
        self._down = False
        self._ask_again_at = 0.0

    @property
    def namespace(self) -> str:
        return self._store.namespace if self._store is not None else "router:rate"

    async def check(self, limits: Sequence[Limit]) -> Decision:
        """Allowed, or refused with the time to wait; raises `RateLimitUnavailable`."""
        decision = await self.decide(limits)
        if not decision.allowed:
            RATE_LIMITED.labels(decision.scope).inc()
        return decision

    async def decide(self, limits: Sequence[Limit]) -> Decision:
        """As `check`, but a refusal is not counted as a request refused (a lease was)."""
        if not limits:
            return Decision.allow()
        if self._store is None:
            return self._local.check(limits)
        if not self._down or self._clock() >= self._ask_again_at:
            try:
                decision = await self._store.check(limits)
            except RedisUnavailable as failure:
                self._went_down(str(failure))
            else:
                self._came_back()
                return decision
        if self._when_down == "closed":
            REDIS_DOWN_DECISIONS.labels("refused").inc()
            raise RateLimitUnavailable
        REDIS_DOWN_DECISIONS.labels("local").inc()
        return self._local.check(limits)

    def _went_down(self, reason: str) -> None:
        self._ask_again_at = self._clock() + PROBE_INTERVAL
        if not self._down:
            self._down = True
            logger.warning(
                "rate limits: Redis cannot be reached (%s); deciding %s until it answers",
                reason,
                "in-process" if self._when_down == "open" else "by refusing every request",
            )

    def _came_back(self) -> None:
        if self._down:
            self._down = False
            logger.warning("rate limits: Redis answers again; limits are shared again")

    async def aclose(self) -> None:
        if self._store is not None:
            await self._store.aclose()
