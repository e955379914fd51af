"""Small in-process federation subgraphs (graphql-core) for router execution tests."""

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from graphql import GraphQLSchema, build_schema, graphql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

Reference = Callable[[dict[str, Any]], Any]

_FEDERATION = """
scalar _Any
union _Entity = {entities}
extend type Query {{ _entities(representations: [_Any!]!): [_Entity]! }}
"""


@dataclass
class Subgraph:
    """A subgraph: plain SDL, a root value, reference resolvers, and a request log."""

    sdl: str
    root: dict[str, Any] = field(default_factory=dict)
    references: dict[str, Reference] = field(default_factory=dict)
    delay: float = 0.0
    down: bool = False
    # while set and not open, requests wait at the door: a subgraph as slow as a test needs
    gate: asyncio.Event | None = None
    arrived: int = 0  # requests that reached the subgraph, counted before any wait
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[Mapping[str, str]] = field(default_factory=list)
    schema: GraphQLSchema | None = None
    # the `Cache-Control` header of its answers: a value, or one per request body
    cache_control: str | Callable[[dict[str, Any]], str | None] | None = None

    def build(self) -> GraphQLSchema:
        sdl = self.sdl
        if self.references:
            sdl += _FEDERATION.format(entities=" | ".join(self.references))
        schema = build_schema(sdl)
        entity = schema.type_map.get("_Entity")
        if entity is not None:
            entity.resolve_type = lambda value, *_: value.get("__typename")  # type: ignore[attr-defined]
        self.schema = schema
        return schema

    def entities(self, representations: list[dict[str, Any]]) -> list[Any]:
        results = []
        for representation in representations:
            found = self.references[representation["__typename"]](representation)
            if isinstance(found, dict) and "__typename" not in found:
                found = {"__typename": representation["__typename"], **found}
            results.append(found)
        return results


def _resolve(source: Any, info: Any, **args: Any) -> Any:
    value = source.get(info.field_name) if isinstance(source, dict) else None
    if isinstance(value, Exception):
        raise value
    return value(**args) if callable(value) else value


def subgraph_app(subgraph: Subgraph) -> Starlette:
    schema = subgraph.build()

    async def endpoint(request: Request) -> Response:
        if subgraph.down:
            return Response("unavailable", status_code=503, media_type="text/plain")
        subgraph.arrived += 1
        if subgraph.gate is not None:
            await subgraph.gate.wait()
        if subgraph.delay:
            await asyncio.sleep(subgraph.delay)
        payload = json.loads(await request.body())
        subgraph.requests.append(payload)
        subgraph.headers.append(dict(request.headers))
        root = dict(subgraph.root)
        if subgraph.references:
            root["_entities"] = lambda representations: subgraph.entities(representations)
        result = await graphql(
            schema,
            payload["query"],
            root_value=root,
            variable_values=payload.get("variables"),
            field_resolver=_resolve,
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        policy = subgraph.cache_control
        if callable(policy):
            policy = policy(payload)
        return JSONResponse(body, headers={"cache-control": policy} if policy else None)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/graphql", endpoint, methods=["POST"]), Route("/health", health)]
    )


def mounted(apps: Mapping[str, ASGIApp]) -> Starlette:
    """Several ASGI apps in one, each under /<name>."""
    return Starlette(routes=[Mount(f"/{name}", app) for name, app in apps.items()])


def subgraphs_app(subgraphs: dict[str, Subgraph]) -> Starlette:
    """All subgraphs in one app, each at /<name>/graphql."""
    return mounted({name: subgraph_app(sub) for name, sub in subgraphs.items()})


def local_client(app: ASGIApp) -> httpx.AsyncClient:
    """An httpx client whose requests to http://<name>.local/<path> reach /<name>/<path>."""

    class _ByHost(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=app)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            host = request.url.host.removesuffix(".local")
            request.url = request.url.copy_with(host="subgraphs", path=f"/{host}{request.url.path}")
            return await self.inner.handle_async_request(request)

    return httpx.AsyncClient(transport=_ByHost())


def subgraphs_client(subgraphs: dict[str, Subgraph]) -> httpx.AsyncClient:
    """One httpx client whose requests to http://<name>.local/graphql reach the subgraphs."""
    return local_client(subgraphs_app(subgraphs))
