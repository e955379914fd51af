"""The policies around every subgraph request, as `Transport`s wrapping the one that speaks
HTTP. Built from `router.yaml` each time the transport is (a new supergraph or a new
configuration): a policy's state lives as long as its transport.

From the outside in: header rules → the access record → per-subgraph rate limits →
deduplication → bulkhead → circuit breaker → retries → the HTTP client. So a deduplicated
request counts once against the limits below it, a bulkhead waits before the breaker is
asked, and each retry is seen by the breaker."""

from router.config import RouterConfig
from router.transport.base import Transport
from router.transport.call_recorder import CallRecorder


def policy_stack(base: Transport, config: RouterConfig) -> Transport:
    transport = base
    # (innermost) retries: traffic_shaping.*.experimental_retry
    # circuit breakers: traffic_shaping.*.circuit_breaker
    # bulkheads: traffic_shaping.*.bulkhead
    # deduplication: traffic_shaping.*.deduplicate_query
    # per-subgraph rate limits: traffic_shaping.*.global_rate_limit
    if config.telemetry.exporters.logging.access_log.enabled:
        transport = CallRecorder(transport)  # the access record: subgraph calls
    # header rules: headers.all / headers.subgraphs.<name>
    return transport
