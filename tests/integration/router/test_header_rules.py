"""Header rules (`headers:`): what each subgraph receives of the client's headers, observed
at the subgraphs, through a router on a real port."""

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as websockets_serve

from router.transport.websocket import PROTOCOL
from tests.configured_router import configured_router, subgraphs_served
from tests.integration.router.subgraphs import Subgraph
from tests.support import eventually
from tests.unit.router.supergraphs import supergraph
from tests.ws import TRANSPORT_WS, graphql_socket

# products answers topProduct, reviews its reviews: one request to each
QUERY = "{ topProduct { name reviews { body } } }"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
async def urls(subgraphs: dict[str, Subgraph]) -> AsyncIterator[dict[str, str]]:
    async with subgraphs_served(subgraphs) as served:
        yield served


async def _seen(
    urls: dict[str, str],
    subgraphs: dict[str, Subgraph],
    config: dict[str, Any],
    headers: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    """The headers products and reviews received for one query sent with `headers`."""
    async with configured_router(config, urls) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert "errors" not in response.json(), response.json()
    return dict(subgraphs["products"].headers[-1]), dict(subgraphs["reviews"].headers[-1])


async def test_without_rules_authorization_forwarded_for_and_trace_context_go_through(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    products, reviews = await _seen(
        urls,
        subgraphs,
        {},
        {
            "authorization": "Bearer t",
            "x-forwarded-for": "203.0.113.7",
            "traceparent": TRACEPARENT,
            "tracestate": "vendor=1",
            "x-tenant": "acme",
            "cookie": "session=secret",
        },
    )
    for seen in (products, reviews):
        assert seen["authorization"] == "Bearer t"
        # the address the router believes (its peer: no trusted proxies), not the client's own
        assert seen["x-forwarded-for"] == "127.0.0.1"
        assert (seen["traceparent"], seen["tracestate"]) == (TRACEPARENT, "vendor=1")
        assert "x-tenant" not in seen
        assert "cookie" not in seen


async def test_each_rule_kind_in_order_all_then_the_subgraphs_own(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    config = {
        "headers": {
            "all": {
                "request": [
                    {"propagate": {"named": "X-Tenant"}},
                    {"propagate": {"named": "x-old", "rename": "x-new"}},
                    {"propagate": {"named": "x-absent", "default": "fallback"}},
                    {"propagate": {"matching": "^x-team-"}},
                    {"insert": {"name": "x-router", "value": "lms"}},
                    {"remove": {"named": "x-team-secret"}},
                    {"remove": {"named": "authorization"}},
                ]
            },
            "subgraphs": {
                "reviews": {
                    "request": [
                        {"insert": {"name": "x-only-reviews", "value": "yes"}},
                        {"remove": {"matching": "^x-team-"}},
                    ]
                }
            },
        }
    }
    products, reviews = await _seen(
        urls,
        subgraphs,
        config,
        {
            "authorization": "Bearer t",
            "x-tenant": "acme",
            "x-old": "renamed",
            "x-team-a": "1",
            "x-team-secret": "s",
            "x-unlisted": "no",
        },
    )
    for seen in (products, reviews):
        assert seen["x-tenant"] == "acme"
        assert seen["x-new"] == "renamed"
        assert "x-old" not in seen
        assert seen["x-absent"] == "fallback"
        assert seen["x-router"] == "lms"
        assert "x-team-secret" not in seen
        assert "authorization" not in seen
        assert "x-unlisted" not in seen
    assert products["x-team-a"] == "1"
    assert "x-only-reviews" not in products
    assert reviews["x-only-reviews"] == "yes"
    assert "x-team-a" not in reviews


async def test_hop_by_hop_and_body_headers_are_never_forwarded_trace_context_always(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    everything = {"propagate": {"matching": ".*"}}
    config = {
        "headers": {
            "all": {
                "request": [
                    everything,
                    {"propagate": {"named": "keep-alive"}},
                    {"insert": {"name": "proxy-authorization", "value": "Basic inserted"}},
                    {"remove": {"matching": "^trace"}},
                ]
            }
        }
    }
    products, _ = await _seen(
        urls,
        subgraphs,
        config,
        {
            "host": "router.example",
            "content-type": "application/json; client=1",
            "accept": "application/json, client/1",
            "accept-encoding": "client-encoding",
            "te": "trailers",
            "keep-alive": "timeout=99",
            "proxy-authorization": "Basic client",
            "sec-websocket-key": "client",
            "traceparent": TRACEPARENT,
            "x-anything": "forwarded",
        },
    )
    assert products["x-anything"] == "forwarded"
    assert products["traceparent"] == TRACEPARENT
    assert products["host"] != "router.example"
    assert products["content-type"] == "application/json"
    assert "client" not in products.get("accept", "")
    assert products.get("accept-encoding") != "client-encoding"
    for name in ("te", "keep-alive", "proxy-authorization", "sec-websocket-key"):
        assert name not in products


async def test_identical_queries_in_flight_share_an_execution_only_with_the_same_headers(
    urls: dict[str, str], subgraphs: dict[str, Subgraph]
) -> None:
    config = {"headers": {"all": {"request": [{"propagate": {"named": "x-tenant"}}]}}}
    products = subgraphs["products"]
    products.gate = asyncio.Event()
    async with (
        configured_router(config, urls, deduplicate=True) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        sent = [
            asyncio.create_task(
                client.post("/graphql", json={"query": QUERY}, headers={"x-tenant": tenant})
            )
            for tenant in ("a", "a", "b", "b", "a")
        ]
        try:
            await eventually(lambda: products.arrived == 2)
        finally:
            products.gate.set()  # (also when the check fails: nothing is left waiting)
        answers = [(await task).json() for task in sent]
    assert all(answer == answers[0] for answer in answers)
    assert sorted(seen["x-tenant"] for seen in products.headers) == ["a", "b"]


# Subscriptions: the rules also choose the headers of the WebSocket to the subgraph

TICKS = supergraph(
    {"ticks": "http://ticks.local/graphql"},
    """
type Query @join__type(graph: TICKS) { version: Int @join__field(graph: TICKS) }

type Subscription @join__type(graph: TICKS) { tick: Int @join__field(graph: TICKS) }
""",
).replace("  query: Query\n", "  query: Query\n  subscription: Subscription\n", 1)


@pytest.fixture
async def ticks() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A subscription subgraph (graphql-transport-ws) that sends one tick per subscription
    and records each connection's upgrade headers and connection_init payload."""
    seen: list[dict[str, Any]] = []

    async def handler(connection: ServerConnection) -> None:
        init = json.loads(await connection.recv())
        assert connection.request is not None
        seen.append({"headers": dict(connection.request.headers), "init": init.get("payload")})
        await connection.send(json.dumps({"type": "connection_ack"}))
        async for raw in connection:
            message = json.loads(raw)
            if message.get("type") == "subscribe":
                tick = {"id": message["id"], "type": "next", "payload": {"data": {"tick": 1}}}
                await connection.send(json.dumps(tick))
                await connection.send(json.dumps({"id": message["id"], "type": "complete"}))

    async with websockets_serve(handler, "127.0.0.1", 0, subprotocols=[PROTOCOL]) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/graphql", seen


async def _subscribe_once(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    async with graphql_socket(url, TRANSPORT_WS, headers={"traceparent": TRACEPARENT}) as socket:
        await socket.send({"type": "connection_init", "payload": payload})
        assert (await socket.receive())["type"] == "connection_ack"
        operation = await socket.subscribe("subscription { tick }")
        return await socket.next_payload(operation)


async def test_the_websocket_to_a_subgraph_carries_what_the_rules_select(
    ticks: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = ticks
    config = {
        "headers": {
            "subgraphs": {
                "ticks": {
                    "request": [
                        {"propagate": {"matching": "^x-tenant$"}},
                        {"insert": {"name": "x-router", "value": "lms"}},
                    ]
                }
            }
        }
    }
    payload = {"Authorization": "Bearer t", "x-tenant": "acme", "bad\r\nname": "x"}
    async with configured_router({}, {"ticks": url}, TICKS) as plain:
        assert await _subscribe_once(plain, payload) == {"data": {"tick": 1}}
    async with configured_router(config, {"ticks": url}, TICKS) as ruled:
        assert await _subscribe_once(ruled, payload) == {"data": {"tick": 1}}
    without, with_rules = seen
    assert without["init"] == with_rules["init"] == {"Authorization": "Bearer t"}
    for connection in (without, with_rules):
        assert connection["headers"]["authorization"] == "Bearer t"
        assert connection["headers"]["traceparent"] == TRACEPARENT
    assert "x-tenant" not in without["headers"]
    assert (with_rules["headers"]["x-tenant"], with_rules["headers"]["x-router"]) == ("acme", "lms")
