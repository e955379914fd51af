"""The sections about serving: `supergraph:` (where to listen), `health_check:`, `limits:`,
`subscription:` and `override_subgraph_url:`, in Apollo Router's shape with this router's own
keys beside Apollo's."""

from typing import Literal

from router.config.base import Duration, PositiveInt, Section

# The configuration is beneath the runtime (which reads it), so the defaults are written
# here; tests/unit/router/test_config_defaults.py checks they are the runtime's own.


class SupergraphSection(Section):
    listen: str = "127.0.0.1:4000"
    path: str = "/graphql"
    introspection: bool = True


class HealthCheckSection(Section):
    enabled: bool = True
    path: str = "/health"


class LimitsSection(Section):
    max_depth: PositiveInt = 20
    max_aliases: PositiveInt = 50
    max_root_fields: PositiveInt = 50
    max_selections: PositiveInt = 10_000
    max_validation_work: PositiveInt = 20_000
    http_max_request_bytes: PositiveInt = 20 * 1024 * 1024
    max_upload_files: PositiveInt = 10
    http1_max_request_headers_bytes: PositiveInt = 64 * 1024
    request_head_timeout: Duration = 10.0
    request_body_timeout: Duration = 60.0
    subgraph_response_max_bytes: PositiveInt = 64 * 1024 * 1024


class SubscriptionSection(Section):
    enabled: bool = True
    init_timeout: Duration = 10.0
    keepalive: Duration = 15.0
    queue_capacity: PositiveInt = 256
    max_opened_subscriptions_per_connection: PositiveInt = 100


class ClientSection(Section):
    """This router's own: the HTTP client it calls subgraphs with."""

    kind: Literal["streams", "httpx", "aiohttp"] = "streams"
