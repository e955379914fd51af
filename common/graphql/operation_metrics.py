"""Every GraphQL query and mutation a subgraph runs, counted by operation name and outcome
(`lms_graphql_requests_total`) and timed (`lms_graphql_request_duration_seconds`); a
subscription is counted when it ends, not timed. Operation names are capped per process."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from common.telemetry.metrics import GRAPHQL_LATENCY, GRAPHQL_REQUESTS, OperationNames

_NAMES = OperationNames()  # one per process, as the metrics are
UNKNOWN_SERVICE = "unknown"


def _service(context: object) -> str:
    """The subgraph's name, as `create_service_app` notes it on the app's state."""
    request = getattr(context, "request", None)
    app = getattr(request, "app", None)
    name = getattr(getattr(app, "state", None), "service_name", None)
    return name if isinstance(name, str) else UNKNOWN_SERVICE


def _subscription(context: ExecutionContext) -> bool:
    if context.graphql_document is None:
        return False
    try:
        return context.operation_type is OperationType.SUBSCRIPTION
    except Exception:  # no such operation in the document: it failed already
        return False


def record_operation(
    context: object, name: str | None, *, failed: bool, started: float | None
) -> None:
    """Count one operation, and time it from `started` (`time.perf_counter()`; None: a
    subscription, not timed)."""
    service = _service(context)
    operation = _NAMES.label(name)
    GRAPHQL_REQUESTS.labels(service, operation, "error" if failed else "ok").inc()
    if started is not None:
        GRAPHQL_LATENCY.labels(service, operation).observe(time.perf_counter() - started)


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        result = context.result
        failed = bool(context.pre_execution_errors) or bool(result is not None and result.errors)
        timed = None if _subscription(context) else started
        record_operation(context.context, context.operation_name, failed=failed, started=timed)
