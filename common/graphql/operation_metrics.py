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


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        service = _service(context.context)
        operation = _NAMES.label(context.operation_name)
        result = context.result
        failed = bool(context.pre_execution_errors) or bool(result is not None and result.errors)
        GRAPHQL_REQUESTS.labels(service, operation, "error" if failed else "ok").inc()
        if not _subscription(context):
            GRAPHQL_LATENCY.labels(service, operation).observe(time.perf_counter() - started)
