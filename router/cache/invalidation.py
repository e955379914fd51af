"""Invalidation messages on Redis pub/sub (`preview_entity_cache.invalidation.channel`,
`lms:cache:invalidate` by default), as the subgraphs publish them:

    {"typename": "Course", "keys": [{"id": "<uuid>"}], "reason": "course.updated", "at": 1.0}

(`keys` absent or null: every entity of the type; `{"all": true, ...}`: everything). Each
router replica drops the entries that hold a named entity (entities and the root-field
answers that contained one) from its own layer and from Redis (each replica does it; a
second delete finds nothing). `router cache purge` sends the same messages."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import Histogram

from router import jsonio
from router.cache.store import EntityStore, key_prefix, tag_key
from router.cache.tags import message_tags, unkeyed_tag
from router.metrics import REGISTRY

if TYPE_CHECKING:  # imported by the listener when made (router.cache.shared_redis says why)
    import redis.asyncio as redis

logger = logging.getLogger("router")

RECONNECT_AFTER = 1.0

DELAY = Histogram(
    "router_entity_cache_invalidation_delay_seconds",
    "From an invalidation message's `at` to its entries dropped at this router",
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


class BadMessage(ValueError):
    """Not an invalidation message."""


@dataclass(frozen=True)
class Invalidation:
    """What to drop: entries carrying every tag of one of `tags`; None: everything."""

    tags: tuple[frozenset[str], ...] | None
    at: float | None = None


def parse_message(raw: bytes | str) -> Invalidation:
    try:
        message = jsonio.loads(raw)
    except ValueError as error:
        raise BadMessage("not JSON") from error
    if not isinstance(message, dict):
        raise BadMessage("not a JSON object")
    at = message.get("at")
    at = float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None
    if message.get("all") is True:
        return Invalidation(None, at)
    typename = message.get("typename")
    if not isinstance(typename, str) or not typename:
        raise BadMessage("no `typename` (nor `all: true`)")
    keys = message.get("keys")
    if keys is None:
        return Invalidation((message_tags(typename, None),), at)
    if not isinstance(keys, list) or not all(isinstance(k, dict) and k for k in keys):
        raise BadMessage("`keys` is not a list of key objects")
    # with the entries that hold an entity of that type without its key (which one it is
    # cannot be told)
    named = tuple(message_tags(typename, key) for key in keys)
    return Invalidation((*named, frozenset((unkeyed_tag(typename),))), at)


def message(typename: str | None, key: Mapping[str, Any] | None, reason: str) -> bytes:
    """An invalidation message (`typename` None: everything)."""
    body: dict[str, Any] = {"reason": reason, "at": time.time()}
    if typename is None:
        body["all"] = True
    else:
        body["typename"] = typename
        body["keys"] = None if key is None else [dict(key)]
    return jsonio.dumps(body)


async def drop_shared(client: "redis.Redis", namespace: str, invalidation: Invalidation) -> int:
    """Delete from Redis the entries `invalidation` names; how many."""
    prefix = key_prefix(namespace)
    if invalidation.tags is None:
        dropped = 0
        batch: list[bytes] = []
        async for key in client.scan_iter(match=prefix + "*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                dropped += await client.delete(*batch)
                batch = []
        if batch:
            dropped += await client.delete(*batch)
        return dropped
    dropped = 0
    for tags in invalidation.tags:
        indexes = [tag_key(prefix, tag) for tag in sorted(tags)]
        keys = await client.sinter(indexes)
        if keys:
            dropped += await client.delete(*keys)
            pipe = client.pipeline(transaction=False)
            for index in indexes:
                pipe.srem(index, *keys)
            await pipe.execute()
    return dropped


class Listener:
    """Subscribes to the channel and applies each message to `store` (both layers)."""

    def __init__(self, store: EntityStore, url: str, namespace: str, channel: str) -> None:
        import redis.asyncio as redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.store = store
        self.namespace = namespace
        self.channel = channel
        self.client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
        self.failures: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.subscribed = asyncio.Event()  # (tests wait on it)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def apply(self, invalidation: Invalidation) -> None:
        self.store.drop(invalidation.tags)
        try:
            await drop_shared(self.client, self.namespace, invalidation)
        except self.failures as error:
            logger.warning("entity cache: could not invalidate in Redis (%s)", type(error).__name__)
        # again: a request may have brought an entry back from Redis before it was deleted there
        self.store.drop(invalidation.tags)
        if invalidation.at is not None:
            DELAY.observe(max(0.0, time.time() - invalidation.at))

    async def _listen(self) -> None:
        failed = False
        while True:
            try:
                async with self.client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.subscribed.set()
                    if failed:  # what was missed meanwhile is unknown: start afresh
                        self.store.drop(None)
                        logger.info("entity cache: listening to invalidations again")
                        failed = False
                    async for received in pubsub.listen():
                        if received.get("type") == "message":
                            await self._received(received.get("data"))
            except self.failures as error:
                self.subscribed.clear()
                if not failed:
                    logger.warning(
                        "entity cache: invalidation channel lost (%s); entries expire by their "
                        "TTL until it is back",
                        type(error).__name__,
                    )
                    failed = True
                await asyncio.sleep(RECONNECT_AFTER)

    async def _received(self, data: Any) -> None:
        try:
            invalidation = parse_message(data)
        except BadMessage as bad:
            logger.warning("entity cache: invalidation message ignored: %s", bad)
            return
        await self.apply(invalidation)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.aclose()
