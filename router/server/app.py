"""The Starlette application: `/graphql`, GraphiQL and `/health`."""

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from router.execution.errors import error
from router.server.gateway import Gateway, GraphQLResponse
from router.server.graphiql import GRAPHIQL_HTML
from router.server.http import BadRequest, read_request, respond
from router.supergraph import load_supergraph
from router.transport import HttpTransport, StreamTransport, Transport

logger = logging.getLogger("router")


def create_app(
    supergraph_sdl: str,
    subgraph_url_overrides: Mapping[str, str] | None = None,
    *,
    transport: Transport | None = None,
    subgraph_timeout: float = 30.0,
    subgraph_timeouts: Mapping[str, float] | None = None,
    client: Literal["streams", "httpx"] = "streams",
) -> Starlette:
    supergraph = load_supergraph(supergraph_sdl)
    urls = {name: sub.url for name, sub in supergraph.subgraphs.items()}
    urls.update(subgraph_url_overrides or {})
    kind = StreamTransport if client == "streams" else HttpTransport
    chosen = transport or kind(urls, subgraph_timeout, subgraph_timeouts)
    gateway = Gateway(supergraph, chosen)

    async def graphql(request: Request) -> Response:
        wants_html = "text/html" in request.headers.get("accept", "")
        if request.method == "GET" and wants_html and "query" not in request.query_params:
            return HTMLResponse(GRAPHIQL_HTML)
        try:
            graphql_request = await read_request(request)
        except BadRequest as bad:
            return respond(
                request,
                GraphQLResponse(bad.status, {"errors": [error(bad.message, bad.code)]}),
            )
        try:
            result = await gateway.execute(graphql_request)
        except Exception:
            logger.exception("unexpected failure while executing an operation")
            result = GraphQLResponse(
                500, {"errors": [error("internal server error", "INTERNAL_SERVER_ERROR")]}
            )
        return respond(request, result)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await chosen.aclose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
