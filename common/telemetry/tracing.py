"""Traces of the services (subgraphs and workers): OpenTelemetry, W3C trace context, set up
once per process from the settings (`LMS_TRACING_EXPORTER`, `LMS_ZIPKIN_ENDPOINT`,
`LMS_OTLP_ENDPOINT`, `LMS_TRACE_SAMPLE_RATIO`).

With the exporter `none` nothing is set up: the spans are the API's no-op ones and
`active()` is false, so the hot paths build none. Otherwise the sampler is parent-based
(a request or event carrying a sampled `traceparent` is recorded, an unsampled one is not)
over the ratio for new traces; a span that ends with an exception records it (status and
exception event)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span as ApiSpan

TRACER = trace.get_tracer("lms")
_OFF: AbstractContextManager[None] = contextlib.nullcontext()
PROBES = frozenset({"/health", "/ready", "/metrics"})  # polled, never traced
_SPAN_KEY = "lms.span"  # where a statement's span waits for the statement to end


class _Switch:
    on = False
    slow_resolver_ns = 10_000_000


def active() -> bool:
    """Whether spans are recorded in this process (an exporter is set up)."""
    return _Switch.on


def start_tracing(settings: Settings, service: str) -> bool:
    """Set up the tracer provider and its exporter for ``service``, once per process; False
    when the exporter is `none` (or tracing is set up already)."""
    if settings.tracing_exporter == "none" or _Switch.on:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    exporter: SpanExporter
    if settings.tracing_exporter == "zipkin":
        exporter = zipkin_exporter(settings.zipkin_endpoint)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _Switch.on = True
    _Switch.slow_resolver_ns = settings.slow_resolver_ms * 1_000_000
    return True


def slow_resolver_ns() -> int:
    return _Switch.slow_resolver_ns


def zipkin_exporter(endpoint: str) -> SpanExporter:
    """Zipkin's exporter, writing JSON v2 as Zipkin's API defines it: the exporter writes
    `"kind": null` for a local span, where the API has a string or no `kind` at all.
    (The router's copy is router/telemetry.py: it imports nothing of common.)"""
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
    from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder

    class Encoder(JsonV2Encoder):
        def serialize(self, spans: Sequence[ApiSpan], local_endpoint: NodeEndpoint) -> str:
            encoded = json.loads(super().serialize(spans, local_endpoint))
            for each in encoded:
                if each.get("kind") is None:
                    each.pop("kind", None)
            return json.dumps(encoded)

    exporter = ZipkinExporter(endpoint=endpoint)
    exporter.encoder = Encoder()  # type: ignore[assignment]  # (typed from its V1 branch)
    return exporter


def span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Mapping[str, str] | None = None,
) -> AbstractContextManager[Span | None]:
    """A span, made current: a child of the context ``parent`` carries (an event's, a
    message's), else of the current span. Tracing off, nothing (None)."""
    if not _Switch.on:
        return _OFF
    context = propagate.extract(parent) if isinstance(parent, Mapping) and parent else None
    return TRACER.start_as_current_span(name, context=context, kind=kind, attributes=attributes)


def continued(callback: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """``callback``, to run later (after a commit) under the span current now."""
    if not _Switch.on:
        return callback
    now = otel_context.get_current()

    async def run() -> None:
        token = otel_context.attach(now)
        try:
            await callback()
        finally:
            otel_context.detach(token)

    return run


def failed(span: Span | None, message: str) -> None:
    """Mark ``span`` as failed without an exception (an error answered as data)."""
    if span is not None:
        span.set_status(Status(StatusCode.ERROR, message))


def carrier() -> dict[str, str]:
    """The current span's W3C trace context (`traceparent`, `tracestate`), to send on."""
    found: dict[str, str] = {}
    propagate.inject(found)
    return found


class TracingMiddleware:
    """The server span of each HTTP request and WebSocket connection, a child of the
    caller's `traceparent` (the router's fetch span)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _Switch.on or scope["type"] not in ("http", "websocket") or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET"
        with TRACER.start_as_current_span(
            f"{method} {scope['path']}",
            context=propagate.extract(Headers(scope=scope)),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as server:

            async def send_noting_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    server.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        failed(server, f"status {message['status']}")
                await send(message)

            await self.app(scope, receive, send_noting_status)


def trace_statements(engine: AsyncEngine, service: str) -> None:
    """A client span per SQL statement the engine sends within a trace (tracing on): its
    text, never its parameters."""
    if not _Switch.on:
        return

    def before(_: Any, __: Any, statement: str, ___: Any, context: Any, ____: bool) -> None:
        if not trace.get_current_span().get_span_context().is_valid:
            return  # outside any trace (the relay's polling, a consumer's inbox): no root spans
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        context.__dict__[_SPAN_KEY] = TRACER.start_span(
            f"{verb} {service}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": "postgresql",
                "db.namespace": service,
                "db.query.text": statement[:2000],
            },
        )

    def after(*args: Any) -> None:
        context = args[4]
        statement_span = context.__dict__.pop(_SPAN_KEY, None)
        if statement_span is not None:
            statement_span.end()

    def error(exception_context: Any) -> None:
        context = exception_context.execution_context
        statement_span = None if context is None else context.__dict__.pop(_SPAN_KEY, None)
        if statement_span is not None:
            statement_span.record_exception(exception_context.original_exception)
            failed(statement_span, type(exception_context.original_exception).__name__)
            statement_span.end()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    event.listen(engine.sync_engine, "handle_error", error)


@contextlib.contextmanager
def timed_span(name: str, threshold_ns: int, attributes: Mapping[str, Any]) -> Iterator[None]:
    """A span only when what it wraps took longer than ``threshold_ns`` (made afterwards,
    with the true start and end times): a slow resolver shows, a fast one costs no span."""
    started = time.time_ns()
    try:
        yield
    finally:
        ended = time.time_ns()
        if ended - started > threshold_ns:
            TRACER.start_span(name, start_time=started, attributes=attributes).end(ended)
