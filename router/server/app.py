"""The Starlette application: `/graphql`, GraphiQL and `/health`."""

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from graphiql_assets import GRAPHIQL
from router.execution.errors import error
from router.policies.api_keys import ApiKeyConfig, ApiKeysUnavailable
from router.policies.authentication import AuthenticationFailed, Caller, JwtConfig
from router.policies.authorization import AuthorizationConfig
from router.policies.credentials import Credentials
from router.server.errors import BadRequest
from router.server.gateway import Gateway, GraphQLRequest, GraphQLResponse
from router.server.http import read_request, respond
from router.server.limits import Limits
from router.server.reload import LiveGateway, watch_file
from router.server.uploads import UploadLimits
from router.subscriptions.connection import serve_websocket
from router.subscriptions.limits import SubscriptionLimits
from router.supergraph.model import Supergraph
from router.transport import HttpTransport, StreamTransport, Transport
from router.transport.base import DEFAULT_MAX_RESPONSE_BYTES

logger = logging.getLogger("router")


async def _identify(
    credentials: Credentials | None, request: Request, graphql_request: GraphQLRequest
) -> tuple[GraphQLRequest, Caller | None] | GraphQLResponse:
    """The request as the subgraphs get it (with the verified token, an API key's too) and
    its caller, or the answer refusing it."""
    if credentials is None:
        return graphql_request, None
    headers = graphql_request.headers or {}
    try:
        caller = await credentials.caller(request.headers, headers.get("x-forwarded-for"))
    except AuthenticationFailed as failure:
        return GraphQLResponse(401, {"errors": [error(failure.message, "UNAUTHENTICATED")]})
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
    """
    if isinstance(override_labels, str):
        raise TypeError("override_labels is a collection of label names, not one string")
    labels = frozenset(override_labels)
    credentials = Credentials(authentication, api_keys) if authentication else None
    subscription_limits = subscriptions or SubscriptionLimits()
    upload_limits = uploads or UploadLimits()
    kind = _transport_kind(client)

    def make_transport(urls: Mapping[str, str]) -> Transport:
        return kind(
            dict(urls),
            subgraph_timeout,
            subgraph_timeouts,
            max_response_bytes=max_subgraph_response_bytes,
        )

    def make_gateway(supergraph: Supergraph, chosen: Transport) -> Gateway:
        return Gateway(
            supergraph,
            chosen,
            limits=limits,
            deduplicate=deduplicate,
            authorization=authorization,
            override_labels=labels,
        )

    live = LiveGateway(
        supergraph_sdl,
        subgraph_url_overrides or {},
        make_transport,
        transport=transport,
        make_gateway=make_gateway,
    )

    async def graphql(request: Request) -> Response:
        wants_html = "text/html" in request.headers.get("accept", "")
        if request.method == "GET" and wants_html and "query" not in request.query_params:
            return GRAPHIQL.page(request)
        try:
            graphql_request = await read_request(request, upload_limits)
        except BadRequest as bad:
            return respond(
                request,
                GraphQLResponse(bad.status, {"errors": [error(bad.message, bad.code)]}),
            )
        identified = await _identify(credentials, request, graphql_request)
        if isinstance(identified, GraphQLResponse):
            return respond(request, identified)
        graphql_request, caller = identified
        async with live.use() as gateway:
            try:
                result = await gateway.execute(graphql_request, caller)
            except Exception:
                logger.exception("unexpected failure while executing an operation")
                result = GraphQLResponse(
                    500, {"errors": [error("internal server error", "INTERNAL_SERVER_ERROR")]}
                )
        return respond(request, result)

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await serve_websocket(websocket, live, credentials, subscription_limits)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "supergraph": live.digest[:12]})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if credentials is not None:
            await credentials.start()
        watcher = None
        if watch is not None:
            watcher = asyncio.get_running_loop().create_task(
                watch_file(live, watch, watch_interval)
            )
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await live.aclose()
            if credentials is not None:
                await credentials.aclose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", websocket_endpoint),
            Route("/health", health, methods=["GET"]),
            GRAPHIQL.route,
        ],
        lifespan=lifespan,
    )
    app.state.live = live
    return app
