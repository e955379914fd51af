"""`lms worker <service>`: a subgraph's outbox relay and event consumers, in one process."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from common.cache_invalidation import invalidating
from common.cancellation import stop_if_cancelled
from common.db.engine import dsn, role_name
from common.events.consumer import ConsumerRunner
from common.events.gauges import refresh_event_gauges
from common.events.relay import OutboxRelay
from common.graphql.app import ServiceRuntime, ServiceSpec, service_runtime
from common.settings import Settings
from common.telemetry.metrics import metrics_served

log = logging.getLogger(__name__)


def listen_dsn(settings: Settings, service: str) -> str:
    return dsn(settings, role_name(service), settings.pg_password(service), driver="postgresql")


def build_worker(
    spec: ServiceSpec[Any, Any], runtime: ServiceRuntime, service: Any
) -> tuple[OutboxRelay | None, ConsumerRunner | None]:
    """The relay (if the service has an outbox) and the consumer (if it handles events, or
    produces events that make cached answers stale), over the service layer `service` the
    spec built."""
    if spec.events is None:
        return None, None
    settings = runtime.settings
    relay = OutboxRelay(
        spec.name,
        runtime.sessions,
        spec.events.outbox,
        settings.amqp_url,
        listen_dsn(settings, spec.name),
    )
    handlers = invalidating(
        spec.name, spec.handlers(service) if spec.handlers else {}, runtime.redis
    )
    consumer = (
        ConsumerRunner(
            spec.name,
            runtime.sessions,
            spec.events.inbox,
            handlers,
            settings.amqp_url,
            retry_delays_ms=settings.event_retry_delays_ms,
        )
        if handlers
        else None
    )
    return relay, consumer


async def supervised(name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Run `loop` until cancelled, restarting it (after a pause) whenever it fails."""
    while True:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            stop_if_cancelled()
            log.exception("worker loop failed; restarting", extra={"loop": name})
        await asyncio.sleep(1.0)


CLOSE_GRACE_SECONDS = 0.1


def measured(
    spec: ServiceSpec[Any, Any], runtime: ServiceRuntime, consumes: bool
) -> Callable[[], Awaitable[None]] | None:
    """The loop measuring the service's outbox and queues for the worker's /metrics (none
    without events, or without a metrics port)."""
    settings = runtime.settings
    if spec.events is None or not settings.worker_metrics_port:
        return None
    return functools.partial(
        refresh_event_gauges,
        spec.name,
        runtime.sessions,
        spec.events.outbox,
        settings.amqp_url if consumes else None,
        settings.worker_metrics_interval_ms / 1000,
    )


async def run_worker(spec: ServiceSpec[Any, Any], settings: Settings) -> None:
    """Relay and consume until cancelled (and serve /metrics, with a metrics port)."""
    async with service_runtime(
        spec, settings, role=f"{spec.name}-worker", follow_revocations=False
    ) as runtime:
        service = spec.service(runtime)
        relay, consumer = build_worker(spec, runtime, service)
        parts: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (f"{spec.name}:{type(part).__name__}", part.run)
            for part in (relay, consumer)
            if part is not None
        ]
        if spec.worker_jobs is not None:
            parts += [(f"{spec.name}:{job.__name__}", job) for job in spec.worker_jobs(service)]
        gauges = measured(spec, runtime, consumes=consumer is not None)
        if gauges is not None:
            parts.append((f"{spec.name}:gauges", gauges))
        loops = [asyncio.create_task(supervised(name, loop)) for name, loop in parts]
        try:
            async with metrics_served(settings):
                await asyncio.gather(*loops)
        finally:  # stopping: let each loop close its connections before the pools go
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            # aio-pika runs its close callbacks as tasks of their own: let them finish
            # before the event loop is closed under them
            await asyncio.sleep(CLOSE_GRACE_SECONDS)
