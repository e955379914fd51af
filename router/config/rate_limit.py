"""`rate_limit:` (this router's own section): per client and per operation limits, and the
Redis that every router replica shares them through (it also backs `traffic_shaping`'s
`global_rate_limit`s, the whole router's and each subgraph's)."""

from typing import Literal

from router.config.base import Duration, PositiveInt, Section
from router.config.traffic import GlobalRateLimit


class RateLimitRedis(Section):
    url: str
    namespace: str = "router:rate"
    timeout: Duration = 0.2


class RateLimitSection(Section):
    enabled: bool = False
    redis: RateLimitRedis | None = None
    # when Redis cannot be reached: `open` decides with an in-process limiter, `closed` refuses
    when_redis_down: Literal["open", "closed"] = "open"
    # client identity: the token's subject, else the API key, else the client address (the
    # X-Forwarded-For entry that the last ``trusted_proxies`` hops appended)
    per_client: GlobalRateLimit | None = None
    per_operation: GlobalRateLimit | None = None
    trusted_proxies: int = 0
    retry_after_minimum: PositiveInt = 1
