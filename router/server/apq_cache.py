"""The automatic persisted queries' store: queries by SHA-256, in an in-process LRU in front
of Redis (`apq.router.cache.redis`), which every router replica shares.

Redis is a cache here, never a dependency: when it does not answer within its `timeout` the
store goes on in memory alone (logged once, when it happens), leaves Redis alone for
`RETRY_AFTER` seconds, then tries it again (logged once more when it answers)."""

import asyncio
import logging
import time

import redis.asyncio as redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from router.config.apq import Cache, RedisCache
from router.lru import LRU

logger = logging.getLogger("router")

RETRY_AFTER = 5.0


class _Shared:
    def __init__(self, config: RedisCache) -> None:
        self.timeout = config.timeout
        self.ttl = config.ttl
        self.prefix = f"{config.namespace}:apq:"
        self.client = redis.Redis.from_url(
            config.urls[0],
            socket_timeout=config.timeout,
            socket_connect_timeout=config.timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.down_since: float | None = None

    def _usable(self) -> bool:
        return self.down_since is None or time.monotonic() - self.down_since >= RETRY_AFTER

    def _failed(self, error: Exception) -> None:
        if self.down_since is None:
            logger.warning(
                "APQ cache: Redis does not answer (%s); persisted queries are kept in this "
                "process only until it does",
                type(error).__name__,
            )
        self.down_since = time.monotonic()

    def _answered(self) -> None:
        if self.down_since is not None:
            logger.info("APQ cache: Redis answers again")
            self.down_since = None

    async def get(self, sha256: str) -> str | None:
        if not self._usable():
            return None
        try:
            async with asyncio.timeout(self.timeout):
                value = await self.client.get(self.prefix + sha256)
        except (redis.RedisError, OSError, TimeoutError) as error:
            self._failed(error)
            return None
        self._answered()
        return value.decode() if isinstance(value, bytes) else None

    async def put(self, sha256: str, query: str) -> None:
        if not self._usable():
            return
        ttl = max(1, round(self.ttl)) if self.ttl else None
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.set(self.prefix + sha256, query.encode(), ex=ttl)
        except (redis.RedisError, OSError, TimeoutError) as error:
            self._failed(error)
            return
        self._answered()


class ApqCache:
    def __init__(self, config: Cache) -> None:
        self.local: LRU[str, str] = LRU(config.in_memory.limit)
        self.shared = _Shared(config.redis) if config.redis is not None else None

    async def get(self, sha256: str) -> str | None:
        query = self.local.get(sha256)
        if query is None and self.shared is not None:
            query = await self.shared.get(sha256)
            if query is not None:
                self.local.put(sha256, query)
        return query

    async def put(self, sha256: str, query: str) -> None:
        if self.local.get(sha256) == query:
            return  # registered already (a client resending the query it hashed)
        self.local.put(sha256, query)
        if self.shared is not None:
            await self.shared.put(sha256, query)

    async def aclose(self) -> None:
        if self.shared is not None:
            await self.shared.client.aclose()
