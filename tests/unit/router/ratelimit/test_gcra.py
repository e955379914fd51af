"""The in-process GCRA limiter on a clock the tests move (the Redis script's arithmetic is
the same; tests/integration/router/test_rate_limits*.py run it)."""

from router.ratelimit.gcra import Decision, Limit, LocalLimiter, Rate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_capacity_passes_then_one_request_per_emission_interval() -> None:
    clock = Clock()
    limiter = LocalLimiter(clock)
    three_a_minute = [Limit("client", "a", Rate(3, 60.0))]
    assert [limiter.check(three_a_minute).allowed for _ in range(3)] == [True] * 3
    refused = limiter.check(three_a_minute)
    assert refused == Decision(False, 20.0, "client")
    clock.now += 19.5
    assert limiter.check(three_a_minute) == Decision(False, 0.5, "client")
    clock.now += 0.5
    assert limiter.check(three_a_minute).allowed
    assert not limiter.check(three_a_minute).allowed


def test_an_idle_key_fills_up_to_its_capacity_and_no_further() -> None:
    clock = Clock()
    limiter = LocalLimiter(clock)
    two_a_second = [Limit("client", "a", Rate(2, 1.0))]
    assert limiter.check(two_a_second).allowed
    clock.now += 3600
    assert [limiter.check(two_a_second).allowed for _ in range(3)] == [True, True, False]


def test_keys_are_counted_apart() -> None:
    limiter = LocalLimiter(Clock())
    assert limiter.check([Limit("client", "a", Rate(1, 60.0))]).allowed
    assert not limiter.check([Limit("client", "a", Rate(1, 60.0))]).allowed
    assert limiter.check([Limit("client", "b", Rate(1, 60.0))]).allowed


def test_a_refused_request_takes_nothing_from_the_limits_that_allowed_it() -> None:
    limiter = LocalLimiter(Clock())
    router = Limit("router", "router", Rate(2, 60.0))
    first, second = Limit("client", "a", Rate(1, 60.0)), Limit("client", "b", Rate(1, 60.0))
    assert limiter.check([router, first]).allowed
    for _ in range(5):  # refused by the client's limit: the router's keeps its second request
        assert limiter.check([router, first]) == Decision(False, 60.0, "client")
    assert limiter.check([router, second]).allowed
    assert limiter.check([router, second]).scope == "router"


def test_the_refusal_waits_for_every_limit_and_names_the_first_that_refused() -> None:
    limiter = LocalLimiter(Clock())
    short, long = Limit("operation", "s", Rate(1, 1.0)), Limit("client", "l", Rate(1, 30.0))
    assert limiter.check([short, long]).allowed
    assert limiter.check([short, long]) == Decision(False, 30.0, "operation")


def test_forgotten_keys_start_full_and_memory_stays_bounded() -> None:
    limiter = LocalLimiter(Clock(), capacity=2)
    rate = Rate(1, 60.0)
    for key in ("a", "b", "c"):
        assert limiter.check([Limit("client", key, rate)]).allowed
    assert limiter.check([Limit("client", "a", rate)]).allowed  # the least recent, forgotten
    assert not limiter.check([Limit("client", "c", rate)]).allowed


def test_a_limits_last_permit_is_not_lost_to_float_rounding() -> None:
    """At this clock reading `now + 3600 - 3600` comes out a hair past `now`: a limit of one
    request an hour still lets its one request through (the router's flaky refusal)."""
    now = 4190908.4605532414
    assert (now + 3600.0) - 3600.0 > now
    limiter = LocalLimiter(lambda: now)
    hourly = Limit("operation", "k", Rate(1, 3600.0))
    assert limiter.check([hourly]).allowed
    assert not limiter.check([hourly]).allowed
