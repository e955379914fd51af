"""Retry delays: exponential, capped, jittered within bounds; giving up after max_attempts."""

from __future__ import annotations

import random

import pytest

from subgraphs.notifications.retry import RetryPolicy


def test_without_jitter_delays_double_then_cap() -> None:
    policy = RetryPolicy(base_seconds=1.0, factor=2.0, max_delay_seconds=10.0, jitter=0.0)
    assert [policy.delay(attempt) for attempt in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_delays_grow_until_the_cap() -> None:
    policy = RetryPolicy(jitter=0.0)
    delays = [policy.delay(attempt) for attempt in range(1, 20)]
    assert delays == sorted(delays)
    assert delays[0] == 1.0
    assert max(delays) == policy.max_delay_seconds


@pytest.mark.parametrize("attempt", [1, 2, 3, 8, 50])
def test_jitter_stays_within_its_fraction(attempt: int) -> None:
    policy = RetryPolicy(base_seconds=1.0, max_delay_seconds=60.0, jitter=0.2)
    rng = random.Random(attempt)
    nominal = min(60.0, 2.0 ** (attempt - 1))
    samples = [policy.delay(attempt, rng) for _ in range(2000)]
    assert all(nominal * 0.8 <= delay <= nominal * 1.2 for delay in samples)
    assert len(set(samples)) > 1000  # actually spread
    assert min(samples) < nominal * 0.85
    assert max(samples) > nominal * 1.15


def test_the_same_seed_gives_the_same_delays() -> None:
    policy = RetryPolicy()
    first = [policy.delay(n, random.Random(7)) for n in range(1, 6)]
    assert first == [policy.delay(n, random.Random(7)) for n in range(1, 6)]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert policy.delay(10_000) == policy.max_delay_seconds
    assert policy.delay(0) == policy.delay(1) == policy.base_seconds


def test_gives_up_once_attempts_reach_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


@pytest.mark.parametrize(
    "changes",
    [{"max_attempts": 0}, {"jitter": 1.5}, {"jitter": -0.1}, {"factor": 0.5}, {"base_seconds": -1}],
)
def test_nonsense_policies_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**changes)  # type: ignore[arg-type]
