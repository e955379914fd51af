"""The whole of `router.yaml`: its top-level sections."""

from pydantic import AnyHttpUrl, ConfigDict, Field

from router.config.apq import ApqSection, PersistedQueriesSection
from router.config.base import Section
from router.config.cors import CorsSection
from router.config.demand_control import DemandControlSection
from router.config.entity_cache import EntityCacheSection
from router.config.headers import HeadersSection
from router.config.rate_limit import RateLimitSection
from router.config.security import AuthenticationSection, AuthorizationSection
from router.config.server import (
    ClientSection,
    HealthCheckSection,
    LimitsSection,
    SubscriptionSection,
    SupergraphSection,
)
from router.config.telemetry import TelemetrySection
from router.config.traffic import TrafficShapingSection


class RouterConfig(Section):
    """`router.yaml`: the router's configuration, in Apollo Router's shape where Apollo Router
    has the feature; `${env.NAME}` and `${env.NAME:-default}` are expanded in values."""

    model_config = ConfigDict(title="router.yaml")

    supergraph: SupergraphSection = Field(
        default=SupergraphSection(),
        description="where and how GraphQL is served",
    )
    health_check: HealthCheckSection = Field(
        default=HealthCheckSection(),
        description="the liveness endpoint (its answer names the supergraph served)",
    )
    cors: CorsSection = Field(
        default=CorsSection(),
        description="which browser origins may call the router (the router answers preflights)",
    )
    limits: LimitsSection = Field(
        default=LimitsSection(),
        description="bounds on operations and requests, checked before planning",
    )
    traffic_shaping: TrafficShapingSection = Field(
        default=TrafficShapingSection(),
        description=(
            "subgraph calls: timeouts, deduplication, compression, retries, rate limits, "
            "circuit breakers and bulkheads (`all` for every subgraph, `subgraphs.<name>` "
            "over it; `router` for the whole request)"
        ),
    )
    apq: ApqSection = Field(
        default=ApqSection(),
        description=(
            "automatic persisted queries (Apollo's protocol), cached in memory or in Redis "
            "shared by replicas"
        ),
    )
    persisted_queries: PersistedQueriesSection = Field(
        default=PersistedQueriesSection(),
        description=(
            "operations from persisted query manifests, and safelisting (refusing every other"
            " operation)"
        ),
    )
    preview_entity_cache: EntityCacheSection = Field(
        default=EntityCacheSection(),
        description=(
            "subgraph answers cached per entity and root field (Redis shared by replicas, an "
            "in-process layer in front), invalidated by messages; the response's Cache-Control"
        ),
    )
    headers: HeadersSection = Field(
        default=HeadersSection(),
        description=("rules for the headers of subgraph requests (`all`, then `subgraphs.<name>`)"),
    )
    authentication: AuthenticationSection = Field(
        default=AuthenticationSection(),
        description="who calls: JWT access tokens, and API keys traded for them",
    )
    authorization: AuthorizationSection = Field(
        default=AuthorizationSection(),
        description="how `@authenticated`, `@requiresScopes` and `@policy` are enforced",
    )
    demand_control: DemandControlSection = Field(
        default=DemandControlSection(),
        description=(
            "the static cost of operations (`@cost`, `@listSize`): measured, or enforced "
            "against a maximum"
        ),
    )
    telemetry: TelemetrySection = Field(
        default=TelemetrySection(),
        description="Prometheus metrics, logs and the access log",
    )
    override_subgraph_url: dict[str, AnyHttpUrl] = Field(
        default={}, description="a subgraph's URL instead of the supergraph's, by subgraph name"
    )
    subscription: SubscriptionSection = Field(
        default=SubscriptionSection(),
        description="subscriptions over WebSocket at `supergraph.path`",
    )
    # this router's own sections
    rate_limit: RateLimitSection = Field(
        default=RateLimitSection(),
        description=(
            "this router's own: per client and per operation rate limits, shared by replicas "
            "through Redis"
        ),
    )
    client: ClientSection = Field(
        default=ClientSection(),
        description="this router's own: the HTTP client subgraphs are called with",
    )
