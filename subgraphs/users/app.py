"""The users subgraph as an ASGI app: GraphQL plus the JWKS that every service verifies with."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.auth import TokenIssuer
from common.auth.keys import platform_signing_key, public_jwks
from common.auth.throttle import Rule, SignInThrottle
from common.auth.tokens import KeySource, StaticKeys
from common.graphql.app import ServiceRuntime, ServiceSpec, create_service_app
from common.settings import Settings
from subgraphs.users.loaders import build_loaders
from subgraphs.users.models import EVENTS
from subgraphs.users.schema import schema
from subgraphs.users.service import UsersService


def own_keys(settings: Settings, _: httpx.AsyncClient) -> KeySource:
    return StaticKeys([platform_signing_key(settings)])


def build_service(runtime: ServiceRuntime) -> UsersService:
    settings = runtime.settings
    issuer = TokenIssuer(
        platform_signing_key(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl,
    )
    throttle = SignInThrottle(
        runtime.redis,
        per_account=Rule(
            "account", settings.sign_in_failures_per_account, settings.sign_in_lockout
        ),
        per_address=Rule(
            "address", settings.sign_in_failures_per_address, settings.sign_in_lockout
        ),
    )
    return UsersService(
        runtime.sessions,
        issuer,
        refresh_ttl_seconds=settings.refresh_token_ttl,
        throttle=throttle,
    )


async def jwks(request: Request) -> Response:
    settings: Settings = request.app.state.runtime.settings
    return JSONResponse(
        public_jwks([platform_signing_key(settings)]),
        headers={"Cache-Control": "public, max-age=300"},
    )


SPEC = ServiceSpec(
    name="users",
    schema=schema,
    service=build_service,
    loaders=build_loaders,
    routes=[Route("/.well-known/jwks.json", jwks)],
    key_source=own_keys,
    events=EVENTS,  # it emits user.registered and user.deleted, and consumes nothing
)


def create_app(settings: Settings) -> Starlette:
    return create_service_app(SPEC, settings)
