"""`router cache purge`: drop entries of the entity cache in router.yaml's Redis and tell every
router replica (an invalidation message on the configured channel) to drop them too."""

import asyncio
from collections.abc import Mapping

import redis.asyncio as redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from router.cache.invalidation import drop_shared, message, parse_message
from router.config.entity_cache import EntityCacheSection


class PurgeError(ValueError):
    """The purge could not be done (said in one line)."""


async def purge(
    section: EntityCacheSection, typename: str | None, key: Mapping[str, str] | None
) -> tuple[int, int]:
    """Entries deleted from Redis and routers that received the message."""
    shared = section.subgraph.all.redis
    if shared is None:
        raise PurgeError(
            "preview_entity_cache.subgraph.all.redis is not configured: there is no shared "
            "cache to purge"
        )
    body = message(typename, key, "router cache purge")
    client = redis.Redis.from_url(
        shared.urls[0],
        socket_timeout=max(shared.timeout, 2.0),
        socket_connect_timeout=max(shared.timeout, 2.0),
        retry=Retry(NoBackoff(), 0),
    )
    try:
        async with asyncio.timeout(30):
            dropped = await drop_shared(client, shared.namespace, parse_message(body))
            told = int(await client.publish(section.invalidation.channel, body))
    except (redis.RedisError, OSError, TimeoutError) as error:
        raise PurgeError(
            f"Redis at {shared.urls[0]} did not answer ({type(error).__name__})"
        ) from error
    finally:
        await client.aclose()
    return dropped, told
