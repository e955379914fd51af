"""The metrics of GraphQL requests over HTTP: `router_http_requests_total{operation,
status_class, error_code}` (error_code: the first error's `extensions.code`, "" without
errors) and `router_http_request_duration_seconds{operation}`, labelled by operation name
(bounded by the app's `OperationNames`). Label children are kept, so a request costs two
dictionary look-ups, not a label validation each."""

from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Histogram

from router.metrics import REGISTRY, OperationNames

REQUESTS = Counter(
    "router_http_requests_total",
    "GraphQL requests over HTTP, by operation name, status class and first error code",
    ["operation", "status_class", "error_code"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "router_http_request_duration_seconds",
    "Time to answer a GraphQL request over HTTP, by operation name",
    ["operation"],
    registry=REGISTRY,
)
_ERROR_CODES = OperationNames()  # the codes subgraphs answer are theirs to choose: bounded too
_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
_counters: dict[tuple[str, str, str], Counter] = {}
_durations: dict[str, Histogram] = {}


def _first_code(body: Mapping[str, Any]) -> str:
    errors = body.get("errors")
    if not errors or not isinstance(errors[0], dict):
        return ""
    extensions = errors[0].get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return _ERROR_CODES.label(code) if isinstance(code, str) and code else ""


def observe_request(
    names: OperationNames,
    operation_name: str | None,
    status: int,
    body: Mapping[str, Any],
    seconds: float,
) -> None:
    operation = names.label(operation_name)
    key = (operation, _STATUS_CLASSES.get(status // 100, "5xx"), _first_code(body))
    counter = _counters.get(key)
    if counter is None:
        counter = _counters[key] = REQUESTS.labels(*key)
    counter.inc()
    duration = _durations.get(operation)
    if duration is None:
        duration = _durations[operation] = DURATION.labels(operation)
    duration.observe(seconds)
