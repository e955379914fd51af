"""The one way a subgraph becomes an ASGI app: GraphQL at /graphql plus /health, /ready, /metrics.

Resources (database pool, HTTP client, token verifier) live for the app's lifespan; each
request gets a fresh :class:`RequestContext` with the caller and new DataLoaders.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import orjson
from joserfc.jwk import RSAKey
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from common.auth import TokenVerifier
from common.auth.jwks import JwksCache
from common.auth.keys import public_jwks
from common.auth.revocations import RevocationList
from common.auth.tokens import KeySource
from common.auth.websocket import authorization_from
from common.db import create_engine, service_dsn, session_factory
from common.events.consumer import Handler
from common.events.tables import EventTables
from common.graphql.cache_control.policy import NO_STORE_HEADER, CachePolicy
from common.graphql.context import RequestContext, authenticate, client_address
from common.graphql.http_input import Refusal, check_http_request
from common.graphql.limits import BodySizeLimit, PlainErrorsAsGraphQL
from common.graphql.operation_credentials import PerOperationCredentials
from common.graphql.schema import ServiceSchema
from common.settings import DEV_ENVIRONMENTS, Settings
from common.telemetry.metrics import (
    MetricsMiddleware,
    count_statements,
    forget_pool,
    metrics_endpoint,
    watch_pool,
)
from common.telemetry.tracing import TracingMiddleware, trace_statements
from graphiql_assets import GRAPHIQL

ServiceT = TypeVar("ServiceT")
LoadersT = TypeVar("LoadersT")
log = logging.getLogger(__name__)


@dataclass(slots=True)
class ServiceRuntime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    verifier: TokenVerifier
    redis: Redis


@dataclass(frozen=True, slots=True)
class LoaderScope:
    """What a request's DataLoaders may need beyond the service: the caller's credentials
    (forwarded when a loader asks another subgraph) and the runtime's clients."""

    authorization: str | None
    runtime: ServiceRuntime


@dataclass(frozen=True, slots=True)
class ServiceSpec(Generic[ServiceT, LoadersT]):
    """What makes one subgraph: its schema, its service layer (built once at startup, from the
    runtime's resources), its DataLoaders (built per request), and any extra routes."""

    name: str
    schema: ServiceSchema
    service: Callable[[ServiceRuntime], ServiceT]
    loaders: Callable[[ServiceT, LoaderScope], LoadersT]
    routes: Sequence[BaseRoute] = ()
    key_source: Callable[[Settings, httpx.AsyncClient], KeySource] | None = None
    # Accept GraphQL multipart requests (file uploads) up to this many bytes; 0: refuse them.
    max_upload_bytes: Callable[[Settings], int] | None = None
    # Loops that run beside the service for its lifespan (delivery, scheduled jobs).
    background: Callable[[ServiceT], Sequence[Callable[[], Coroutine[Any, Any, None]]]] | None = (
        None
    )
    # Domain events: the outbox/inbox tables in its schema, and the handlers of the events
    # it consumes (run by `lms worker <service>` with its outbox relay).
    events: EventTables | None = None
    handlers: Callable[[ServiceT], Mapping[str, Handler]] | None = None
    # Periodic jobs `lms worker <service>` runs beside its relay and consumers.
    worker_jobs: Callable[[ServiceT], Sequence[Callable[[], Coroutine[Any, Any, None]]]] | None = (
        None
    )


NO_ACK_PAYLOAD: UnsetType = UNSET  # connection_ack without a payload


def jwks_keys(settings: Settings, http: httpx.AsyncClient) -> KeySource:
    return JwksCache(settings.jwks_url, http)


class ServiceGraphQL(GraphQL[RequestContext[Any, Any], None]):
    # graphql-transport-ws taking a caller per operation too (the router's shared socket)
    graphql_transport_ws_handler_class = PerOperationCredentials

    def __init__(self, spec: ServiceSpec[Any, Any], *, graphiql: bool) -> None:
        super().__init__(
            spec.schema,
            graphql_ide="graphiql" if graphiql else None,
            multipart_uploads_enabled=spec.max_upload_bytes is not None,
        )
        self._spec = spec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = _no_store_unless_said(send)
            try:
                check_http_request(scope)
            except Refusal as refusal:
                response = Response(refusal.body, refusal.status, media_type="application/json")
                await response(scope, receive, send)
                return
        try:
            await super().__call__(scope, receive, send)
        except ClientDisconnect:  # (or cut off as too slow): nobody is left to answer
            return

    async def render_graphql_ide(self, request: Request) -> Response:
        return GRAPHIQL.page(request)

    def encode_json(self, data: object) -> str:
        """orjson (each subscription event to each subscriber is encoded here: the json
        module took ~20 times as long); the json module for what orjson refuses (integers
        past 64 bits). Text, not bytes: a WebSocket message must be a text frame."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """orjson, not the json module: it refuses lone surrogates, invalid UTF-8 and nesting
        past 1024 levels with a JSONDecodeError (a 400), where json would recurse."""
        return orjson.loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext[Any, Any]:
        runtime: ServiceRuntime = request.app.state.runtime
        service = request.app.state.service
        principal, auth_error = await authenticate(
            runtime.verifier, request.headers.get("authorization")
        )
        return RequestContext(
            request=request,
            response=response if isinstance(response, Response) else None,
            principal=principal,
            auth_error=auth_error,
            service=service,
            loaders=self._spec.loaders(
                service, LoaderScope(request.headers.get("authorization"), runtime)
            ),
            client_address=client_address(request, runtime.settings.trusted_proxies),
        )

    async def on_ws_connect(self, context: RequestContext[Any, Any]) -> UnsetType:
        """A WebSocket client may present its token in connection_init (browsers cannot set
        headers on the upgrade request): verified like a header; a bad one is refused (4403)."""
        headers = context.request.headers
        authorization = authorization_from(context.connection_params, headers)
        if authorization is None or authorization == headers.get("authorization"):
            return NO_ACK_PAYLOAD
        runtime: ServiceRuntime = context.request.app.state.runtime
        principal, auth_error = await authenticate(runtime.verifier, authorization)
        if auth_error is not None:
            raise ConnectionRejectionError()
        context.principal, context.auth_error = principal, None
        context.loaders = self._spec.loaders(context.service, LoaderScope(authorization, runtime))
        return NO_ACK_PAYLOAD

    async def operation_context(
        self, connection: RequestContext[Any, Any], headers: Mapping[str, str]
    ) -> RequestContext[Any, Any]:
        """The context of one operation that names its caller (`operation_credentials`): the
        caller its Authorization proves, or nobody; its own DataLoaders."""
        runtime: ServiceRuntime = connection.request.app.state.runtime
        authorization = authorization_from(headers, {})
        principal, auth_error = await authenticate(runtime.verifier, authorization)
        return dataclasses.replace(
            connection,
            principal=principal,
            auth_error=auth_error,
            loaders=self._spec.loaders(connection.service, LoaderScope(authorization, runtime)),
            connection_params=None,
            cache_policy=CachePolicy(),
        )


def _no_store_unless_said(send: Send) -> Send:
    """`Cache-Control: no-store` on every answer that did not say how it may be cached: only a
    query answered without errors says so (`ResponseCacheControl`)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            if not any(name.lower() == b"cache-control" for name, _ in headers):
                headers.append((b"cache-control", NO_STORE_HEADER.encode()))
                message = {**message, "headers": headers}
        await send(message)

    return sending


def jwks_route(signing_key: Callable[[Settings], RSAKey | list[RSAKey]]) -> Route:
    """``GET /.well-known/jwks.json``: the public half of the service's signing key (or keys,
    during a rotation)."""

    async def jwks(request: Request) -> Response:
        settings: Settings = request.app.state.runtime.settings
        keys = signing_key(settings)
        return JSONResponse(
            public_jwks(keys if isinstance(keys, list) else [keys]),
            headers={"Cache-Control": "public, max-age=300"},
        )

    return Route("/.well-known/jwks.json", jwks)


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _database_up(runtime: ServiceRuntime) -> bool:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("readiness: database check failed", extra={"error": str(error)})
        return False
    return True


async def _redis_up(runtime: ServiceRuntime) -> bool:
    try:
        await runtime.redis.ping()
    except Exception as error:
        log.warning("readiness: redis check failed", extra={"error": str(error)})
        return False
    return True


async def ready(request: Request) -> Response:
    """Ready when every server this service depends on answers."""
    runtime: ServiceRuntime = request.app.state.runtime
    checks = {"database": await _database_up(runtime), "redis": await _redis_up(runtime)}
    body: dict[str, str] = {name: "up" if up else "down" for name, up in checks.items()}
    if all(checks.values()):
        return JSONResponse({"status": "ready", **body})
    return JSONResponse({"status": "unavailable", **body}, status_code=503)


@contextlib.asynccontextmanager
async def service_runtime(
    spec: ServiceSpec[Any, Any],
    settings: Settings,
    *,
    role: str | None = None,
    follow_revocations: bool = True,
) -> AsyncIterator[ServiceRuntime]:
    """A subgraph's resources (database pool, Redis, HTTP client, token verifier) for the
    life of a web process or a worker (`role` labels its SQL statement count; a worker
    verifies no tokens, so it need not follow the revocation list)."""
    engine = create_engine(service_dsn(settings, spec.name), pool_size=settings.pg_pool_size)
    count_statements(engine, role or spec.name)
    trace_statements(engine, spec.name)
    watch_pool(engine, role or spec.name)
    # A restarted Redis leaves dead pooled connections: retry them instead of failing the
    # request that finds one.
    redis = Redis.from_url(
        settings.redis_url, retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 5)
    )
    revocations = RevocationList(redis)
    try:
        if follow_revocations:
            await revocations.start()
        async with httpx.AsyncClient() as http:
            keys = (spec.key_source or jwks_keys)(settings, http)
            yield ServiceRuntime(
                settings=settings,
                engine=engine,
                sessions=session_factory(engine),
                http=http,
                verifier=TokenVerifier(
                    keys,
                    issuer=settings.jwt_issuer,
                    audience=settings.jwt_audience,
                    leeway_seconds=settings.clock_skew,
                    revocations=revocations,
                ),
                redis=redis,
            )
    finally:
        forget_pool(engine)
        await revocations.aclose()
        await redis.aclose()
        await engine.dispose()


def create_service_app(spec: ServiceSpec[Any, Any], settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with service_runtime(spec, settings) as runtime:
            app.state.runtime = runtime
            app.state.service = spec.service(runtime)
            tasks = [
                asyncio.create_task(loop(), name=f"{spec.name}:{loop.__name__}")
                for loop in (spec.background(app.state.service) if spec.background else ())
            ]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    # GraphiQL in development only: in production a subgraph answers the router, its worker
    # and its peers (k8s NetworkPolicies), and people use the router's.
    graphql = ServiceGraphQL(spec, graphiql=settings.env in DEV_ENVIRONMENTS)
    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),  # subscriptions (graphql-transport-ws)
        Route("/health", health),
        Route("/ready", ready),
        Route("/metrics", metrics_endpoint),
        GRAPHIQL.route,
        *spec.routes,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(TracingMiddleware, service=spec.name),
            Middleware(MetricsMiddleware, service=spec.name),
            Middleware(
                BodySizeLimit,
                multipart_max_bytes=(
                    spec.max_upload_bytes(settings) + 64 * 1024 if spec.max_upload_bytes else 0
                ),
            ),
            Middleware(PlainErrorsAsGraphQL),
        ],
    )
    app.state.service_name = spec.name  # the `service` label of its GraphQL metrics
    return app
