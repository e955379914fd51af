"""GCRA in Redis (see `gcra`): one Lua script, so one round trip per decision, on Redis's
clock, so the routers' clocks do not matter. Each key expires once its limit is full again.

The script is sent by its SHA-1 (EVALSHA) and only in full (EVAL, which also caches it) when
Redis does not know it (NOSCRIPT: a restarted or flushed Redis). The keys of one decision
must live on one Redis node (no Redis Cluster slots across them).

The redis package is imported when the store is made (router.cache.shared_redis says why)."""

import asyncio
import hashlib
from collections.abc import Sequence

from router.config.rate_limit import RateLimitRedis
from router.ratelimit.gcra import Decision, Limit

# KEYS: the limits' keys; ARGV: per key, its emission interval and interval in microseconds.
# Answers {0, 0} when allowed, else {index of the first refusing key, microseconds to wait}.
GCRA_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local refused, wait = 0, 0
local arrivals = {}
for i, key in ipairs(KEYS) do
  local emission = tonumber(ARGV[2 * i - 1])
  local interval = tonumber(ARGV[2 * i])
  local arrival = tonumber(redis.call('GET', key)) or now
  if arrival < now then arrival = now end
  arrival = arrival + emission
  local allowed_at = arrival - interval
  if now < allowed_at then
    if refused == 0 then refused = i end
    if allowed_at - now > wait then wait = allowed_at - now end
  end
  arrivals[i] = arrival
end
if refused == 0 then
  for i, key in ipairs(KEYS) do
    local ttl = math.max(1, math.ceil((arrivals[i] - now) / 1000))
    redis.call('SET', key, string.format('%.0f', arrivals[i]), 'PX', ttl)
  end
end
return {refused, math.ceil(wait)}
"""
GCRA_SHA = hashlib.sha1(GCRA_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis names scripts so)
MICROSECONDS = 1_000_000


class RedisUnavailable(Exception):
    """Redis did not answer a decision in time (or at all); the message names why."""


class RedisStore:
    def __init__(self, config: RateLimitRedis) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError, NoScriptError, RedisError

        self._no_script = NoScriptError
        self._failures: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
        self.namespace = config.namespace
        self._timeout = config.timeout
        self._client = redis.Redis.from_url(
            config.url,
            socket_timeout=config.timeout,
            socket_connect_timeout=config.timeout,
            # once, and only when a connection was found broken (a restarted Redis closed
            # the pooled ones): a timeout is an answer (Redis is down or slow)
            retry=Retry(NoBackoff(), 1, supported_errors=(ConnectionError,)),
        )

    async def check(self, limits: Sequence[Limit]) -> Decision:
        keys = [limit.key for limit in limits]
        arguments: list[float] = []
        for limit in limits:
            arguments += (limit.rate.emission * MICROSECONDS, limit.rate.interval * MICROSECONDS)
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    answer = await self._client.evalsha(GCRA_SHA, len(keys), *keys, *arguments)
                except self._no_script:
                    answer = await self._client.eval(GCRA_SCRIPT, len(keys), *keys, *arguments)
        except self._failures as failure:
            raise RedisUnavailable(type(failure).__name__) from failure
        refused, wait = int(answer[0]), int(answer[1])
        if refused == 0:
            return Decision.allow()
        return Decision(False, wait / MICROSECONDS, limits[refused - 1].scope)

    async def aclose(self) -> None:
        await self._client.aclose()
