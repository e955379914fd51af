"""`experimental_retry`: a query whose request failed in a way worth trying again is sent
again after an exponential backoff with full jitter, within a retry budget per subgraph (as
Finagle's and Tower's: a share of the recent requests plus a small reserve), so that retries
cannot multiply an outage. Mutations and uploads are never retried."""

import random
import time
from collections.abc import Callable

from prometheus_client import Counter

from router.config.traffic import Retry
from router.metrics import REGISTRY
from router.transport.base import SubgraphRequestError
from router.transport.window import Clock, SlidingCounts

RETRIES = Counter(
    "router_subgraph_retries",
    "Subgraph requests sent again after a failure",
    ["subgraph"],
    registry=REGISTRY,
)
BUDGET_EXHAUSTED = Counter(
    "router_subgraph_retry_budget_exhausted",
    "Failures not retried because the subgraph's retry budget was spent",
    ["subgraph"],
    registry=REGISTRY,
)

# Gateway errors: the subgraph (or what is in front of it) did not process the request.
_RETRYABLE_STATUS = frozenset({502, 503, 504})


def retryable(failure: SubgraphRequestError) -> bool:
    """A timeout, a subgraph that could not be reached (refused, reset) or a gateway error."""
    if failure.code == "SUBGRAPH_TIMEOUT":
        return True
    return failure.code == "SUBREQUEST_HTTP_ERROR" and (
        failure.status is None or failure.status in _RETRYABLE_STATUS
    )


class RetryBudget:
    """At most ``min_per_sec`` * ``ttl`` retries plus ``retry_percent`` of the requests over
    the last ``ttl`` seconds."""

    def __init__(self, retry: Retry, clock: Clock = time.monotonic) -> None:
        self._counts = SlidingCounts(retry.ttl, clock)  # requests, retries
        self._reserve = retry.min_per_sec * retry.ttl
        self._share = retry.retry_percent

    def deposit(self) -> None:
        self._counts.add(first=1)

    def withdraw(self) -> bool:
        requests, retries = self._counts.totals()
        if retries + 1 > self._reserve + requests * self._share:
            return False
        self._counts.add(second=1)
        return True


class RetryPolicy:
    def __init__(
        self, retry: Retry, clock: Clock, rng: Callable[[], float] = random.random
    ) -> None:
        self.attempts = retry.attempts
        self.budget = RetryBudget(retry, clock)
        self._backoff = retry.backoff
        self._max_backoff = retry.max_backoff
        self._rng = rng

    def backoff(self, retry: int) -> float:
        """Seconds to wait before the `retry`-th retry (1, 2, …): full jitter, uniform up to
        the exponential bound."""
        bound = min(self._max_backoff, self._backoff * 2.0 ** (retry - 1))
        return self._rng() * bound
