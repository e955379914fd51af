"""The policies around every subgraph request, as `Transport`s wrapping the one that speaks
HTTP. Built from `router.yaml` each time the transport is (a new supergraph or a new
configuration): a policy's state lives as long as its transport.

From the outside in: header rules → the access record → deduplication → the fetch metrics →
the guards (per-subgraph rate limit → bulkhead → circuit breaker → retries, in one layer:
`guards`) → the HTTP client. So fetches that share one request count once against the
subgraph's limit (it protects the subgraph from the calls it gets, and costs a Redis round
trip only for those) and in the fetch metrics, as the subgraph requests they are (a fetch
that shares one is counted by `router_subgraph_deduplicated_total`; measuring each of them
cost 2 % of a request's CPU on the peer benchmark's query); the fetch metrics see each
request with the reason a policy beneath refused it.

Each layer keeps the transport it wraps as `inner`: `/health` finds the breakers that way."""

from router.config import RouterConfig
from router.config.traffic import shapings
from router.ratelimit import SubgraphLimits
from router.transport.base import Transport
from router.transport.call_recorder import CallRecorder
from router.transport.dedup import Deduplication
from router.transport.fetch_metrics import FetchMetrics
from router.transport.guards import Guards, guards_configured
from router.transport.headers import header_propagation


def policy_stack(base: Transport, config: RouterConfig) -> Transport:
    transport = base
    shaping = config.traffic_shaping
    used = shapings(shaping)
    # per-subgraph rate limits, bulkheads, circuit breakers and retries:
    # traffic_shaping.*.{global_rate_limit, bulkhead, circuit_breaker, experimental_retry}
    subgraph_limits = SubgraphLimits.of(config)
    if guards_configured(shaping, subgraph_limits):
        transport = Guards(transport, shaping, subgraph_limits)
    transport = FetchMetrics(transport)  # every request's duration and failure reason
    # deduplication: traffic_shaping.*.deduplicate_query
    if any(s.deduplicate_query for s in used):
        transport = Deduplication(transport, shaping)
    if config.telemetry.exporters.logging.access_log.enabled:
        transport = CallRecorder(transport)  # the access record: subgraph calls
    # header rules: headers.all / headers.subgraphs.<name>
    return header_propagation(transport, config)
