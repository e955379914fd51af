"""The users subgraph as an ASGI app: GraphQL plus the JWKS that every service verifies with."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.auth import TokenIssuer
from common.auth.keys import platform_signing_key, public_jwks
from common.auth.revocations import TokenRevoker
from common.auth.throttle import Rule, Throttle
from common.auth.tokens import KeySource, StaticKeys
from common.clock import Clock
from common.errors import Unauthenticated
from common.graphql.app import ServiceRuntime, ServiceSpec, create_service_app
from common.graphql.context import client_address
from common.settings import Settings
from subgraphs.users.external_sign_in import ExternalSignIn
from subgraphs.users.loaders import build_loaders
from subgraphs.users.mfa import Factors
from subgraphs.users.models import EVENTS
from subgraphs.users.schema import schema
from subgraphs.users.sealing import SecretBox
from subgraphs.users.service import UsersService


def own_keys(settings: Settings, _: httpx.AsyncClient) -> KeySource:
    return StaticKeys([platform_signing_key(settings)])


def build_service(runtime: ServiceRuntime, clock: Clock = time.time) -> UsersService:
    """The service, reading one-time codes and sign-in lockouts on `clock`."""
    settings = runtime.settings
    issuer = TokenIssuer(
        platform_signing_key(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl,
    )
    per_account = Rule("account", settings.sign_in_failures_per_account, settings.sign_in_lockout)
    per_address = Rule("address", settings.sign_in_failures_per_address, settings.sign_in_lockout)
    return UsersService(
        runtime.sessions,
        issuer,
        refresh_ttl_seconds=settings.refresh_token_ttl,
        throttle=Throttle(runtime.redis, per_account, per_address, clock=clock),
        # wrong one-time codes: the same limits as passwords, counted apart, by user id
        mfa_throttle=Throttle(
            runtime.redis,
            per_account,
            per_address,
            name="mfa",
            attempts="verification codes",
            clock=clock,
        ),
        # wrong current passwords in changePassword, by user id: a stolen session must not
        # become a password oracle
        password_throttle=Throttle(
            runtime.redis,
            per_account,
            per_address,
            name="current-password",
            attempts="current-password checks",
            clock=clock,
        ),
        factors=Factors(SecretBox.of(settings), clock),
        external=ExternalSignIn(
            settings.sign_in_providers, settings.sign_in_redirect_uris, runtime.redis
        ),
        tokens=TokenRevoker(runtime.redis, settings.access_token_ttl + settings.clock_skew),
    )


async def jwks(request: Request) -> Response:
    settings: Settings = request.app.state.runtime.settings
    return JSONResponse(
        public_jwks([platform_signing_key(settings)]),
        headers={"Cache-Control": "public, max-age=300"},
    )


async def api_key_token(request: Request) -> Response:
    """Trade an API key (``Authorization: ApiKey <key>``) for a short-lived access token,
    answered as an OAuth 2 token endpoint would (RFC 6749 section 5)."""
    runtime: ServiceRuntime = request.app.state.runtime
    service: UsersService = request.app.state.service
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    address = client_address(request, runtime.settings.trusted_proxies)
    try:
        if scheme.lower() != "apikey" or not key.strip():
            raise Unauthenticated("Send the key as 'Authorization: ApiKey <key>'.")
        token = await service.api_keys.exchange(key.strip(), address)
    except Unauthenticated as refused:
        return JSONResponse(
            {"error": "invalid_client", "error_description": refused.message},
            status_code=401,
            headers={"Cache-Control": "no-store"},
        )
    return JSONResponse(
        {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": token.expires_in,
        },
        headers={"Cache-Control": "no-store"},
    )


SPEC = ServiceSpec(
    name="users",
    schema=schema,
    service=build_service,
    loaders=build_loaders,
    routes=[
        Route("/.well-known/jwks.json", jwks),
        Route("/auth/api-key-token", api_key_token, methods=["POST"]),
    ],
    key_source=own_keys,
    events=EVENTS,  # it emits user.registered and user.deleted, and consumes nothing
)


def create_app(settings: Settings, clock: Clock = time.time) -> Starlette:
    """The app; `clock` is the wall clock unless a test passes one it moves."""
    return create_service_app(replace(SPEC, service=partial(build_service, clock=clock)), settings)
