"""A `Transport` layer measuring every subgraph request (a fetch, but for those that share a
request already in flight: deduplication is above it): its duration
(`router_subgraph_fetch_duration_seconds{subgraph}`) and, when it fails, why
(`router_subgraph_fetch_errors_total{subgraph, reason}`): the policies beneath it (rate
limits, bulkheads, breakers, retries) and the HTTP client name the reason by their error's
code; an answer holding GraphQL errors counts as `graphql_error`."""

import time
from typing import Any

from prometheus_client import Counter

from router.metrics import REGISTRY, LoopHistogram
from router.transport.base import SubgraphRequestError, Transport
from router.transport.layer import Answer, AroundLayer

FETCH_DURATION = LoopHistogram(
    "router_subgraph_fetch_duration_seconds",
    "Time a subgraph request took, its policies included (fetches sharing one count once)",
    "subgraph",
)
FETCH_ERRORS = Counter(
    "router_subgraph_fetch_errors_total",
    "Subgraph requests that failed, or answered GraphQL errors, by reason",
    ["subgraph", "reason"],
    registry=REGISTRY,
)

_REASONS = {
    "SUBGRAPH_TIMEOUT": "timeout",
    "SUBGRAPH_CIRCUIT_OPEN": "circuit_open",
    "SUBGRAPH_RATE_LIMITED": "rate_limited",
    "RATE_LIMIT_UNAVAILABLE": "rate_limited",
    "SUBGRAPH_BULKHEAD_FULL": "bulkhead_full",
    "SUBGRAPH_RESPONSE_TOO_LARGE": "too_large",
}


def reason(failure: SubgraphRequestError) -> str:
    """The `reason` label of a failed fetch."""
    if failure.code == "SUBREQUEST_HTTP_ERROR":
        return "connect" if failure.status is None else "http_status"
    return _REASONS.get(failure.code, "other")


class FetchMetrics(AroundLayer):
    def __init__(self, inner: Transport) -> None:
        super().__init__(inner)
        # labelled once, on first use: no label lookup (a lock and a validation) per failure
        self._errors: dict[tuple[str, str], Counter] = {}  # per subgraph and reason

    async def around(self, service: str, call: Answer) -> dict[str, Any]:
        started = time.perf_counter()  # (the call beneath has done nothing yet)
        try:
            answer = await call
        except SubgraphRequestError as failure:
            self._failed(service, reason(failure))
            raise
        finally:
            FETCH_DURATION.observe(service, time.perf_counter() - started)
        if answer.get("errors"):
            self._failed(service, "graphql_error")
        return answer

    def _failed(self, service: str, why: str) -> None:
        errors = self._errors.get((service, why))
        if errors is None:
            errors = self._errors[service, why] = FETCH_ERRORS.labels(service, why)
        errors.inc()
