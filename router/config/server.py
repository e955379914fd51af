"""The sections about serving: `supergraph:` (where to listen), `health_check:`, `limits:`,
`subscription:` and `override_subgraph_url:`, in Apollo Router's shape with this router's own
keys beside Apollo's."""

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from router.config.base import Duration, PositiveInt, Section

# The configuration is beneath the runtime (which reads it), so the defaults are written
# here; tests/unit/router/test_config_defaults.py checks they are the runtime's own.
MAX_PORT = 65535


def split_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:4000`` for an IPv6 address) as (host, port)."""
    host, separator, port = listen.rpartition(":")
    if not separator or not host or not port.isdigit() or not 1 <= int(port) <= MAX_PORT:
        raise ValueError(f"should be HOST:PORT with a port of 1-{MAX_PORT}, e.g. 127.0.0.1:4000")
    return host.removeprefix("[").removesuffix("]"), int(port)


def url_path(value: str) -> str:
    if not value.startswith("/") or any(c in value for c in "?#* "):
        raise ValueError("should be a URL path starting with / (no query, no wildcard)")
    return value


UrlPath = Annotated[str, AfterValidator(url_path)]


class SupergraphSection(Section):
    listen: str = Field(
        default="127.0.0.1:4000",
        description="address and port to listen on, HOST:PORT (a change needs a restart)",
    )
    path: UrlPath = Field(
        default="/graphql",
        description="where GraphQL is served (POST, GET, WebSocket; GraphiQL for browsers)",
    )
    deduplicate_inflight: bool = Field(
        default=False,
        description="this router's own: identical queries in flight with the same credentials "
        "share one execution",
    )

    @field_validator("listen")
    @classmethod
    def _a_listen_address(cls, value: str) -> str:
        split_listen(value)
        return value


class ReadinessInterval(Section):
    sampling: Duration = Field(
        default=5.0, gt=0, description="how often the subgraphs' health checks are made"
    )


class ReadinessSection(Section):
    """When the router is ready for traffic (`/ready` answers 200): its supergraph is loaded
    and, with `subgraphs`, every subgraph's health check passed at the last sampling."""

    path: UrlPath = Field(
        default="/ready", description="this router's own: where readiness answers (GET)"
    )
    subgraphs: bool = Field(
        default=True,
        description="this router's own: ready only while every subgraph's health check passes",
    )
    subgraph_path: str = Field(
        default="health",
        pattern=r"^[A-Za-z0-9._~/-]+$",
        description="this router's own: each subgraph's health check, a URL relative to its "
        "GraphQL URL (`health`: http://host:4001/graphql is checked at http://host:4001/health; "
        "`ready` asks the platform's subgraphs about their database and Redis too); it passes "
        "on a 2xx answer",
    )
    timeout: Duration = Field(
        default=2.0, gt=0, description="this router's own: longest wait for one health check"
    )
    interval: ReadinessInterval = ReadinessInterval()


class HealthCheckSection(Section):
    enabled: bool = Field(default=True, description="false: no health nor readiness endpoint")
    path: UrlPath = Field(
        default="/health", description="where liveness answers (GET): up while the process is"
    )
    readiness: ReadinessSection = ReadinessSection()


class LimitsSection(Section):
    max_depth: PositiveInt = Field(default=20, description="deepest nesting of fields")
    max_aliases: PositiveInt = Field(default=50, description="aliases in one operation")
    max_root_fields: PositiveInt = Field(default=50, description="fields at the root")
    max_selections: PositiveInt = Field(
        default=10_000,
        description="this router's own: selections once every fragment spread is expanded "
        "(repeats counted)",
    )
    max_validation_work: PositiveInt = Field(
        default=20_000,
        description="this router's own: comparisons validation may make between same-named fields",
    )
    http_max_request_bytes: PositiveInt = Field(
        default=20 * 1024 * 1024,
        description="largest multipart (file upload) request body, files included",
    )
    max_upload_files: PositiveInt = Field(
        default=10, description="this router's own: files in one upload request"
    )
    http1_max_request_headers_bytes: PositiveInt = Field(
        default=64 * 1024,
        description="this router's own: largest request head (a change needs a restart)",
    )
    request_head_timeout: Duration = Field(
        default=10.0,
        description="this router's own: time a client has to send a request's head, then "
        "408 (a change needs a restart)",
    )
    request_body_timeout: Duration = Field(
        default=60.0,
        description="this router's own: time a client has to send a request's body once its "
        "head arrived (a change needs a restart)",
    )
    subgraph_response_max_bytes: PositiveInt = Field(
        default=64 * 1024 * 1024,
        description="this router's own: longest subgraph answer read; a longer one is an "
        "error for that fetch",
    )


class PassthroughSubgraph(Section):
    multiplex: bool | None = Field(
        default=None,
        description="this router's own: carry every client's subscriptions to the subgraph "
        "on one shared graphql-transport-ws socket per router process, each operation with "
        "its caller's headers in `payload.extensions.headers`; only for subgraphs that "
        "authenticate each operation by them (off: one socket per client connection, "
        "authenticated by its connection_init)",
    )


class PassthroughSection(Section):
    all: PassthroughSubgraph = Field(
        default=PassthroughSubgraph(), description="every subgraph, unless named below"
    )
    subgraphs: dict[str, PassthroughSubgraph] = Field(
        default_factory=dict, description="per subgraph, by name; wins over `all`"
    )

    def multiplexes(self, service: str) -> bool:
        """Whether subscriptions to `service` share one socket (off unless said)."""
        named = self.subgraphs.get(service)
        if named is not None and named.multiplex is not None:
            return named.multiplex
        return bool(self.all.multiplex)


class SubscriptionModeSection(Section):
    passthrough: PassthroughSection = Field(
        default=PassthroughSection(),
        description="subscriptions reach subgraphs over graphql-transport-ws",
    )


class SubscriptionSection(Section):
    enabled: bool = Field(
        default=True, description="false: no WebSocket endpoint (no subscriptions)"
    )
    mode: SubscriptionModeSection = Field(
        default=SubscriptionModeSection(), description="how subscriptions reach subgraphs"
    )
    init_timeout: Duration = Field(
        default=10.0,
        description="this router's own: time a WebSocket client has to send connection_init",
    )
    keepalive: Duration = Field(
        default=15.0, description="this router's own: time between the router's pings"
    )
    queue_capacity: PositiveInt = Field(
        default=256,
        description="messages waiting for a client before it is disconnected as too slow",
    )
    max_opened_subscriptions_per_connection: PositiveInt = Field(
        default=100, description="this router's own: operations at once on one WebSocket"
    )
    permessage_deflate: bool = Field(
        default=False,
        description="this router's own: compress client WebSocket messages (permessage-deflate, "
        "1 KiB windows) when the client offers it, as browsers do; off, as Apollo Router: "
        "subscription events are small JSON, and deflate costs 21 KiB of memory per "
        "connection (a change needs a restart)",
    )


class ClientSection(Section):
    """This router's own: the HTTP client it calls subgraphs with."""

    kind: Literal["streams", "httpx", "aiohttp"] = Field(
        default="streams",
        description="streams: a lean asyncio keep-alive client; aiohttp needs the `bench` extra",
    )
