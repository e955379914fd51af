"""The entity cache's store: an in-process LRU in front of Redis, which every replica shares.

Each entry carries tags (`tags.py`) naming the entities it holds; an invalidation drops the
entries with a tag, in this process (`drop`) and in Redis, where a set per tag lists the keys
that carry it. Redis is a cache here, never a dependency (`SharedRedis`): when it fails or
does not answer within its `timeout`, the store goes on with its local layer alone (a log
line and `router_entity_cache_redis_failures_total`)."""

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from router import jsonio
from router.cache.shared_redis import SharedRedis
from router.config.entity_cache import EntityCacheRedis
from router.lru import LRU
from router.metrics import REGISTRY

REDIS_FAILURES = Counter(
    "router_entity_cache_redis_failures",
    "Entity cache calls to Redis that failed or timed out (the router then served uncached)",
    registry=REGISTRY,
)


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes  # JSON
    expires_at: float  # time.time()
    tags: frozenset[str]

    def encoded(self) -> bytes:
        """As Redis keeps it: the expiry and the tags on a line each, then the value."""
        tags = jsonio.dumps(sorted(self.tags))
        return b"%r\n%s\n%s" % (self.expires_at, tags, self.value)

    @classmethod
    def decoded(cls, stored: bytes) -> "Entry | None":
        try:
            expires, tags, value = stored.split(b"\n", 2)
            return cls(value, float(expires), frozenset(jsonio.loads(tags)))
        except ValueError:
            return None

    def ttl(self, now: float) -> int:
        return max(1, round(self.expires_at - now))


def key_prefix(namespace: str) -> str:
    return f"{namespace}:cache:"


def tag_key(prefix: str, tag: str) -> str:
    return f"{prefix}tag:{tag}"


class SharedCache(SharedRedis):
    """Redis, with its failures absorbed."""

    name = "entity cache"
    meanwhile = "serving from the subgraphs and this process's cache"

    def __init__(self, config: EntityCacheRedis) -> None:
        super().__init__(config.urls[0], config.timeout)
        self.prefix = key_prefix(config.namespace)

    def failed(self, error: BaseException) -> None:
        REDIS_FAILURES.inc()
        super().failed(error)

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        if not self.usable():
            return [None] * len(keys)
        try:
            async with asyncio.timeout(self.timeout):
                values = await self.client.mget([self.prefix + k for k in keys])
        except self.failures as error:
            self.failed(error)
            return [None] * len(keys)
        self.answered()
        return [Entry.decoded(v) if isinstance(v, bytes) else None for v in values]

    async def put_many(self, entries: Iterable[tuple[str, Entry]]) -> None:
        if not self.usable():
            return
        pipe = self.client.pipeline(transaction=False)
        now = time.time()
        for key, entry in entries:
            full = self.prefix + key
            ttl = entry.ttl(now)
            pipe.set(full, entry.encoded(), ex=ttl)
            for tag in entry.tags:
                index = tag_key(self.prefix, tag)
                pipe.sadd(index, full)
                pipe.expire(index, ttl, nx=True)
                pipe.expire(index, ttl, gt=True)
        try:
            async with asyncio.timeout(self.timeout):
                await pipe.execute()
        except self.failures as error:
            self.failed(error)
            return
        self.answered()


class EntityStore:
    def __init__(self, limit: int, shared: SharedCache | None) -> None:
        self.local: LRU[str, Entry] = LRU(limit)
        self.shared = shared

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        now = time.time()
        found: list[Entry | None] = []
        missing: list[int] = []
        for index, key in enumerate(keys):
            entry = self.local.get(key)
            if entry is not None and entry.expires_at > now:
                found.append(entry)
            else:
                found.append(None)
                missing.append(index)
        if missing and self.shared is not None:
            shared = await self.shared.get_many([keys[i] for i in missing])
            for index, entry in zip(missing, shared, strict=True):
                if entry is not None and entry.expires_at > now:
                    found[index] = entry
                    self.local.put(keys[index], entry)
        return found

    async def put_many(self, entries: Sequence[tuple[str, Entry]]) -> None:
        for key, entry in entries:
            self.local.put(key, entry)
        if self.shared is not None:
            await self.shared.put_many(entries)

    def drop(self, tags: Iterable[frozenset[str]] | None) -> int:
        """Drop the local entries that carry every tag of one of `tags` (None: all)."""
        if tags is None:
            dropped = len(self.local)
            self.local.clear()
            return dropped
        wanted = list(tags)
        dropped = 0
        for key, entry in self.local.items():
            if any(needed <= entry.tags for needed in wanted):
                self.local.discard(key)
                dropped += 1
        return dropped

    async def aclose(self) -> None:
        if self.shared is not None:
            await self.shared.aclose()
