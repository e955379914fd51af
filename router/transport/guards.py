"""The guards of `traffic_shaping` around every subgraph call, in one layer (one coroutine
per call, whichever are on): from the outside in, the subgraph's rate limit (`ratelimit`),
its bulkhead (`bulkheads`), its circuit breaker (`breakers`) and retries (`retries`).

So fetches that share one request (deduplication, above) count once against the limit, a
call waits for a bulkhead slot before the breaker is asked, and the breaker sees a retried
call once, with its last outcome (retries happen beneath it, within its decision). Each
policy's rules and state live in its own module; this one only runs them in order."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from router.config.traffic import SubgraphShaping, TrafficShapingSection, shapings
from router.ratelimit import RateLimitUnavailable, SubgraphLimits
from router.transport.base import SubgraphRequestError, Transport
from router.transport.breakers import NOT_FAILURES, REFUSED, Admission, Circuit, State, circuit_open
from router.transport.bulkheads import Compartment
from router.transport.layer import Call, PolicyLayer
from router.transport.retries import BUDGET_EXHAUSTED, RETRIES, RetryPolicy, retryable
from router.transport.window import Clock


@dataclass(frozen=True, slots=True)
class Guard:
    """One subgraph's guards (None: that one is off for it)."""

    limited: bool  # a rate limit counts its calls
    compartment: Compartment | None
    circuit: Circuit | None
    retry: RetryPolicy | None


def guards_configured(section: TrafficShapingSection, limits: SubgraphLimits | None) -> bool:
    used = shapings(section)
    return limits is not None or any(
        s.bulkhead or s.experimental_retry or (s.circuit_breaker and s.circuit_breaker.enabled)
        for s in used
    )


class Guards(PolicyLayer[Guard]):
    def __init__(
        self,
        inner: Transport,
        section: TrafficShapingSection,
        limits: SubgraphLimits | None,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        def make(service: str, shaping: SubgraphShaping) -> Guard | None:
            breaker, retry = shaping.circuit_breaker, shaping.experimental_retry
            guard = Guard(
                limited=limits is not None and limits.applies(service),
                compartment=Compartment(service, shaping.bulkhead) if shaping.bulkhead else None,
                circuit=Circuit(service, breaker, clock) if breaker and breaker.enabled else None,
                retry=RetryPolicy(retry, clock, rng) if retry else None,
            )
            return None if guard == Guard(False, None, None, None) else guard

        super().__init__(inner, section, make)
        self._limits = limits

    def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> Awaitable[dict[str, Any]]:
        guard = self.policy(service)
        if guard is None:
            return self.inner.send(service, payload, headers, idempotent=idempotent)
        call = lambda: self.inner.send(service, payload, headers, idempotent=idempotent)  # noqa: E731
        return self._guarded(service, guard, call, idempotent)

    def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Awaitable[dict[str, Any]]:
        guard = self.policy(service)
        if guard is None:
            return self.inner.send_multipart(service, payload, headers)
        call = lambda: self.inner.send_multipart(service, payload, headers)  # noqa: E731
        return self._guarded(service, guard, call, idempotent=False)

    async def _guarded(
        self, service: str, guard: Guard, call: Call, idempotent: bool
    ) -> dict[str, Any]:
        if guard.limited and self._limits is not None and not self._limits.spend_leased(service):
            await self._within_limit(service, self._limits)
        compartment = guard.compartment
        if compartment is not None:
            await compartment.enter()
        try:
            circuit = guard.circuit
            if circuit is None:
                return await _attempts(service, guard.retry, call, idempotent)
            admission = circuit.admit()
            if admission is Admission.REFUSED:
                REFUSED.labels(service).inc()
                raise circuit_open(service)
            try:
                response = await _attempts(service, guard.retry, call, idempotent)
            except SubgraphRequestError as failure:
                if failure.code in NOT_FAILURES:
                    circuit.succeeded(admission)
                else:
                    circuit.failed(admission, timeout=failure.code == "SUBGRAPH_TIMEOUT")
                raise
            except BaseException:
                circuit.abandoned(admission)
                raise
            circuit.succeeded(admission)
            return response
        finally:
            if compartment is not None:
                compartment.leave()

    @staticmethod
    async def _within_limit(service: str, limits: SubgraphLimits) -> None:
        """Raises the fetch's error when the subgraph is over its limit (or it cannot be
        checked and `when_redis_down` is `closed`)."""
        try:
            decision = await limits.check(service)
        except RateLimitUnavailable:
            message = f"the rate limit of subgraph {service!r} cannot be checked right now"
            raise SubgraphRequestError(service, message, "RATE_LIMIT_UNAVAILABLE") from None
        if not decision.allowed:
            message = f"subgraph {service!r} is over its rate limit"
            raise SubgraphRequestError(service, message, "SUBGRAPH_RATE_LIMITED")

    def states(self, services: Iterable[str]) -> dict[str, State | Literal["disabled"]]:
        """Each subgraph's circuit ("disabled" where no breaker watches it)."""
        states: dict[str, State | Literal["disabled"]] = {}
        for service in services:
            guard = self.policy(service)
            circuit = guard.circuit if guard is not None else None
            states[service] = "disabled" if circuit is None else circuit.state
        return states

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            if self._limits is not None:
                await self._limits.aclose()


async def _attempts(
    service: str, retry: RetryPolicy | None, call: Call, idempotent: bool
) -> dict[str, Any]:
    """The call, sent again after a failure worth retrying (a query only) while the retry
    policy and its budget allow, after its backoff."""
    if retry is None:
        return await call()
    retry.budget.deposit()
    attempt = 0
    while True:
        try:
            return await call()
        except SubgraphRequestError as failure:
            attempt += 1
            if not idempotent or attempt >= retry.attempts or not retryable(failure):
                raise
            if not retry.budget.withdraw():
                BUDGET_EXHAUSTED.labels(service).inc()
                raise
        RETRIES.labels(service).inc()
        await asyncio.sleep(retry.backoff(attempt))


def circuit_states(
    transport: Transport, services: Iterable[str]
) -> dict[str, State | Literal["disabled"]]:
    """Each subgraph's circuit, found down the policy stack (each layer keeps the transport it
    wraps as `inner`); "disabled" where no breaker watches it."""
    layer: object = transport
    while layer is not None:
        if isinstance(layer, Guards):
            return layer.states(services)
        layer = getattr(layer, "inner", None)
    return dict.fromkeys(services, "disabled")
