"""Apollo Router's keys that this router does not have, and what to use instead where there is
something: an Apollo Router user bringing their `router.yaml` is told precisely, key by key.

Paths are dotted; `*` stands for any name (a subgraph's, a source's). Keys listed here are
only ever reported when the model refuses them, so a key that becomes supported simply stops
being reported."""

# A key under a section is reported with its full path; top-level keys by name.
UNSUPPORTED: dict[str, str] = {
    # top-level
    "batching": "",
    "connectors": "",
    "coprocessor": "",
    "csrf": "the router answers CORS preflights itself (`cors`); CSRF protection is not built in",
    "fleet_detector": "",
    "forbid_mutations": "",
    "homepage": "GraphiQL is served to browsers at `supergraph.path`",
    "include_subgraph_errors": "subgraph errors are always included, with their paths rewritten",
    "license_enforcement": "",
    "plugins": "",
    "preview_file_uploads": "multipart uploads are always accepted; bound them with "
    "`limits.http_max_request_bytes` and `limits.max_upload_files`",
    "preview_response_cache": "",
    "response_cache": "",
    "progressive_override": "take over `@override(label:)`s with `--override-label LABEL`",
    "rhai": "",
    "sandbox": "GraphiQL is served to browsers at `supergraph.path`",
    "server": "",
    "tls": "terminate TLS in front of the router (a load balancer or ingress)",
    "enhanced_client_awareness": "",
    # nested, under sections this router has
    "apq.subgraph": "APQ is between clients and the router only",
    "apq.router.cache.redis.password": "put the password in the URL: `redis://:PASSWORD@host`",
    "apq.router.cache.redis.username": "put the user in the URL: `redis://USER:PASSWORD@host`",
    "apq.router.cache.redis.pool_size": "",
    "apq.router.cache.redis.required_to_start": "",
    "apq.router.cache.redis.reset_ttl": "",
    "apq.router.cache.redis.tls": "use a `rediss://` URL",
    "authentication.connector": "",
    "preview_entity_cache.invalidation.listen": "invalidation messages come over Redis pub/sub "
    "(`preview_entity_cache.invalidation.channel`); purge with `router cache purge`",
    "preview_entity_cache.invalidation.path": "invalidation messages come over Redis pub/sub "
    "(`preview_entity_cache.invalidation.channel`); purge with `router cache purge`",
    "preview_entity_cache.subgraph.all.invalidation": "see `preview_entity_cache.invalidation`",
    "preview_entity_cache.subgraph.subgraphs.*.invalidation": "see "
    "`preview_entity_cache.invalidation`",
    "preview_entity_cache.subgraph.all.redis.ttl": "the TTL is the answer's max-age, at most "
    "`preview_entity_cache.subgraph.all.ttl`",
    "preview_entity_cache.metrics": "",
    "authentication.subgraph": "",
    "authentication.router.jwt.on_error": "",
    "authentication.router.jwt.ignore_other_prefixes": "",
    "authentication.router.jwt.sources": "the token is read from `header_name` only",
    "authentication.router.jwt.jwks.*.headers": "",
    "authentication.router.jwt.jwks.*.issuers": "give one `issuer`",
    "authentication.router.jwt.header_name": "the token is read from `Authorization: Bearer`",
    "authentication.router.jwt.header_value_prefix": "the token is read from "
    "`Authorization: Bearer`",
    "authorization.require_authentication": "mark what needs a caller with `@authenticated`",
    "authorization.directives.enabled": "the directives are always enforced",
    "authorization.directives.dry_run": "",
    "authorization.directives.errors": "",
    "demand_control.strategy.static_estimated.actual_cost_mode": "",
    "health_check.listen": "the health check is served on `supergraph.listen`",
    "health_check.readiness.allowed": "",
    "health_check.readiness.interval.unready": "",
    "limits.http1_max_request_buf_size": "",
    "limits.http1_max_request_headers": "use `limits.http1_max_request_headers_bytes`",
    "limits.introspection_max_depth": "",
    "limits.max_height": "use `limits.max_selections`",
    "limits.parser_max_recursion": "use `limits.max_depth`",
    "limits.parser_max_tokens": "",
    "limits.warn_only": "",
    "persisted_queries.experimental_prewarm_query_plan_cache": "",
    "persisted_queries.hot_reload": "",
    "subscription.enable_deduplication": "",
    "subscription.max_opened_subscriptions": "use "
    "`subscription.max_opened_subscriptions_per_connection`",
    "subscription.mode.callback": "subscriptions reach subgraphs over graphql-transport-ws "
    "(passthrough) only",
    "subscription.mode.passthrough.all.path": "the subgraph's WebSocket is at its GraphQL URL",
    "subscription.mode.passthrough.all.protocol": "graphql-transport-ws only",
    "subscription.mode.passthrough.all.heartbeat_interval": "the subgraph pings the router",
    "subscription.mode.passthrough.subgraphs.*.path": "the subgraph's WebSocket is at its "
    "GraphQL URL",
    "subscription.mode.passthrough.subgraphs.*.protocol": "graphql-transport-ws only",
    "subscription.mode.passthrough.subgraphs.*.heartbeat_interval": "the subgraph pings the router",
    "supergraph.defer_support": "",
    "supergraph.introspection": "introspection is always answered",
    "supergraph.early_cancel": "",
    "supergraph.experimental_log_on_broken_pipe": "",
    "supergraph.generate_query_fragments": "",
    "supergraph.query_planning": "",
    "supergraph.redact_query_validation_errors": "",
    "supergraph.strict_variable_validation": "variables are always validated strictly",
    "telemetry.apollo": "",
    "telemetry.instrumentation": "",
    "telemetry.exporters.tracing.propagation": "W3C trace context only",
    "telemetry.exporters.tracing.datadog": "use `telemetry.exporters.tracing.otlp`",
    "telemetry.exporters.tracing.experimental_response_trace_id": "",
    "telemetry.exporters.metrics.common": "",
    "telemetry.exporters.metrics.otlp": "scrape `telemetry.exporters.metrics.prometheus.path`",
    "telemetry.exporters.metrics.prometheus.listen": "metrics are served on `supergraph.listen`",
    "telemetry.exporters.logging.common": "",
    "telemetry.exporters.logging.stdout": "logs are JSON lines on stderr",
    "traffic_shaping.connector": "",
    "traffic_shaping.deduplicate_variables": "",
    "traffic_shaping.router.concurrency_limit": "",
    "traffic_shaping.all.dns_resolution_strategy": "",
    "traffic_shaping.all.experimental_http2": "subgraphs are called over HTTP/1.1",
    "traffic_shaping.subgraphs.*.dns_resolution_strategy": "",
    "traffic_shaping.subgraphs.*.experimental_http2": "subgraphs are called over HTTP/1.1",
}


def _matches(pattern: str, path: tuple[str, ...]) -> bool:
    parts = pattern.split(".")
    return len(parts) == len(path) and all(p in ("*", k) for p, k in zip(parts, path, strict=True))


def apollo_hint(path: tuple[str, ...]) -> str | None:
    """What to say of an unknown key at ``path`` (keys only, no list indexes) that Apollo
    Router has; None when Apollo Router has no such key either."""
    key = path[-1]
    found = [instead for pattern, instead in UNSUPPORTED.items() if _matches(pattern, path)]
    if not found and not (len(path) == 1 and key.startswith(("experimental_", "preview_"))):
        return None
    instead = found[0] if found else ""
    message = f"`{key}` is an Apollo Router key this router does not support"
    return f"{message}; {instead}" if instead else message
