"""The automatic persisted queries' store: queries by SHA-256, in an in-process LRU in front
of Redis (`apq.router.cache.redis`), which every router replica shares.

Redis is a cache here, never a dependency (`SharedRedis`): when it does not answer within its
`timeout` the store goes on in memory alone."""

import asyncio

from router.cache.shared_redis import SharedRedis
from router.config.apq import Cache, RedisCache
from router.lru import LRU


class _Shared(SharedRedis):
    name = "APQ cache"
    meanwhile = "persisted queries are kept in this process only"

    def __init__(self, config: RedisCache) -> None:
        super().__init__(config.urls[0], config.timeout)
        self.ttl = config.ttl
        self.prefix = f"{config.namespace}:apq:"

    async def get(self, sha256: str) -> str | None:
        if not self.usable():
            return None
        try:
            async with asyncio.timeout(self.timeout):
                value = await self.client.get(self.prefix + sha256)
        except self.failures as error:
            self.failed(error)
            return None
        self.answered()
        return value.decode() if isinstance(value, bytes) else None

    async def put(self, sha256: str, query: str) -> None:
        if not self.usable():
            return
        ttl = max(1, round(self.ttl)) if self.ttl else None
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.set(self.prefix + sha256, query.encode(), ex=ttl)
        except self.failures as error:
            self.failed(error)
            return
        self.answered()


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
            await self.shared.aclose()
