"""Prometheus metrics of the platform's processes (subgraphs and workers, each metric with
its `service`): HTTP requests per route, GraphQL operations, SQL statements, the database
pool, the events' outbox, queues and dead letters, notification deliveries and business
events; and the /metrics endpoint. One helper per kind of observation, used where the thing
happens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    Metric,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.settings import Settings

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "lms_http_requests_total", "HTTP requests served", ["service", "method", "path", "status"]
)
LATENCY = Histogram(
    "lms_http_request_duration_seconds", "HTTP request latency", ["service", "method", "path"]
)
SQL_STATEMENTS = Counter(
    "lms_db_statements_total", "SQL statements sent to PostgreSQL", ["service"]
)
KNOWN_PATHS = frozenset({"/graphql", "/health", "/ready", "/metrics", "/.well-known/jwks.json"})


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        method = scope["method"]
        status = 500
        started = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, record_status)
        finally:
            LATENCY.labels(self._service, method, path).observe(time.perf_counter() - started)
            REQUESTS.labels(self._service, method, path, str(status)).inc()


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def count_statements(engine: AsyncEngine, service: str) -> None:
    """Count every statement the engine sends: N+1 queries show up as a growing rate."""
    counter = SQL_STATEMENTS.labels(service)

    def before_execute(*_: Any) -> None:
        counter.inc()

    sqlalchemy_event.listen(engine.sync_engine, "before_cursor_execute", before_execute)


# --- The platform's own metrics (README "Metrics"): every one carries `service` ---

GRAPHQL_REQUESTS = Counter(
    "lms_graphql_requests_total",
    "GraphQL operations a subgraph ran, by operation name and outcome (ok or error)",
    ["service", "operation", "outcome"],
)
GRAPHQL_LATENCY = Histogram(
    "lms_graphql_request_duration_seconds",
    "Time a subgraph took to run a GraphQL query or mutation, by operation name",
    ["service", "operation"],
)
OUTBOX_BACKLOG = Gauge(
    "lms_outbox_backlog", "Outbox rows not yet published to the broker", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "lms_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when none waits)",
    ["service"],
)
RELAY_PUBLISHED = Counter(
    "lms_relay_published_total", "Events the outbox relay published (broker-confirmed)", ["service"]
)
CONSUMER_LAG = Gauge(
    "lms_consumer_lag",
    "Messages ready in a consumer's queue, not yet delivered",
    ["service", "queue"],
)
CONSUMER_RETRIES = Counter(
    "lms_consumer_retries_total",
    "Events whose handler failed and that were sent to a retry queue",
    ["service", "queue"],
)
DLQ_DEPTH = Gauge("lms_dlq_depth", "Messages in a dead-letter queue", ["service", "queue"])
NOTIFICATION_DELIVERIES = Counter(
    "lms_notification_deliveries_total",
    "Notification deliveries by channel and resulting state",
    ["service", "channel", "state"],
)


def notification_delivery(service: str, channel: str, state: str, count: int = 1) -> None:
    """Count deliveries of notifications over ``channel`` that reached ``state`` (a delivery
    status: SENT, FAILED, SKIPPED; or RETRYING)."""
    NOTIFICATION_DELIVERIES.labels(service, channel, state).inc(count)


BUSINESS_EVENTS = Counter(
    "lms_business_events_total",
    "Business events where they happen: registration, enrollment, submission_graded, "
    "certificate_issued",
    ["service", "event"],
)
BusinessEvent = Literal["registration", "enrollment", "submission_graded", "certificate_issued"]


_PENDING_EVENTS = "lms.business_events"  # in a session's info, until its transaction ends


def business_event(
    session: AsyncSession, service: str, event: BusinessEvent, count: int = 1
) -> None:
    """Count ``count`` business events of ``service`` once ``session``'s transaction commits
    (none if it rolls back)."""
    pending = session.sync_session.info.setdefault(_PENDING_EVENTS, [])
    pending.append((service, event, count))


@sqlalchemy_event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for service, event, count in session.info.pop(_PENDING_EVENTS, ()):
        BUSINESS_EVENTS.labels(service, event).inc(count)


@sqlalchemy_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING_EVENTS, None)


ANONYMOUS = "anonymous"
OTHER = "other"
MAX_OPERATION_NAMES = 100
MAX_NAME_LENGTH = 64


class OperationNames:
    """Operation names as labels: the first `cap` names a process sees, then `other` (and
    `anonymous` without one), so clients cannot grow the series without bound. (The router
    keeps its own, `router.metrics`: it imports nothing of the platform.)"""

    def __init__(self, cap: int = MAX_OPERATION_NAMES) -> None:
        self.cap = cap
        self._seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self._seen:
            return name
        if len(self._seen) >= self.cap or len(name) > MAX_NAME_LENGTH:
            return OTHER
        self._seen.add(name)
        return name


class _PoolCollector(Collector):
    """`lms_db_pool_in_use` and `lms_db_pool_waiting` of the engines watched, read when
    scraped (summed per service: several engines of one service may share a process)."""

    def __init__(self) -> None:
        self.engines: dict[AsyncEngine, str] = {}

    def collect(self) -> Iterator[Metric]:
        in_use = GaugeMetricFamily(
            "lms_db_pool_in_use", "Database connections checked out of the pool", labels=["service"]
        )
        waiting = GaugeMetricFamily(
            "lms_db_pool_waiting",
            "Callers waiting for a database connection (pool exhausted)",
            labels=["service"],
        )
        totals: dict[str, tuple[int, int]] = {}
        for engine, service in list(self.engines.items()):
            pool = engine.sync_engine.pool
            checked_out = getattr(pool, "checkedout", None)
            used, waiters = totals.get(service, (0, 0))
            totals[service] = (
                used + (checked_out() if checked_out else 0),
                waiters + _waiters(pool),
            )
        for service, (used, waiters) in totals.items():
            in_use.add_metric([service], float(used))
            waiting.add_metric([service], float(waiters))
        yield in_use
        yield waiting


def _waiters(pool: Any) -> int:
    """Callers blocked on the pool: SQLAlchemy's asyncio-adapted queue keeps them as its
    asyncio.Queue's getters (that queue is made on first use; 0 before)."""
    adapted = getattr(pool, "_pool", None)
    queue = vars(adapted).get("_queue") if hasattr(adapted, "__dict__") else None
    getters = getattr(queue, "_getters", None) or ()
    return sum(not getter.done() for getter in getters)


_POOLS = _PoolCollector()
REGISTRY.register(_POOLS)


def watch_pool(engine: AsyncEngine, service: str) -> None:
    """Report this engine's pool as `service`'s (until `forget_pool`)."""
    _POOLS.engines[engine] = service


def forget_pool(engine: AsyncEngine) -> None:
    _POOLS.engines.pop(engine, None)


@contextlib.asynccontextmanager
async def metrics_served(settings: Settings) -> AsyncIterator[None]:
    """/metrics of this process on `LMS_WORKER_METRICS_PORT` (none when 0), served by
    prometheus_client on a thread of its own."""
    if not settings.worker_metrics_port:
        yield
        return
    server, thread = start_http_server(settings.worker_metrics_port, settings.host)
    log.info("worker metrics served", extra={"port": settings.worker_metrics_port})
    try:
        yield
    finally:
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        thread.join()
