"""The rate limits' metrics."""

from prometheus_client import Counter

from router.metrics import REGISTRY

RATE_LIMITED = Counter(
    "router_rate_limited",
    "Requests (scope router, client, operation) and subgraph calls (scope subgraph) refused "
    "by a rate limit",
    ["scope"],
    registry=REGISTRY,
)
REDIS_DOWN_DECISIONS = Counter(
    "router_rate_limit_redis_down_decisions",
    "Rate limit decisions taken while Redis was down: `local` (when_redis_down: open, by the "
    "in-process limiter) or `refused` (when_redis_down: closed)",
    ["decision"],
    registry=REGISTRY,
)
