"""GCRA, the generic cell rate algorithm: a limit of ``capacity`` requests per ``interval``
kept as one number per key, the theoretical arrival time (TAT) of the next request.

Each request moves the TAT on by the emission interval (``interval / capacity``); a request
is refused while it would move the TAT more than ``interval`` past now, and it is told
when that stops being so. A decision checks several limits at once and takes a request from
each only when all allow it. This module is the in-process limiter; `redis_store` runs the
same arithmetic inside Redis."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from router.config.traffic import GlobalRateLimit
from router.lru import LRU

# keys an in-process limiter remembers (the least recently used are forgotten first)
REMEMBERED_KEYS = 100_000
# Float seconds: `now + interval - interval` may come out a hair past `now`, which would
# refuse a limit's last permit; Redis counts whole microseconds, so this is its resolution.
_ROUNDING = 1e-6


@dataclass(frozen=True, slots=True)
class Rate:
    capacity: int
    interval: float  # seconds

    @classmethod
    def of(cls, config: GlobalRateLimit) -> "Rate":
        return cls(config.capacity, config.interval)

    @property
    def emission(self) -> float:
        return self.interval / self.capacity


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit a request is counted against: ``scope`` names it in answers and metrics,
    ``key`` tells its counters apart (a client, a subgraph, …)."""

    scope: str
    key: str
    rate: Rate


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the refused limit lets a request through
    scope: str | None = None  # the limit that refused

    @classmethod
    def allow(cls) -> "Decision":
        return cls(True)


class LocalLimiter:
    """GCRA in this process's memory."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, capacity: int = REMEMBERED_KEYS
    ) -> None:
        self._clock = clock
        self._arrivals: LRU[str, float] = LRU(capacity)

    def check(self, limits: Sequence[Limit]) -> Decision:
        now = self._clock()
        refused: Limit | None = None
        wait = 0.0
        arrivals: list[float] = []
        for limit in limits:
            arrival = max(self._arrivals.get(limit.key) or now, now) + limit.rate.emission
            allowed_at = arrival - limit.rate.interval
            if allowed_at - now > _ROUNDING:
                refused = refused or limit
                wait = max(wait, allowed_at - now)
            arrivals.append(arrival)
        if refused is not None:
            return Decision(False, wait, refused.scope)
        for limit, arrival in zip(limits, arrivals, strict=True):
            self._arrivals.put(limit.key, arrival)
        return Decision.allow()
