"""What the runtime takes from `router.yaml`: the limits, the subgraph client, authentication
and authorization, as the objects each part of the router is built with."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from router.config import RouterConfig
from router.config.server import PassthroughSection
from router.gateway.limits import Limits
from router.policies.api_keys import ApiKeyConfig
from router.policies.authentication import JwtConfig
from router.policies.authorization import AuthorizationConfig, ClaimPolicies
from router.policies.revocations import Revocations
from router.server.http_protocol import ConnectionLimits
from router.server.uploads import UploadLimits
from router.subscriptions.limits import SubscriptionLimits

DEFAULT_SUBGRAPH_TIMEOUT = 30.0
ClientKind = Literal["streams", "httpx", "aiohttp"]


@dataclass(frozen=True)
class Runtime:
    limits: Limits
    uploads: UploadLimits
    subscriptions: SubscriptionLimits
    client: ClientKind
    subgraph_timeout: float
    subgraph_timeouts: Mapping[str, float]
    max_subgraph_response_bytes: int
    deduplicate: bool
    authentication: JwtConfig | None
    api_keys: ApiKeyConfig | None
    authorization: AuthorizationConfig
    url_overrides: Mapping[str, str] = field(default_factory=dict)
    # which subgraphs take every client's subscriptions on one shared socket
    passthrough: PassthroughSection = field(default_factory=PassthroughSection)


def connection_limits(config: RouterConfig) -> ConnectionLimits:
    """The HTTP server's bounds on slow or oversized request heads (fixed at start)."""
    limits = config.limits
    return ConnectionLimits(
        limits.request_head_timeout,
        limits.request_body_timeout,
        limits.http1_max_request_headers_bytes,
    )


def _jwt(config: RouterConfig, revocations: Revocations | None) -> JwtConfig | None:
    jwt = config.authentication.router.jwt
    if jwt is None:
        return None
    first = jwt.jwks[0]
    return JwtConfig(
        tuple(str(source.url) for source in jwt.jwks),
        first.issuer,
        first.audiences[0],
        round(jwt.leeway),
        algorithms=first.algorithms,
        jwks_max_age_seconds=first.poll_interval,
        revocations=revocations,
    )


def runtime(
    config: RouterConfig,
    *,
    revocations: Revocations | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Runtime:
    """The runtime's objects for ``config``; ``overrides`` (`Runtime` fields, as
    `create_app`'s keyword arguments give them) replace what the configuration says."""
    limits = config.limits
    shaping = config.traffic_shaping
    ws = config.subscription
    api_keys = config.authentication.router.api_keys
    built = Runtime(
        limits=Limits(
            limits.max_depth,
            limits.max_aliases,
            limits.max_root_fields,
            limits.max_selections,
            limits.max_validation_work,
        ),
        uploads=UploadLimits(limits.http_max_request_bytes, limits.max_upload_files),
        subscriptions=SubscriptionLimits(
            init_timeout=ws.init_timeout,
            keepalive=ws.keepalive,
            queue_size=ws.queue_capacity,
            max_operations=ws.max_opened_subscriptions_per_connection,
        ),
        client=config.client.kind,
        subgraph_timeout=(
            shaping.all.timeout if shaping.all.timeout is not None else DEFAULT_SUBGRAPH_TIMEOUT
        ),
        subgraph_timeouts={
            name: subgraph.timeout
            for name, subgraph in shaping.subgraphs.items()
            if subgraph.timeout is not None
        },
        max_subgraph_response_bytes=limits.subgraph_response_max_bytes,
        deduplicate=config.supergraph.deduplicate_inflight,
        authentication=_jwt(config, revocations),
        api_keys=ApiKeyConfig(str(api_keys.url), api_keys.cache_for) if api_keys else None,
        authorization=AuthorizationConfig(
            reject_unauthorized=config.authorization.directives.reject_unauthorized,
            policies=ClaimPolicies(dict(config.authorization.policies)),
        ),
        url_overrides={name: str(url) for name, url in config.override_subgraph_url.items()},
        passthrough=ws.mode.passthrough,
    )
    return dataclasses.replace(built, **overrides) if overrides else built
