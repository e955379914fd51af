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

from common.auth.keys import platform_signing_key
from common.auth.tokens import KeySource, StaticKeys
from common.clock import Clock
from common.errors import RateLimited, Unauthenticated
from common.graphql.app import ServiceRuntime, ServiceSpec, create_service_app, jwks_route
from common.graphql.context import client_address
from common.settings import Settings
from subgraphs.users.data_export_route import download_export
from subgraphs.users.events import handlers
from subgraphs.users.loaders import build_loaders
from subgraphs.users.models import EVENTS
from subgraphs.users.saml_route import assertion_consumer_service, sp_metadata
from subgraphs.users.schema import schema
from subgraphs.users.service_clients import OAuthError, token_request
from subgraphs.users.services import UsersServices, build_services

FORM = "application/x-www-form-urlencoded"


def own_keys(settings: Settings, _: httpx.AsyncClient) -> KeySource:
    return StaticKeys([platform_signing_key(settings)])


async def api_key_token(request: Request) -> Response:
    """Trade an API key (``Authorization: ApiKey <key>``) for a short-lived access token,
    answered as an OAuth 2 token endpoint would (RFC 6749 section 5)."""
    runtime: ServiceRuntime = request.app.state.runtime
    services: UsersServices = request.app.state.service
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    address = client_address(request, runtime.settings.trusted_proxies)
    try:
        if scheme.lower() != "apikey" or not key.strip():
            raise Unauthenticated("Send the key as 'Authorization: ApiKey <key>'.")
        token = await services.users.api_keys.exchange(key.strip(), address)
    except RateLimited as limited:  # too many refused keys from this address
        wait = str(limited.retry_after or 1)
        return JSONResponse(
            {"error": "slow_down", "error_description": limited.message},
            status_code=429,
            headers={"Cache-Control": "no-store", "Retry-After": wait},
        )
    except Unauthenticated as refused:
        # RFC 6749 section 5.2: the challenge names the scheme the client authenticated with
        challenge = 'ApiKey realm="lms", error="invalid_client"'
        return JSONResponse(
            {"error": "invalid_client", "error_description": refused.message},
            status_code=401,
            headers={"Cache-Control": "no-store", "WWW-Authenticate": challenge},
        )
    return JSONResponse(
        {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": token.expires_in,
        },
        headers={"Cache-Control": "no-store"},
    )


async def oauth_token(request: Request) -> Response:
    """The OAuth 2 token endpoint of the client-credentials grant (RFC 6749 sections 4.4
    and 5): a service's credentials for a short-lived token with its scopes."""
    services: UsersServices = request.app.state.service
    no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    try:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
            raise OAuthError("invalid_request", f"Send the parameters as {FORM}.")
        body = await request.body()
        granted = services.clients.grant(token_request(request.headers.get("authorization"), body))
    except OAuthError as refused:
        headers = dict(no_store)
        if refused.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="lms"'
        return JSONResponse(
            {"error": refused.error, "error_description": refused.description},
            status_code=refused.status,
            headers=headers,
        )
    return JSONResponse(
        {
            "access_token": granted.access_token,
            "token_type": "Bearer",
            "expires_in": granted.expires_in,
            "scope": granted.scope,
        },
        headers=no_store,
    )


SPEC = ServiceSpec(
    name="users",
    schema=schema,
    service=build_services,
    loaders=build_loaders,
    routes=[
        jwks_route(platform_signing_key),
        Route("/auth/api-key-token", api_key_token, methods=["POST"]),
        Route("/oauth/token", oauth_token, methods=["POST"]),
        Route("/exports/{export_id}.zip", download_export),
        Route("/saml/metadata", sp_metadata, methods=["GET"]),
        Route("/saml/acs", assertion_consumer_service, methods=["POST"]),
    ],
    key_source=own_keys,
    # Redis kept holding PostgreSQL's revocations (subgraphs/users/revocations.py)
    background=lambda services: [services.users.revocations.follow],
    # it emits user.registered, user.email_verified, user.deleted and the data exports'
    # events; it consumes the data exports' requests and parts
    events=EVENTS,
    # data exports: its own part, the other parts, and the sweep of late and expired ones
    handlers=handlers,
    worker_jobs=lambda services: [services.exports.run_sweeps],
)


def create_app(settings: Settings, clock: Clock = time.time) -> Starlette:
    """The app; `clock` is the wall clock unless a test passes one it moves."""
    return create_service_app(replace(SPEC, service=partial(build_services, clock=clock)), settings)
