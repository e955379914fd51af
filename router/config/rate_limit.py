"""`rate_limit:` (this router's own section): per client and per operation limits, and the
Redis that every router replica shares them through (it also backs `traffic_shaping`'s
`global_rate_limit`s, the whole router's and each subgraph's). Without `redis`, each router
process limits on its own, as Apollo Router's `global_rate_limit` does."""

from typing import Literal

from router.config.base import Duration, NonNegativeInt, PositiveInt, Section
from router.config.traffic import GlobalRateLimit


class RateLimitRedis(Section):
    url: str
    # the keys' prefix: routers sharing one limit share it
    namespace: str = "router:rate"
    # the longest a decision waits for Redis before Redis counts as down
    timeout: Duration = 0.2


class RateLimitSection(Section):
    # false: per_client and per_operation are not applied (they stay written)
    enabled: bool = True
    redis: RateLimitRedis | None = None
    # when Redis cannot be reached: `open` decides with an in-process limiter of the same
    # rates, `closed` refuses the request (503 RATE_LIMIT_UNAVAILABLE)
    when_redis_down: Literal["open", "closed"] = "open"
    # client identity: the verified token's subject, else the verified API key, else the
    # client address (the X-Forwarded-For entry ``trusted_proxies`` hops from the right;
    # 0: the address the router's socket sees)
    per_client: GlobalRateLimit | None = None
    # per (client, operation name); operations without a name share one
    per_operation: GlobalRateLimit | None = None
    trusted_proxies: NonNegativeInt = 0
    # the least Retry-After a refusal announces, in whole seconds
    retry_after_minimum: PositiveInt = 1
