"""The router's traces (OpenTelemetry, W3C trace context), set up once per process from
`telemetry.exporters.tracing`.

Off (no exporter enabled), nothing is set up: the spans below are the API's no-op ones and
`active()` is false, so the hot path builds none. On, a request the sampler drops costs its
server span's decision and no more: `recording()` is false for it, its subgraph requests
carry that span's context (not sampled, so the subgraphs drop it too) and no other span is
made. On, each client request is a server span
(its parent the client's `traceparent`, when the parent-based sampler follows it), with
spans for parsing and validation, planning, execution and each subgraph fetch; the fetch
span's context is what the subgraph request carries as `traceparent`/`tracestate`."""

import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from router.config.telemetry import TracingExporters

if TYPE_CHECKING:
    from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span as ApiSpan

TRACER = trace.get_tracer("router")
logger = logging.getLogger("router.telemetry")
_TRACE_ID_AT = slice(3, 35)  # in "00-<32 hex trace id>-<16 hex span id>-<flags>"
_OFF: AbstractContextManager[None] = contextlib.nullcontext()


class _Switch:
    on = False


def active() -> bool:
    """Whether spans are recorded in this process (an exporter is set up)."""
    return _Switch.on


def recording() -> bool:
    """Whether the current trace is recorded: tracing on, and the sampler kept this request.
    A request the sampler dropped makes no span beyond its server span (none is kept)."""
    return _Switch.on and trace.get_current_span().is_recording()


def start_tracing(config: TracingExporters) -> bool:
    """Set up the tracer provider and its exporters, once per process; False when the
    configuration enables no exporter (or tracing is set up already)."""
    if not config.enabled or _Switch.on:
        return False
    # The SDK and the exporters are imported only when traces are wanted.
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

    ratio = config.common.sampler
    sampler: Sampler = TraceIdRatioBased(ratio)
    if config.common.parent_based_sampler:
        sampler = ParentBased(sampler)
    provider = TracerProvider(
        resource=Resource.create({"service.name": config.common.service_name}), sampler=sampler
    )
    if config.zipkin.enabled:
        provider.add_span_processor(
            BatchSpanProcessor(zipkin_exporter(str(config.zipkin.endpoint)))
        )
    if config.otlp.enabled:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=str(config.otlp.endpoint)))
        )
    trace.set_tracer_provider(provider)
    global TRACER  # the provider's own tracer: no proxy to go through on every span
    TRACER = provider.get_tracer("router")
    _Switch.on = True
    logger.info("tracing on", extra={"event": "tracing.start", "sample_ratio": ratio})
    return True


def zipkin_exporter(endpoint: str) -> "SpanExporter":
    """Zipkin's exporter, writing JSON v2 as Zipkin's API defines it: the exporter writes
    `"kind": null` for a local span, where the API has a string or no `kind` at all.
    (The services' copy is common/telemetry/tracing.py: the router imports nothing of them.)"""
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
    from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder

    class Encoder(JsonV2Encoder):
        def serialize(self, spans: "Sequence[ApiSpan]", local_endpoint: "NodeEndpoint") -> str:
            encoded = json.loads(super().serialize(spans, local_endpoint))
            for each in encoded:
                if each.get("kind") is None:
                    each.pop("kind", None)
            return json.dumps(encoded)

    exporter = ZipkinExporter(endpoint=endpoint)
    exporter.encoder = Encoder()  # type: ignore[assignment]  # (typed from its V1 branch)
    return exporter


def span(
    name: str, attributes: Mapping[str, Any] | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> AbstractContextManager[Span | None]:
    """A span of the current one, made current; tracing off or this trace not recorded,
    nothing (None)."""
    if not recording():
        return _OFF
    return TRACER.start_as_current_span(name, kind=kind, attributes=attributes)


def event_span(name: str, carried: Mapping[str, str] | None) -> AbstractContextManager[Span | None]:
    """A span for one subscription event: a child of the context the event carried (the
    trace of the change that caused it), else of the current span."""
    if not _Switch.on:
        return _OFF
    parent = propagate.extract(carried) if carried else None
    return TRACER.start_as_current_span(name, context=parent, kind=SpanKind.PRODUCER)


def failed(span: Span, message: str) -> None:
    """Mark `span` as failed without an exception (an error answered as data)."""
    span.set_status(Status(StatusCode.ERROR, message))


def trace_context(carrier: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current span's `traceparent` (and `tracestate`), to send on."""
    injected: dict[str, str] = dict(carrier or {})
    propagate.inject(injected)
    return injected


def trace_id_of(headers: Mapping[str, str]) -> str | None:
    """The trace id of the current span, or else of the client's `traceparent` (tracing off):
    what the access log shows."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return format(context.trace_id, "032x")
    given = headers.get("traceparent", "")
    found = given[_TRACE_ID_AT]
    return found if len(given) >= 55 and all(c in "0123456789abcdef" for c in found) else None
