"""`traffic_shaping:`, in Apollo Router's shape: `router`, `all` (every subgraph) and
`subgraphs.<name>` (one subgraph, over `all`). `circuit_breaker` and `bulkhead` are this
router's own keys (Apollo Router has neither); `experimental_retry` adds `attempts`,
`backoff` and `max_backoff` to Apollo Router's retry budget.

A key set under `subgraphs.<name>` wins over the same key under `all`, key by key, also
inside `experimental_retry`, `circuit_breaker` and `bulkhead` (`subgraph_shaping`); a section
written as `null` there turns that policy off for the subgraph."""

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
    """Apollo Router's `experimental_retry`: queries (never mutations, never uploads) that
    failed to reach the subgraph, timed out or got HTTP 502/503/504 are sent again after an
    exponential backoff with full jitter, as long as the retry budget allows: at most
    ``min_per_sec`` * ``ttl`` retries plus ``retry_percent`` of the requests of the last
    ``ttl``."""

    min_per_sec: PositiveInt = Field(
        default=10, description="retries always allowed per second, whatever the traffic"
    )
    ttl: Duration = Field(default=10.0, description="how long a request counts for the budget")
    retry_percent: Ratio = Field(
        default=0.2, description="retries allowed as a share of the requests of the last ttl"
    )
    retry_mutations: Literal[False] = Field(
        default=False, description="mutations are never retried (only false is accepted)"
    )
    attempts: PositiveInt = Field(
        default=2, description="attempts in all for one request, the first included"
    )
    backoff: Duration = Field(
        default=0.05, description="the backoff before the first retry, doubled at each next"
    )
    max_backoff: Duration = Field(default=1.0, description="the longest backoff")


class CircuitBreaker(Section):
    """Opens when at least ``failure_rate`` of the requests of the last ``window`` failed
    (once there were ``minimum_requests``) or after ``consecutive_timeouts`` timeouts in a
    row; while open, requests fail at once (`SUBGRAPH_CIRCUIT_OPEN`); after ``open_for``,
    ``half_open_probes`` requests go through: a success closes it, a failure opens it again."""

    enabled: bool = True
    window: Duration = Field(default=10.0, gt=0)
    minimum_requests: PositiveInt = 10
    failure_rate: Ratio = 0.5
    consecutive_timeouts: PositiveInt = 5
    open_for: Duration = 5.0
    half_open_probes: PositiveInt = 1


class Bulkhead(Section):
    """At most ``max_concurrent`` requests in flight to the subgraph; up to ``max_waiting``
    more wait, each at most ``max_wait``; beyond, a request fails at once
    (`SUBGRAPH_BULKHEAD_FULL`)."""

    max_concurrent: PositiveInt = 256
    max_waiting: int = Field(default=512, ge=0)
    max_wait: Duration = 1.0


class SubgraphShaping(Section):
    timeout: Duration | None = None
    deduplicate_query: bool = Field(
        default=True,
        description="identical queries in flight to the subgraph (same body, same forwarded "
        "headers) share one request",
    )
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


def subgraph_shaping(section: TrafficShapingSection, subgraph: str) -> SubgraphShaping:
    """What applies to one subgraph: `all`, with each key `subgraphs.<subgraph>` sets over it
    (a nested section key by key, or removed by `null`)."""
    own = section.subgraphs.get(subgraph)
    if own is None:
        return section.all
    update = {}
    for key in own.model_fields_set:
        value = getattr(own, key)
        inherited = getattr(section.all, key)
        if isinstance(value, Section) and isinstance(inherited, Section):
            value = inherited.model_copy(
                update={name: getattr(value, name) for name in value.model_fields_set}
            )
        update[key] = value
    return section.all.model_copy(update=update)


def shapings(section: TrafficShapingSection) -> list[SubgraphShaping]:
    """`all` and what applies to each subgraph named under `subgraphs`: whether any subgraph
    uses a policy."""
    return [section.all, *(subgraph_shaping(section, name) for name in section.subgraphs)]
