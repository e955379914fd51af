"""The Starlette application: `/graphql`, GraphiQL, `/health`, `/ready` and `/metrics`,
module-level endpoints sharing a `RouterState` on `app.state.router`."""

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from graphiql_assets import GRAPHIQL
from router import native
from router.cache.entity_cache import EntityCache
from router.config import ConfigError, ConfigSource, RouterConfig
from router.config.server import ReadinessSection
from router.errors import error
from router.gateway.demand import DemandPolicy
from router.gateway.gateway import Gateway, GraphQLRequest, GraphQLResponse
from router.gateway.limits import Limits
from router.gateway.reload import (
    GatewayFactory,
    LiveGateway,
    TransportFactory,
    watch_file,
    watch_supergraph,
)
from router.metrics import OperationNames, exposition
from router.policies.api_keys import ApiKeyConfig, ApiKeysRateLimited, ApiKeysUnavailable
from router.policies.authentication import (
    AuthenticationFailed,
    Caller,
    JwtConfig,
    bearer_challenge,
)
from router.policies.authorization import AuthorizationConfig
from router.policies.credentials import Credentials
from router.policies.revocations import Revocations
from router.ratelimit import RouterLimits
from router.server.access_log import (
    AccessLines,
    AccessLogMiddleware,
    note_operation,
    selected_operation,
)
from router.server.compression import CompressionMiddleware
from router.server.cors import CorsMiddleware, CorsRules
from router.server.errors import BadRequest
from router.server.http import read_request, respond
from router.server.persisted import NO_CACHE, PersistedQueries
from router.server.rate_limits import refusal
from router.server.readiness import Readiness, watch_readiness
from router.server.request_metrics import observe_request
from router.server.runtime import ClientKind, Runtime, runtime
from router.server.tracing import TracingMiddleware
from router.server.uploads import UploadLimits
from router.server.websocket_protocol import DEFLATE
from router.subscriptions.connection import serve_websocket
from router.subscriptions.limits import SubscriptionLimits
from router.supergraph.model import Supergraph
from router.transport import HttpTransport, StreamTransport, Transport
from router.transport.guards import circuit_states
from router.transport.headers import HeaderRules
from router.transport.shared_sockets import SharedSockets
from router.transport.stack import policy_stack

logger = logging.getLogger("router")


async def _identify(
    credentials: Credentials | None, request: Request, graphql_request: GraphQLRequest
) -> tuple[GraphQLRequest, Caller | None] | GraphQLResponse:
    """The request as the subgraphs get it (with the verified token, an API key's too) and
    its caller, or the answer refusing it (401 with the RFC 6750 challenge, 429 while the
    client address may not try API keys, or 503)."""
    if credentials is None:
        return graphql_request, None
    headers = graphql_request.headers or {}
    try:
        caller = await credentials.caller(request.headers, headers.get("x-forwarded-for"))
    except ApiKeysRateLimited as limited:
        wait = limited.retry_after
        return GraphQLResponse(
            429,
            {"errors": [error(limited.message, "RATE_LIMITED", retryAfter=wait)]},
            headers={"retry-after": str(wait)},
        )
    except AuthenticationFailed as failure:
        return GraphQLResponse(
            401,
            {"errors": [error(failure.message, "UNAUTHENTICATED")]},
            headers={"www-authenticate": bearer_challenge(failure)},
        )
    except ApiKeysUnavailable as failure:
        logger.warning("API keys cannot be checked: %s", failure)
        message = "API keys cannot be checked right now."
        return GraphQLResponse(503, {"errors": [error(message, "UNAVAILABLE")]})
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
    header_rules: HeaderRules,
    entity_cache: EntityCache | None,
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
        header_rules=header_rules,
        entity_cache=entity_cache,
    )


@dataclass(frozen=True)
class Wiring:
    """What the router is built from besides `router.yaml`, kept to build it again from a new
    one: `create_app`'s keyword arguments that were given (they win over the file), the
    revocation list, the progressive override labels, and a transport fixed by the caller."""

    overrides: Mapping[str, Any]
    revocations: Revocations | None
    labels: frozenset[str]
    transport: Transport | None

    def runtime(self, config: RouterConfig) -> Runtime:
        return runtime(config, revocations=self.revocations, overrides=self.overrides)

    def transports(self, config: RouterConfig, built: Runtime) -> TransportFactory:
        return functools.partial(
            _make_transport,
            _transport_kind(built.client),
            built.subgraph_timeout,
            built.subgraph_timeouts,
            built.max_subgraph_response_bytes,
            config,
        )

    def gateways(
        self, config: RouterConfig, built: Runtime, entity_cache: EntityCache | None
    ) -> GatewayFactory:
        return functools.partial(
            _make_gateway,
            built.limits,
            built.deduplicate,
            built.authorization,
            self.labels,
            DemandPolicy.from_config(config.demand_control),
            HeaderRules(config.headers),
            entity_cache,
        )


@dataclass(frozen=True, slots=True)
class RouterState:
    """What the endpoints share, on `app.state.router`; built by `router_state` and built
    again, then swapped, when the configuration changes."""

    live: LiveGateway
    credentials: Credentials | None
    uploads: UploadLimits
    subscriptions: SubscriptionLimits
    config: RouterConfig
    runtime: Runtime
    rate_limits: RouterLimits
    cors: CorsRules
    persisted: PersistedQueries
    entity_cache: EntityCache | None


def router_state(
    config: RouterConfig,
    live: LiveGateway,
    built: Runtime,
    credentials: Credentials | None,
    persisted: PersistedQueries,
    entity_cache: EntityCache | None,
    previous: "RouterState | None" = None,
) -> RouterState:
    """The state for ``config``: each HTTP-level policy compiles its section here (the
    previous state's rate limiter is kept when its sections did not change); ``persisted``
    is built beforehand, since reading its manifests can fail."""
    return RouterState(
        live,
        credentials,
        built.uploads,
        built.subscriptions,
        config,
        built,
        _rate_limits(config, previous),
        CorsRules.of(config.cors),
        persisted,
        entity_cache,
    )


def _entity_cache(config: RouterConfig, previous: RouterState | None) -> EntityCache | None:
    """The entity cache `preview_entity_cache` asks for: the previous one when it did not
    change."""
    if not config.preview_entity_cache.enabled:
        return None
    if previous is not None and previous.config.preview_entity_cache == config.preview_entity_cache:
        return previous.entity_cache
    return EntityCache(config.preview_entity_cache)


def _rate_limits(config: RouterConfig, previous: RouterState | None) -> RouterLimits:
    if previous is not None and (
        previous.config.rate_limit,
        previous.config.traffic_shaping.router,
    ) == (config.rate_limit, config.traffic_shaping.router):
        return previous.rate_limits
    return RouterLimits(config)


def _credentials(built: Runtime, previous: RouterState | None) -> Credentials | None:
    """The credentials checker for ``built``: the previous one when nothing about it changed."""
    if built.authentication is None:
        return None
    if previous is not None and (
        previous.runtime.authentication,
        previous.runtime.api_keys,
    ) == (built.authentication, built.api_keys):
        return previous.credentials
    return Credentials(built.authentication, built.api_keys)


def _state(connection: HTTPConnection) -> RouterState:
    state: RouterState = connection.app.state.router
    return state


async def graphql_endpoint(request: Request) -> Response:
    started = time.perf_counter()
    response, result, operation_name = await _answer(request)
    if result is not None:  # (not GraphiQL's page)
        seconds = time.perf_counter() - started
        names = request.app.state.operation_names
        observe_request(names, operation_name, response.status_code, result.body, seconds)
    return response


Answer = tuple[Response, GraphQLResponse | None, str | None]  # and the operation's name


def _answered(request: Request, result: GraphQLResponse, operation_name: str | None) -> Answer:
    return respond(request, result), result, operation_name


async def _answer(request: Request) -> Answer:
    """The response, the GraphQL response it carries (None for GraphiQL's page) and the name
    of the operation it answers."""
    state = _state(request)
    if request.method == "GET" and _wants_graphiql(request):
        return GRAPHIQL.page(request), None, None
    try:
        graphql_request = await read_request(request, state.uploads)
    except BadRequest as bad:
        return _answered(
            request, GraphQLResponse(bad.status, {"errors": [error(bad.message, bad.code)]}), None
        )
    name = graphql_request.operation_name
    identified = await _identify(state.credentials, request, graphql_request)
    if isinstance(identified, GraphQLResponse):
        return _answered(request, identified, name)
    graphql_request, caller = identified
    refused = await refusal(state.rate_limits, request, graphql_request, caller)
    if refused is not None:
        return _answered(request, refused, name)
    resolved = await state.persisted.resolve(graphql_request)
    if isinstance(resolved, GraphQLResponse):
        uncached = dataclasses.replace(resolved, headers={"cache-control": NO_CACHE})
        return _answered(request, uncached, name)
    graphql_request = resolved
    async with state.live.use() as gateway:
        try:
            result = await gateway.execute(graphql_request, caller)
        except Exception:
            logger.exception("unexpected failure while executing an operation")
            result = GraphQLResponse(
                500, {"errors": [error("internal server error", "INTERNAL_SERVER_ERROR")]}
            )
        operation = selected_operation(gateway, graphql_request)
        note_operation(operation, caller)
    if operation is not None and operation.name is not None:
        name = operation.name.value
    response = respond(request, result)
    if caller is None and _asks_to_sign_in(result):
        response.headers["www-authenticate"] = bearer_challenge()
    return response, result, name


def _wants_graphiql(request: Request) -> bool:
    """A browser asking for the page (HTML, and no operation in the URL)."""
    params = request.query_params
    return (
        "text/html" in request.headers.get("accept", "")
        and "query" not in params
        and "extensions" not in params
    )


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
        websocket,
        state.live,
        state.credentials,
        state.subscriptions,
        state.rate_limits,
        websocket.app.state.shared_sockets,
        state.runtime.passthrough.multiplexes,
    )


async def metrics(request: Request) -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


async def health(request: Request) -> Response:
    """Up (200) with the supergraph's digest and each subgraph's circuit; "degraded" while a
    circuit is not closed (still 200: the router serves the rest of the graph); whether its
    hot modules run compiled ("native") or not ("pure")."""
    live = _state(request).live
    gateway = live.gateway
    circuits = circuit_states(gateway.transport, gateway.supergraph.subgraphs)
    degraded = any(state in ("open", "half_open") for state in circuits.values())
    return JSONResponse(
        {
            "status": "degraded" if degraded else "ok",
            "supergraph": live.digest[:12],
            "subgraphs": {name: {"circuit": state} for name, state in circuits.items()},
            "execution": native.in_use(),  # its hot modules compiled (router.native) or not
        }
    )


async def ready(request: Request) -> Response:
    """200 while the supergraph is loaded and (with `readiness.subgraphs`) every subgraph's
    last health check passed; else 503 naming what is not ready."""
    state = _state(request)
    readiness: Readiness = request.app.state.readiness
    section = state.config.health_check.readiness
    problems = readiness.problems(state.live.urls, section)
    body: dict[str, Any] = {
        "status": "unavailable" if problems else "ready",
        "supergraph": state.live.digest[:12],
    }
    if section.subgraphs:
        body["subgraphs"] = {name: problems.get(name, "up") for name in state.live.urls}
    return JSONResponse(body, status_code=503 if problems else 200)


def _readiness_settings(app: Starlette) -> tuple[Mapping[str, str], ReadinessSection]:
    state: RouterState = app.state.router
    return state.live.urls, state.config.health_check.readiness


def routes(config: RouterConfig) -> list[BaseRoute]:
    """The endpoints at the paths ``config`` gives them."""
    graphql = config.supergraph.path
    found: list[BaseRoute] = [Route(graphql, graphql_endpoint, methods=["GET", "POST"])]
    if config.subscription.enabled:
        found.append(WebSocketRoute(graphql, websocket_endpoint))
    if config.health_check.enabled:
        found.append(Route(config.health_check.path, health, methods=["GET"]))
        found.append(Route(config.health_check.readiness.path, ready, methods=["GET"]))
    prometheus = config.telemetry.exporters.metrics.prometheus
    if prometheus.enabled:
        found.append(Route(prometheus.path, metrics, methods=["GET"]))
    found.append(GRAPHIQL.route)
    return found


def _fixed_at_start(config: RouterConfig) -> dict[str, object]:
    """What only a restart changes: the listening socket, the HTTP server's bounds, logging."""
    return {
        "supergraph.listen": config.supergraph.listen,
        "limits.http1_max_request_headers_bytes": config.limits.http1_max_request_headers_bytes,
        "limits.request_head_timeout": config.limits.request_head_timeout,
        "limits.request_body_timeout": config.limits.request_body_timeout,
        "telemetry.exporters.logging.level": config.telemetry.exporters.logging.level,
        "telemetry.exporters.tracing": config.telemetry.exporters.tracing,
    }


async def reconfigure(app: Starlette, config: RouterConfig) -> None:
    """Serve ``config`` from now on: a new state and new gateways and transports; requests in
    flight finish on the old ones. Raises, the old configuration kept, if it cannot be built."""
    wiring: Wiring = app.state.wiring
    old: RouterState = app.state.router
    built = wiring.runtime(config)
    persisted = PersistedQueries(config, old.persisted)  # (a manifest may not be readable)
    credentials = _credentials(built, old)
    fresh = credentials if credentials is not old.credentials else None
    if fresh is not None:
        await fresh.start()
    entity_cache = _entity_cache(config, old)
    try:
        old.live.reconfigure(
            built.url_overrides,
            wiring.transports(config, built),
            wiring.gateways(config, built, entity_cache),
        )
    except BaseException:
        if fresh is not None:
            await fresh.aclose()
        if persisted.cache is not old.persisted.cache:
            await persisted.aclose()
        if entity_cache is not None and entity_cache is not old.entity_cache:
            await entity_cache.aclose()
        raise
    new = router_state(config, old.live, built, credentials, persisted, entity_cache, old)
    app.state.router = new
    app.router.routes[:] = routes(config)
    if old.credentials is not None and old.credentials is not credentials:
        await old.credentials.aclose()
    if old.rate_limits is not new.rate_limits:
        await old.rate_limits.aclose()
    if old.persisted.cache is not new.persisted.cache:
        await old.persisted.aclose()
    if new.entity_cache is not old.entity_cache:
        if new.entity_cache is not None:
            new.entity_cache.start()
        if old.entity_cache is not None:
            await old.entity_cache.aclose()
    before, after = _fixed_at_start(old.config), _fixed_at_start(config)
    for key in (k for k in after if before[k] != after[k]):
        logger.warning("%s changed: it takes effect when the router restarts", key)


async def _watch_config(app: Starlette, source: ConfigSource, interval: float) -> None:
    assert source.path is not None
    path = source.path

    async def changed(text: str) -> None:
        try:
            config = source.parse(text)
        except ConfigError as failure:
            logger.error(
                "configuration %s refused, the previous one keeps serving", path,
                extra={"errors": list(failure.problems)},
            )  # fmt: skip
            return
        before: RouterConfig = app.state.router.config
        if config == before:
            return
        try:
            await reconfigure(app, config)
        except Exception as failure:  # e.g. a client kind not installed
            logger.error(
                "configuration %s refused, the previous one keeps serving", path,
                extra={"errors": [f"{path}: {failure}"]},
            )  # fmt: skip
            return
        changed = [k for k in type(config).model_fields if getattr(config, k) != getattr(before, k)]
        logger.info("configuration %s reloaded", path, extra={"changed": changed})

    await watch_file(path, interval, changed, "configuration")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, bool]]:
    """Starts and stops what the router runs beside its endpoints. Its state tells the
    WebSocket server whether to negotiate permessage-deflate (router/server/websocket_protocol.py;
    read as each connection opens, so a reloaded configuration changes it only at a restart)."""
    state: RouterState = app.state.router
    watching: Watching = app.state.watching
    logger.info("execution: %s", native.STATUS)
    if state.credentials is not None:
        await state.credentials.start()
    if state.entity_cache is not None:
        state.entity_cache.start()
    loop = asyncio.get_running_loop()
    watchers = []
    if watching.supergraph is not None:
        watchers.append(
            loop.create_task(watch_supergraph(state.live, watching.supergraph, watching.interval))
        )
    if watching.config is not None and watching.config.path is not None:
        watchers.append(loop.create_task(_watch_config(app, watching.config, watching.interval)))
    settings = functools.partial(_readiness_settings, app)
    watchers.append(loop.create_task(watch_readiness(app.state.readiness, settings)))
    try:
        yield {DEFLATE: state.config.subscription.permessage_deflate}
    finally:
        for watcher in watchers:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        state = app.state.router
        await state.live.aclose()
        await state.rate_limits.aclose()
        await state.persisted.aclose()
        if state.entity_cache is not None:
            await state.entity_cache.aclose()
        if state.credentials is not None:
            await state.credentials.aclose()
        await app.state.shared_sockets.aclose()
        app.state.access_lines.flush()  # the last requests' lines


@dataclass(frozen=True)
class Watching:
    """The files read again when they change, and how often they are looked at."""

    supergraph: Path | None
    config: ConfigSource | None
    interval: float


def create_app(
    supergraph_sdl: str,
    subgraph_url_overrides: Mapping[str, str] | None = None,
    *,
    transport: Transport | None = None,
    subgraph_timeout: float | None = None,
    subgraph_timeouts: Mapping[str, float] | None = None,
    client: ClientKind | None = None,
    max_subgraph_response_bytes: int | None = None,
    limits: Limits | None = None,
    uploads: UploadLimits | None = None,
    deduplicate: bool | None = None,
    watch: Path | None = None,
    watch_interval: float = 1.0,
    authentication: JwtConfig | None = None,
    authorization: AuthorizationConfig | None = None,
    api_keys: ApiKeyConfig | None = None,
    subscriptions: SubscriptionLimits | None = None,
    override_labels: Iterable[str] = (),
    config: RouterConfig | None = None,
    watch_config: ConfigSource | None = None,
    revocations: Revocations | None = None,
) -> Starlette:
    """The router on a supergraph, configured by ``config`` (`router.yaml`, `router.config`;
    every default without one); with ``watch``, reloaded whenever that supergraph file
    changes, and with ``watch_config``, whenever that configuration file does.

    The other keyword arguments, when given, win over what ``config`` says (and over every
    configuration reloaded later): ``uploads`` bounds GraphQL multipart requests (file
    uploads). A subgraph answer longer than ``max_subgraph_response_bytes`` is refused while
    it is read (an error for that fetch). Subscriptions are served over WebSocket at the
    GraphQL path, bounded by ``subscriptions``; with ``authentication``, a WebSocket client
    must present a valid access token in `connection_init`, and an HTTP request with a bad
    token is refused (401); `@authenticated`, `@requiresScopes` and `@policy` are enforced as
    ``authorization`` says (without ``authentication`` every caller is anonymous to them).
    With ``api_keys`` (and ``authentication``), an API key in `X-API-Key` is traded for an
    access token. ``revocations`` is the revocation list the configuration's JWT verification
    consults.
    Progressive `@override(label:)`s: a `percent(N)` label is taken over by a request with
    probability N%, any other label only when ``override_labels`` names it.
    """
    config = config or (watch_config.load() if watch_config else RouterConfig())
    if isinstance(override_labels, str):
        raise TypeError("override_labels is a collection of label names, not one string")
    given = {
        "url_overrides": subgraph_url_overrides,
        "subgraph_timeout": subgraph_timeout,
        "subgraph_timeouts": subgraph_timeouts,
        "client": client,
        "max_subgraph_response_bytes": max_subgraph_response_bytes,
        "limits": limits,
        "uploads": uploads,
        "deduplicate": deduplicate,
        "authentication": authentication,
        "authorization": authorization,
        "api_keys": api_keys,
        "subscriptions": subscriptions,
    }
    wiring = Wiring(
        {k: v for k, v in given.items() if v is not None},
        revocations,
        frozenset(override_labels),
        transport,
    )
    built = wiring.runtime(config)
    entity_cache = _entity_cache(config, None)
    live = LiveGateway(
        supergraph_sdl,
        built.url_overrides,
        wiring.transports(config, built),
        transport=transport,
        make_gateway=wiring.gateways(config, built, entity_cache),
    )
    app = Starlette(
        routes=routes(config),
        lifespan=lifespan,
        # outermost first; each reads its policy from `app.state.router` per request
        middleware=[
            Middleware(TracingMiddleware),  # outermost: the access line carries its trace id
            Middleware(AccessLogMiddleware),
            Middleware(CorsMiddleware),
            Middleware(CompressionMiddleware),
        ],
    )
    app.state.wiring = wiring
    app.state.watching = Watching(watch, watch_config, watch_interval)
    app.state.router = router_state(
        config, live, built, _credentials(built, None), PersistedQueries(config), entity_cache
    )
    app.state.live = live
    app.state.shared_sockets = SharedSockets()  # for the router's life, across reloads
    app.state.readiness = Readiness()
    app.state.access_lines = AccessLines()  # the access log's lines, written in batches
    app.state.operation_names = OperationNames()  # the labels of this router's requests
    return app
