"""`traffic_shaping:`, in Apollo Router's shape: `router`, `all` (every subgraph) and
`subgraphs.<name>` (one subgraph, over `all`). `circuit_breaker` and `bulkhead` are this
router's own keys (Apollo Router has neither)."""

from typing import Literal

from pydantic import Field, field_validator

from router.config.base import Duration, PositiveInt, Ratio, Section


class GlobalRateLimit(Section):
    """At most ``capacity`` requests per ``interval`` (Apollo Router's shape; shared by the
    router replicas through Redis when `rate_limit.redis` is set). A burst of ``capacity``
    passes at once, then one request per ``interval / capacity``."""

    capacity: PositiveInt
    interval: Duration

    @field_validator("interval")
    @classmethod
    def _positive(cls, interval: float) -> float:
        if interval <= 0:
            raise ValueError("an interval is longer than zero, such as 1s or 500ms")
        return interval


class Retry(Section):
    """Apollo Router's `experimental_retry`: a retry budget, a share of recent requests."""

    min_per_sec: PositiveInt = 10
    ttl: Duration = 10.0
    retry_percent: Ratio = 0.2
    retry_mutations: Literal[False] = False
    attempts: PositiveInt = 2
    backoff: Duration = 0.05
    max_backoff: Duration = 1.0


class CircuitBreaker(Section):
    enabled: bool = True
    window: Duration = 10.0
    minimum_requests: PositiveInt = 10
    failure_rate: Ratio = 0.5
    consecutive_timeouts: PositiveInt = 5
    open_for: Duration = 5.0
    half_open_probes: PositiveInt = 1


class Bulkhead(Section):
    max_concurrent: PositiveInt = 256
    max_waiting: int = Field(default=512, ge=0)
    max_wait: Duration = 1.0


class SubgraphShaping(Section):
    timeout: Duration | None = None
    deduplicate_query: bool | None = None
    compression: Literal["gzip", "br", "deflate", "identity"] | None = None
    experimental_retry: Retry | None = None
    global_rate_limit: GlobalRateLimit | None = None
    circuit_breaker: CircuitBreaker | None = None
    bulkhead: Bulkhead | None = None


class RouterShaping(Section):
    timeout: Duration | None = None
    global_rate_limit: GlobalRateLimit | None = None


class TrafficShapingSection(Section):
    router: RouterShaping = RouterShaping()
    all: SubgraphShaping = SubgraphShaping()
    subgraphs: dict[str, SubgraphShaping] = {}
