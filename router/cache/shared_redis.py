"""Redis as a cache that the router replicas share, never a dependency: when it fails or does
not answer within `timeout`, the owner goes on without it (logged once, when it happens),
leaves it alone for `RETRY_AFTER` seconds, then tries it again (logged once more when it
answers).

The redis package is imported when the first such cache is made, not with the router: a
router that uses no Redis does without its memory (about 8 MB, bench/README.md); so are the
invalidation listener's and the rate limiter's."""

import logging
import time

logger = logging.getLogger("router")

RETRY_AFTER = 5.0


class SharedRedis:
    # what the owner is, and what it does while Redis is away (for the log lines)
    name = "cache"
    meanwhile = "going on without it"

    def __init__(self, url: str, timeout: float) -> None:
        import redis.asyncio as redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.timeout = timeout
        # what `client`'s calls raise when Redis is away (`except self.failures`)
        self.failures: tuple[type[BaseException], ...] = (redis.RedisError, OSError, TimeoutError)
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.down_since: float | None = None

    def usable(self) -> bool:
        return self.down_since is None or time.monotonic() - self.down_since >= RETRY_AFTER

    def failed(self, error: BaseException) -> None:
        if self.down_since is None:
            logger.warning(
                "%s: Redis does not answer (%s); %s until it does",
                self.name,
                type(error).__name__,
                self.meanwhile,
            )
        self.down_since = time.monotonic()

    def answered(self) -> None:
        if self.down_since is not None:
            logger.info("%s: Redis answers again", self.name)
            self.down_since = None

    async def aclose(self) -> None:
        await self.client.aclose()
