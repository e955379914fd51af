"""Prometheus metrics: request counts and latencies per route, and the /metrics endpoint."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    event.listen(engine.sync_engine, "before_cursor_execute", before_execute)
