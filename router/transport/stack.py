"""The policies around every subgraph request, as `Transport`s wrapping the one that speaks
HTTP. Built from `router.yaml` each time the transport is (a new supergraph or a new
configuration): a policy's state lives as long as its transport.

From the outside in: header rules → the access record → the fetch metrics → deduplication →
per-subgraph rate limits → bulkhead → circuit breaker → retries → the HTTP client. So fetches
that share one request count once against the subgraph's limit (it protects the subgraph from
the calls it gets, and costs a Redis round trip only for those), a bulkhead waits before the
breaker is asked, and the breaker sees a retried request once, with its last outcome (retries
happen beneath it, within its decision); the fetch metrics see each fetch with the reason a
policy beneath refused it.

Each layer keeps the transport it wraps as `inner`: `/health` finds the breakers that way."""

from router.config import RouterConfig
from router.config.traffic import shapings
from router.ratelimit import SubgraphLimits
from router.transport.base import Transport
from router.transport.breakers import CircuitBreakers
from router.transport.bulkheads import Bulkheads
from router.transport.call_recorder import CallRecorder
from router.transport.dedup import Deduplication
from router.transport.fetch_metrics import FetchMetrics
from router.transport.headers import header_propagation
from router.transport.rate_limit import RateLimitedTransport
from router.transport.retries import Retries


def policy_stack(base: Transport, config: RouterConfig) -> Transport:
    transport = base
    shaping = config.traffic_shaping
    used = shapings(shaping)
    # (innermost) retries: traffic_shaping.*.experimental_retry
    if any(s.experimental_retry for s in used):
        transport = Retries(transport, shaping)
    # circuit breakers: traffic_shaping.*.circuit_breaker
    if any(s.circuit_breaker and s.circuit_breaker.enabled for s in used):
        transport = CircuitBreakers(transport, shaping)
    # bulkheads: traffic_shaping.*.bulkhead
    if any(s.bulkhead for s in used):
        transport = Bulkheads(transport, shaping)
    # per-subgraph rate limits: traffic_shaping.*.global_rate_limit
    if (subgraph_limits := SubgraphLimits.of(config)) is not None:
        transport = RateLimitedTransport(transport, subgraph_limits)
    # deduplication: traffic_shaping.*.deduplicate_query
    if any(s.deduplicate_query for s in used):
        transport = Deduplication(transport, shaping)
    transport = FetchMetrics(transport)  # every fetch's duration and failure reason
    if config.telemetry.exporters.logging.access_log.enabled:
        transport = CallRecorder(transport)  # the access record: subgraph calls
    # header rules: headers.all / headers.subgraphs.<name>
    return header_propagation(transport, config)
