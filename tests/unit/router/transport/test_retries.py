"""Retry backoff (full jitter), the retry budget on a clock the test moves, and which
failures are worth a retry (end to end: tests/integration/router/test_resilience_retries.py)."""

import pytest

from router.config.traffic import Retry
from router.transport.base import SubgraphRequestError, response_too_large
from router.transport.breakers import circuit_open
from router.transport.bulkheads import bulkhead_full
from router.transport.retries import RetryBudget, RetryPolicy, retryable


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_backoff_is_uniform_up_to_an_exponential_bound() -> None:
    retry = Retry(backoff=0.1, max_backoff=1.0)
    top = RetryPolicy(retry, Clock(), rng=lambda: 0.999999)
    assert [round(top.backoff(n), 3) for n in (1, 2, 3, 4, 5, 9)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert RetryPolicy(retry, Clock(), rng=lambda: 0.0).backoff(3) == 0.0
    assert RetryPolicy(retry, Clock(), rng=lambda: 0.5).backoff(2) == pytest.approx(0.1)


def test_the_budget_is_a_reserve_plus_a_share_of_recent_requests() -> None:
    clock = Clock()
    budget = RetryBudget(Retry(min_per_sec=1, ttl=2.0, retry_percent=0.5), clock)
    assert [budget.withdraw() for _ in range(3)] == [True, True, False]  # the reserve: 1 x 2s
    for _ in range(4):
        budget.deposit()
    assert [budget.withdraw() for _ in range(3)] == [True, True, False]  # half of 4 requests
    clock.now += 2.5  # all of it has left the window
    assert [budget.withdraw() for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(
    ("failure", "worth_a_retry"),
    [
        (SubgraphRequestError("s", "timed out", "SUBGRAPH_TIMEOUT"), True),
        (SubgraphRequestError("s", "could not be reached: ConnectionRefusedError"), True),
        (SubgraphRequestError("s", "answered HTTP 502 without JSON", status=502), True),
        (SubgraphRequestError("s", "answered HTTP 503 without JSON", status=503), True),
        (SubgraphRequestError("s", "answered HTTP 504 without JSON", status=504), True),
        (SubgraphRequestError("s", "answered HTTP 500 without JSON", status=500), False),
        (SubgraphRequestError("s", "answered HTTP 200 without data", status=200), False),
        (response_too_large("s", 10), False),
        (circuit_open("s"), False),
        (bulkhead_full("s", "full"), False),
    ],
)
def test_only_failures_where_the_subgraph_did_not_answer_are_retried(
    failure: SubgraphRequestError, worth_a_retry: bool
) -> None:
    assert retryable(failure) is worth_a_retry
