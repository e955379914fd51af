"""The server span of each HTTP request and WebSocket connection (but the health check's and
the metrics'), when tracing is on: its parent the client's `traceparent` (the sampler
decides whether to follow it), ended when the answer is sent (a WebSocket's when the
connection closes)."""

from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router import telemetry


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not telemetry.active() or scope["type"] not in ("http", "websocket") or _probe(scope):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET"
        parent = propagate.extract(Headers(scope=scope))
        with telemetry.TRACER.start_as_current_span(
            f"{method} {scope['path']}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:

            async def send_noting_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        telemetry.failed(span, f"status {status}")
                await send(message)

            await self.app(scope, receive, send_noting_status)


def _probe(scope: Scope) -> bool:
    """The health check and the metrics, which are polled: never traced."""
    config = scope["app"].state.router.config
    paths = (config.health_check.path, config.telemetry.exporters.metrics.prometheus.path)
    return scope["path"] in paths
