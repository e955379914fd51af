"""Permits taken from a shared limit in leases, so that most decisions cost no round trip.

A router takes a limit's permits from the shared count (Redis) a hundredth of its capacity
at a time (at most 100; one permit, i.e. no lease, under a capacity of 200) and spends the
lease in memory while it lasts (one interval of the limit). A decision over several limits
(the router's, the client's, the client's operation's) spends what it can from leases and
asks for the rest in one round trip, a lease for each.

The shared count is exact to within one lease per limit per router: permits a router
leased but did not spend within the interval are lost for that interval, and a router
cannot spend another's lease. When a lease is refused, single permits are asked for, so no
request is refused while its limits have room in the shared count. One lease per key is
asked for at a time (single flight): the other decisions on that key wait for it."""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from router.lru import LRU
from router.ratelimit.gcra import REMEMBERED_KEYS, Decision, Limit, Rate
from router.ratelimit.limiter import Limiter

LEASE_SHARE = 100  # a lease is this share of the capacity
LEASE_MAX = 100


def lease_size(rate: Rate) -> int:
    return max(1, min(LEASE_MAX, rate.capacity // LEASE_SHARE))


@dataclass(slots=True)
class _Lease:
    left: int
    until: float  # monotonic seconds


class LeasingLimiter:
    def __init__(self, limiter: Limiter, clock: Callable[[], float] = time.monotonic) -> None:
        self._limiter = limiter
        self._clock = clock
        self._leases: LRU[str, _Lease] = LRU(REMEMBERED_KEYS)
        self._asking: dict[str, asyncio.Future[None]] = {}

    @property
    def namespace(self) -> str:
        return self._limiter.namespace

    def spend_leased(self, limits: Sequence[Limit]) -> bool:
        """A permit of every limit from leases, when each has one left (else none is spent
        and `check` decides)."""
        spent, missing = self._spend(limits)
        if missing:
            self._give_back(spent)
        return not missing

    async def check(self, limits: Sequence[Limit]) -> Decision:
        """Allowed, or refused with the time to wait; raises `RateLimitUnavailable`."""
        while True:
            spent, missing = self._spend(limits)
            if not missing:
                return Decision.allow()
            asked = next((self._asking[m.key] for m in missing if m.key in self._asking), None)
            if asked is None:
                break
            self._give_back(spent)  # and decide again once that lease is in
            await asyncio.shield(asked)
        try:
            decision = await self._ask(missing)
        except BaseException:
            self._give_back(spent)
            raise
        if not decision.allowed:
            self._give_back(spent)
        return decision

    def _spend(self, limits: Sequence[Limit]) -> tuple[list[_Lease], list[Limit]]:
        """A permit of each limit that has a lease left (those spent), and the limits that
        have none."""
        now = self._clock()
        spent: list[_Lease] = []
        missing: list[Limit] = []
        for limit in limits:
            lease = self._leases.get(limit.key)
            if lease is not None and lease.left > 0 and now < lease.until:
                lease.left -= 1
                spent.append(lease)
            else:
                missing.append(limit)
        return spent, missing

    @staticmethod
    def _give_back(spent: list[_Lease]) -> None:
        for lease in spent:
            lease.left += 1

    async def _ask(self, limits: list[Limit]) -> Decision:
        sizes = [lease_size(limit.rate) for limit in limits]
        if max(sizes) == 1:
            return await self._limiter.check(limits)
        asking = asyncio.get_running_loop().create_future()
        keys = [limit.key for limit, size in zip(limits, sizes, strict=True) if size > 1]
        for key in keys:
            self._asking[key] = asking
        try:
            # `size` permits at once: the limit's rate with a `size` times longer emission
            leased = [
                Limit(
                    limit.scope, limit.key, Rate(limit.rate.capacity // size, limit.rate.interval)
                )
                for limit, size in zip(limits, sizes, strict=True)
            ]
            decision = await self._limiter.decide(leased)
        finally:
            for key in keys:
                del self._asking[key]
            asking.set_result(None)
        if not decision.allowed:  # too few permits left for a lease: one at a time
            return await self._limiter.check(limits)
        now = self._clock()
        for limit, size in zip(limits, sizes, strict=True):
            if size > 1:
                self._leases.put(limit.key, _Lease(size - 1, now + limit.rate.interval))
        return decision

    async def aclose(self) -> None:
        await self._limiter.aclose()
