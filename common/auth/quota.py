"""How many times something may be done per key (a client address, an e-mail address) in a
fixed window, counted in Redis and shared by every process: registrations per address,
welcome e-mails per recipient. Keys are hashed: no address is stored in Redis."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from common.errors import RateLimited


class Quota:
    def __init__(self, redis: Redis, name: str, limit: int, window: int) -> None:
        self._redis = redis
        self._name = name  # the Redis key prefix
        self._limit = limit
        self._window = window  # seconds

    async def _take(self, key: str) -> tuple[bool, int]:
        """Count one use of ``key``: whether it was within the quota, and the seconds until
        the window ends."""
        digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
        name = f"quota:{self._name}:{digest}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, self._window, nx=True)
            pipe.ttl(name)
            used, _, left = await pipe.execute()
        return int(used) <= self._limit, max(1, int(left))

    async def take(self, key: str, refusal: str) -> None:
        """One use of ``key``, or RATE_LIMITED: ``refusal``, then the seconds to wait."""
        within, left = await self._take(key)
        if not within:
            raise RateLimited(f"{refusal}; try again in {left} seconds.", retry_after=left)

    async def allows(self, key: str) -> bool:
        """One use of ``key`` if the quota has room; False (nothing raised) when it has not."""
        within, _ = await self._take(key)
        return within
