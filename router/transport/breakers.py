"""`circuit_breaker`: per subgraph, a circuit that opens when too many recent requests failed
(a failure rate over a sliding window, or timeouts in a row), refuses requests at once while
open (`SUBGRAPH_CIRCUIT_OPEN`, an error on that fetch's paths), lets a few probes through
after `open_for` (half-open) and closes on a probe's success.

A circuit is one of the guards `guards.Guards` runs around each call; `/health` reads the
states through `guards.circuit_states`."""

import enum
from typing import Literal

from prometheus_client import Counter, Gauge

from router.config.traffic import CircuitBreaker
from router.metrics import REGISTRY
from router.transport.base import SubgraphRequestError
from router.transport.window import Clock, SlidingCounts

State = Literal["closed", "open", "half_open"]
_GAUGE: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}

CIRCUIT_STATE = Gauge(
    "router_circuit_state",
    "A subgraph's circuit breaker: 0 closed, 1 half-open, 2 open",
    ["subgraph"],
    registry=REGISTRY,
)
TRANSITIONS = Counter(
    "router_circuit_transitions",
    "Circuit breaker state changes, by the state entered",
    ["subgraph", "state"],
    registry=REGISTRY,
)
REFUSED = Counter(
    "router_circuit_refused",
    "Subgraph requests refused at once because the circuit was open",
    ["subgraph"],
    registry=REGISTRY,
)

# An answer too large to take still came from a working subgraph.
NOT_FAILURES = frozenset({"SUBGRAPH_RESPONSE_TOO_LARGE"})


class Admission(enum.Enum):
    REFUSED = enum.auto()
    REQUEST = enum.auto()
    PROBE = enum.auto()


class Circuit:
    def __init__(self, service: str, settings: CircuitBreaker, clock: Clock) -> None:
        self.service = service
        self.state: State = "closed"
        self._settings = settings
        self._clock = clock
        self._counts = SlidingCounts(settings.window, clock)  # requests, failures
        self._timeouts_in_a_row = 0
        self._opened_at = 0.0
        self._probes = 0  # in flight
        CIRCUIT_STATE.labels(service).set(_GAUGE["closed"])

    def admit(self) -> Admission:
        if self.state == "open":
            if self._clock() - self._opened_at < self._settings.open_for:
                return Admission.REFUSED
            self._move("half_open")
        if self.state == "half_open":
            if self._probes >= self._settings.half_open_probes:
                return Admission.REFUSED
            self._probes += 1
            return Admission.PROBE
        return Admission.REQUEST

    def succeeded(self, admission: Admission) -> None:
        if admission is Admission.PROBE:
            self._probes -= 1
            if self.state == "half_open":
                self._move("closed")
        elif self.state == "closed":
            self._counts.add(first=1)
            self._timeouts_in_a_row = 0

    def failed(self, admission: Admission, timeout: bool) -> None:
        if admission is Admission.PROBE:
            self._probes -= 1
            if self.state == "half_open":
                self._move("open")
            return
        if self.state != "closed":  # sent before the circuit opened
            return
        self._counts.add(first=1, second=1)
        self._timeouts_in_a_row = self._timeouts_in_a_row + 1 if timeout else 0
        requests, failures = self._counts.totals()
        settings = self._settings
        if self._timeouts_in_a_row >= settings.consecutive_timeouts or (
            requests >= settings.minimum_requests and failures >= settings.failure_rate * requests
        ):
            self._move("open")

    def abandoned(self, admission: Admission) -> None:
        """The request was cancelled: it says nothing of the subgraph."""
        if admission is Admission.PROBE:
            self._probes -= 1

    def _move(self, state: State) -> None:
        self.state = state
        if state == "open":
            self._opened_at = self._clock()
        self._counts.clear()
        self._timeouts_in_a_row = 0
        CIRCUIT_STATE.labels(self.service).set(_GAUGE[state])
        TRANSITIONS.labels(self.service, state).inc()


def circuit_open(service: str) -> SubgraphRequestError:
    return SubgraphRequestError(
        service,
        f"subgraph {service!r} is not called for now: it failed repeatedly (circuit open)",
        "SUBGRAPH_CIRCUIT_OPEN",
    )
