"""The whole of `router.yaml`: its top-level sections."""

from pydantic import AnyHttpUrl

from router.config.apq import ApqSection, PersistedQueriesSection
from router.config.base import Section
from router.config.cors import CorsSection
from router.config.demand_control import DemandControlSection
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
    supergraph: SupergraphSection = SupergraphSection()
    health_check: HealthCheckSection = HealthCheckSection()
    cors: CorsSection = CorsSection()
    limits: LimitsSection = LimitsSection()
    traffic_shaping: TrafficShapingSection = TrafficShapingSection()
    apq: ApqSection = ApqSection()
    persisted_queries: PersistedQueriesSection = PersistedQueriesSection()
    headers: HeadersSection = HeadersSection()
    authentication: AuthenticationSection = AuthenticationSection()
    authorization: AuthorizationSection = AuthorizationSection()
    demand_control: DemandControlSection = DemandControlSection()
    telemetry: TelemetrySection = TelemetrySection()
    override_subgraph_url: dict[str, AnyHttpUrl] = {}
    subscription: SubscriptionSection = SubscriptionSection()
    # this router's own sections
    rate_limit: RateLimitSection = RateLimitSection()
    client: ClientSection = ClientSection()
