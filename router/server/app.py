"""The Starlette application: `/graphql`, GraphiQL and `/health`, module-level endpoints
sharing a `RouterState` on `app.state.router`."""

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from graphiql_assets import GRAPHIQL
from router.config import RouterConfig
from router.errors import error
from router.gateway.demand import DemandPolicy
from router.gateway.gateway import Gateway, GraphQLRequest, GraphQLResponse
from router.gateway.limits import Limits
from router.gateway.reload import LiveGateway, watch_file
from router.metrics import exposition
from router.policies.api_keys import ApiKeyConfig, ApiKeysUnavailable
from router.policies.authentication import (
    AuthenticationFailed,
    Caller,
    JwtConfig,
    bearer_challenge,
)
from router.policies.authorization import AuthorizationConfig
from router.policies.credentials import Credentials
from router.ratelimit import RouterLimits
from router.server.access_log import AccessLogMiddleware, note_operation
from router.server.compression import CompressionMiddleware
from router.server.cors import CorsMiddleware, CorsRules
from router.server.errors import BadRequest
from router.server.http import read_request, respond
from router.server.rate_limits import refusal
from router.server.uploads import UploadLimits
from router.subscriptions.connection import serve_websocket
from router.subscriptions.limits import SubscriptionLimits
from router.supergraph.model import Supergraph
from router.transport import HttpTransport, StreamTransport, Transport
from router.transport.base import DEFAULT_MAX_RESPONSE_BYTES
from router.transport.breakers import circuit_states
from router.transport.stack import policy_stack

logger = logging.getLogger("router")


async def _identify(
    credentials: Credentials | None, request: Request, graphql_request: GraphQLRequest
) -> tuple[GraphQLRequest, Caller | None] | Response:
    """The request as the subgraphs get it (with the verified token, an API key's too) and
    its caller, or the answer refusing it (401 with the RFC 6750 challenge, or 503)."""
    if credentials is None:
        return graphql_request, None
    headers = graphql_request.headers or {}
    try:
        caller = await credentials.caller(request.headers, headers.get("x-forwarded-for"))
    except AuthenticationFailed as failure:
        refused = GraphQLResponse(401, {"errors": [error(failure.message, "UNAUTHENTICATED")]})
        response = respond(request, refused)
        response.headers["www-authenticate"] = bearer_challenge(failure)
        return response
    except ApiKeysUnavailable as failure:
        logger.warning("API keys cannot be checked: %s", failure)
        message = "API keys cannot be checked right now."
        return respond(request, GraphQLResponse(503, {"errors": [error(message, "UNAVAILABLE")]}))
    if caller is not None and headers.get("authorization") != caller.authorization:
        forwarded = {**headers, "authorization": caller.authorization}
        graphql_request = dataclasses.replace(graphql_request, headers=forwarded)
    return graphql_request, caller


def _transport_kind(client: str) -> Callable[..., Transport]:
    if client == "aiohttp":  # an optional dependency (the `bench` extra)
        try:
            from router.transport.aiohttp_client import AiohttpTransport
        except ImportError as missing:
            raise ValueError("the aiohttp client needs the `bench` extra installed") from missing
        return AiohttpTransport
    return StreamTransport if client == "streams" else HttpTransport


def _make_transport(
    kind: Callable[..., Transport],
    timeout: float,
    timeouts: Mapping[str, float] | None,
    max_response_bytes: int,
    config: RouterConfig,
    urls: Mapping[str, str],
) -> Transport:
    base = kind(dict(urls), timeout, timeouts, max_response_bytes=max_response_bytes)
    return policy_stack(base, config)


def _make_gateway(
    limits: Limits | None,
    deduplicate: bool,
    authorization: AuthorizationConfig | None,
    labels: frozenset[str],
    demand: DemandPolicy | None,
    supergraph: Supergraph,
    transport: Transport,
) -> Gateway:
    return Gateway(
        supergraph,
        transport,
        limits=limits,
        deduplicate=deduplicate,
        authorization=authorization,
        override_labels=labels,
        demand=demand,
    )


@dataclass(frozen=True, slots=True)
class RouterState:
    """What the endpoints share, on `app.state.router`."""

    live: LiveGateway
    credentials: Credentials | None
    uploads: UploadLimits
    subscriptions: SubscriptionLimits
    watch: Path | None
    watch_interval: float
    config: RouterConfig
    rate_limits: RouterLimits
    cors: CorsRules
    demand: DemandPolicy | None = None  # `demand_control:`, applied by each gateway


def _state(connection: HTTPConnection) -> RouterState:
    state: RouterState = connection.app.state.router
    return state


async def graphql_endpoint(request: Request) -> Response:
    state = _state(request)
    wants_html = "text/html" in request.headers.get("accept", "")
    if request.method == "GET" and wants_html and "query" not in request.query_params:
        return GRAPHIQL.page(request)
    try:
        graphql_request = await read_request(request, state.uploads)
    except BadRequest as bad:
        return respond(
            request, GraphQLResponse(bad.status, {"errors": [error(bad.message, bad.code)]})
        )
    identified = await _identify(state.credentials, request, graphql_request)
    if isinstance(identified, Response):
        return identified
    graphql_request, caller = identified
    refused = await refusal(state.rate_limits, request, graphql_request, caller)
    if refused is not None:
        return refused
    async with state.live.use() as gateway:
        try:
            result = await gateway.execute(graphql_request, caller)
        except Exception:
            logger.exception("unexpected failure while executing an operation")
            result = GraphQLResponse(
                500, {"errors": [error("internal server error", "INTERNAL_SERVER_ERROR")]}
            )
        note_operation(gateway, graphql_request, caller)
    response = respond(request, result)
    if caller is None and _asks_to_sign_in(result):
        response.headers["www-authenticate"] = bearer_challenge()
    return response


def _asks_to_sign_in(result: GraphQLResponse) -> bool:
    """Whether an anonymous caller was refused something a token would have given."""
    errors = result.body.get("errors") or ()
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "UNAUTHENTICATED"
        for e in errors
    )


async def websocket_endpoint(websocket: WebSocket) -> None:
    state = _state(websocket)
    await serve_websocket(
        websocket, state.live, state.credentials, state.subscriptions, state.rate_limits
    )


async def metrics(request: Request) -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


async def health(request: Request) -> Response:
    """Up (200) with the supergraph's digest and each subgraph's circuit; "degraded" while a
    circuit is not closed (still 200: the router serves the rest of the graph)."""
    live = _state(request).live
    gateway = live.gateway
    circuits = circuit_states(gateway.transport, gateway.supergraph.subgraphs)
    degraded = any(state in ("open", "half_open") for state in circuits.values())
    return JSONResponse(
        {
            "status": "degraded" if degraded else "ok",
            "supergraph": live.digest[:12],
            "subgraphs": {name: {"circuit": state} for name, state in circuits.items()},
        }
    )


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    state: RouterState = app.state.router
    if state.credentials is not None:
        await state.credentials.start()
    watcher = None
    if state.watch is not None:
        watcher = asyncio.get_running_loop().create_task(
            watch_file(state.live, state.watch, state.watch_interval)
        )
    try:
        yield
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await state.live.aclose()
        await state.rate_limits.aclose()
        if state.credentials is not None:
            await state.credentials.aclose()


def create_app(
    supergraph_sdl: str,
    subgraph_url_overrides: Mapping[str, str] | None = None,
    *,
    transport: Transport | None = None,
    subgraph_timeout: float = 30.0,
    subgraph_timeouts: Mapping[str, float] | None = None,
    client: Literal["streams", "httpx", "aiohttp"] = "streams",
    max_subgraph_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    limits: Limits | None = None,
    uploads: UploadLimits | None = None,
    deduplicate: bool = False,
    watch: Path | None = None,
    watch_interval: float = 1.0,
    authentication: JwtConfig | None = None,
    authorization: AuthorizationConfig | None = None,
    api_keys: ApiKeyConfig | None = None,
    subscriptions: SubscriptionLimits | None = None,
    override_labels: Iterable[str] = (),
    config: RouterConfig | None = None,
) -> Starlette:
    """The router on a supergraph; with ``watch``, reloaded whenever that file changes.

    ``uploads`` bounds GraphQL multipart requests (file uploads); the defaults are in
    `router.server.uploads`. A subgraph answer longer than ``max_subgraph_response_bytes`` is
    refused while it is read (an error for that fetch). Subscriptions are served over
    WebSocket at /graphql, bounded by ``subscriptions``; with ``authentication``, a WebSocket
    client must present a valid access token in `connection_init`, and an HTTP request with a
    bad token is refused (401); `@authenticated`, `@requiresScopes` and `@policy` are
    enforced as ``authorization`` says (without ``authentication`` every caller is anonymous
    to them). With ``api_keys`` (and ``authentication``), an API key in `X-API-Key` is traded
    for an access token.
    Progressive `@override(label:)`s: a `percent(N)` label is taken over by a request with
    probability N%, any other label only when ``override_labels`` names it.
    ``config`` is `router.yaml` (`router.config`); the policies read their sections there.
    """
    config = config or RouterConfig()
    if isinstance(override_labels, str):
        raise TypeError("override_labels is a collection of label names, not one string")
    demand = DemandPolicy.from_config(config.demand_control)
    live = LiveGateway(
        supergraph_sdl,
        subgraph_url_overrides or {},
        functools.partial(
            _make_transport,
            _transport_kind(client),
            subgraph_timeout,
            subgraph_timeouts,
            max_subgraph_response_bytes,
            config,
        ),
        transport=transport,
        make_gateway=functools.partial(
            _make_gateway,
            limits,
            deduplicate,
            authorization,
            frozenset(override_labels),
            demand,
        ),
    )
    app = Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", websocket_endpoint),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            GRAPHIQL.route,
        ],
        lifespan=lifespan,
        # outermost first; each reads its policy from `app.state.router` per request
        middleware=[
            Middleware(AccessLogMiddleware),
            Middleware(CorsMiddleware),
            Middleware(CompressionMiddleware),
        ],
    )
    app.state.router = RouterState(
        live,
        Credentials(authentication, api_keys) if authentication else None,
        uploads or UploadLimits(),
        subscriptions or SubscriptionLimits(),
        watch,
        watch_interval,
        config,
        RouterLimits(config),
        CorsRules.of(config.cors),
        demand,
    )
    app.state.live = live
    return app
