"""A circuit's states on a clock the test moves (the end-to-end behaviour is in
tests/integration/router/test_resilience_breakers.py)."""

from router.config.traffic import CircuitBreaker
from router.transport.breakers import Admission, Circuit

SETTINGS = CircuitBreaker(
    window=10, minimum_requests=4, failure_rate=0.5, consecutive_timeouts=3, open_for=5
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _circuit(settings: CircuitBreaker = SETTINGS) -> tuple[Circuit, Clock]:
    clock = Clock()
    return Circuit("unit-breaker", settings, clock), clock


def _state(circuit: Circuit) -> str:
    """Read afresh each time (the state changes under mypy's narrowing)."""
    return circuit.state


def _outcomes(circuit: Circuit, failures: int, successes: int = 0) -> None:
    for _ in range(successes):
        circuit.succeeded(circuit.admit())
    for _ in range(failures):
        circuit.failed(circuit.admit(), timeout=False)


def test_opens_at_the_failure_rate_once_there_were_enough_requests() -> None:
    circuit, _ = _circuit()
    _outcomes(circuit, failures=1, successes=2)
    assert _state(circuit) == "closed"  # 1 of 3: under both the rate and the minimum
    _outcomes(circuit, failures=1)
    assert _state(circuit) == "open"  # 2 of 4
    assert circuit.admit() is Admission.REFUSED


def test_failures_leave_the_window() -> None:
    circuit, clock = _circuit()
    _outcomes(circuit, failures=3)
    clock.now += 11
    _outcomes(circuit, failures=1)
    assert _state(circuit) == "closed"


def test_successes_keep_the_rate_down() -> None:
    circuit, _ = _circuit()
    _outcomes(circuit, failures=3, successes=4)
    assert _state(circuit) == "closed"


def test_timeouts_in_a_row_open_it_whatever_the_rate() -> None:
    circuit, _ = _circuit(SETTINGS.model_copy(update={"minimum_requests": 100}))
    for _ in range(2):
        circuit.failed(circuit.admit(), timeout=True)
    circuit.succeeded(circuit.admit())  # the row is broken
    for _ in range(2):
        circuit.failed(circuit.admit(), timeout=True)
    assert _state(circuit) == "closed"
    circuit.failed(circuit.admit(), timeout=True)
    assert _state(circuit) == "open"


def test_half_open_lets_probes_through_and_a_success_closes_it() -> None:
    circuit, clock = _circuit()
    _outcomes(circuit, failures=4)
    clock.now += 4.9
    assert circuit.admit() is Admission.REFUSED
    clock.now += 0.2
    probe = circuit.admit()
    assert (probe, _state(circuit)) == (Admission.PROBE, "half_open")
    assert circuit.admit() is Admission.REFUSED  # one probe at a time
    circuit.succeeded(probe)
    assert _state(circuit) == "closed"
    assert circuit.admit() is Admission.REQUEST


def test_a_failed_probe_opens_it_again_for_open_for() -> None:
    circuit, clock = _circuit()
    _outcomes(circuit, failures=4)
    clock.now += 5
    circuit.failed(circuit.admit(), timeout=False)
    assert _state(circuit) == "open"
    clock.now += 4.9
    assert circuit.admit() is Admission.REFUSED
    clock.now += 0.1
    assert circuit.admit() is Admission.PROBE


def test_a_cancelled_probe_frees_its_place() -> None:
    circuit, clock = _circuit()
    _outcomes(circuit, failures=4)
    clock.now += 5
    circuit.abandoned(circuit.admit())
    assert _state(circuit) == "half_open"
    assert circuit.admit() is Admission.PROBE


def test_requests_sent_before_it_opened_do_not_count_after() -> None:
    circuit, clock = _circuit()
    late = [circuit.admit() for _ in range(3)]
    _outcomes(circuit, failures=4)
    for admission in late:
        circuit.failed(admission, timeout=False)
    clock.now += 5
    circuit.succeeded(circuit.admit())
    assert _state(circuit) == "closed"
