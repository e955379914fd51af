"""Malformed input against the platform: each class sent through the router and straight to
a subgraph (built by the subgraph factory, so every subgraph answers alike) gets a JSON error
with a code, never a 500 or a stack trace. Slow clients are cut off at a subgraph too."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from common.infra.ports import free_port
from common.settings import Settings
from lms import services
from router.server.http_protocol import ConnectionLimits
from tests.accounts import PASSWORD, REGISTER, register
from tests.support import GraphQLClient, error_codes, raw_connection, serve
from tests.ws import TRANSPORT_WS, graphql_socket

SEARCH = "query($q: String!) { searchCourses(query: $q, first: 5) { totalCount } }"
CATEGORY_ADDED = "subscription($c: NotificationCategory) { notificationAdded(category: $c) { id } }"
JSON_HEADERS = {"content-type": "application/json"}


@dataclass(frozen=True)
class Endpoint:
    url: str
    # The router answers a request error (no data) with a 400, as Apollo Router does; a
    # subgraph, as GraphQL over HTTP says for application/json, with a 200.
    request_error_status: int


@pytest.fixture(params=["router", "subgraph"])
def endpoint(request: pytest.FixtureRequest, router_url: str, users_url: str) -> Endpoint:
    """A GraphQL endpoint: the router's, or the users subgraph's own."""
    if request.param == "router":
        return Endpoint(f"{router_url}/graphql", 400)
    return Endpoint(f"{users_url}/graphql", 200)


@pytest.fixture(params=["router", "subgraph"])
def courses(request: pytest.FixtureRequest, router_url: str, subgraph_urls: dict[str, str]) -> str:
    """Where `searchCourses` is asked: through the router, or at the courses subgraph."""
    base = router_url if request.param == "router" else subgraph_urls["courses"]
    return f"{base}/graphql"


def _refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    assert error_codes(response.json())[0] == code, response.text
    message: str = response.json()["errors"][0]["message"]
    return message


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_json_nested_100000_deep_is_a_400(
    endpoint: Endpoint, http: httpx.AsyncClient
) -> None:
    body = '{"query": "{ me { id } }", "variables": {"x": ' + _nested(100_000) + "}}"
    async with asyncio.timeout(10):  # a deadline: no recursion, no hang
        response = await http.post(endpoint.url, content=body, headers=JSON_HEADERS)
    _refused(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ me { id } }", "variables": {"x": "\\ud800"}}',
        b'{"query": "{ me { id } }", "variables": {"x": "\\udc00"}}',
        b'{"query": "{ me { id } }", "variables": {"x": "\xff"}}',
        b'{"query": "{ me { id } }", "variables": {"x": "\xed\xa0\x80"}}',
    ],
    ids=["lone-high-surrogate", "lone-low-surrogate", "invalid-utf8", "utf8-surrogate"],
)
async def test_text_that_is_not_unicode_is_a_400(
    endpoint: Endpoint, http: httpx.AsyncClient, body: bytes
) -> None:
    _refused(await http.post(endpoint.url, content=body, headers=JSON_HEADERS), 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "query_string",
    [
        "query=%7Bme%7Bid%7D%7D&variables=%7B%22x%22%3A%22%FF%22%7D",
        "query=%7Bme%7Bid%7D%7D&variables=%7B%22x%22%3A%22%ED%A0%80%22%7D",
        "query=%7Bme%7Bid%7D%7D&variables=%7B%22x%22%3A%22%5Cud800%22%7D",
        "query=%7Bme%7Bid%7D%7D%23%FF",
    ],
    ids=["invalid-utf8", "utf8-surrogate", "escaped-lone-surrogate", "invalid-utf8-in-query"],
)
async def test_get_parameters_that_are_not_unicode_are_a_400(
    endpoint: Endpoint, http: httpx.AsyncClient, query_string: str
) -> None:
    response = await http.get(f"{endpoint.url}?{query_string}")
    _refused(response, 400, "BAD_REQUEST")


async def test_variables_nested_1000_deep_are_refused_by_the_router(
    router_url: str, http: httpx.AsyncClient
) -> None:
    body = '{"query": "' + SEARCH + '", "variables": {"q": ' + _nested(1000) + "}}"
    response = await http.post(f"{router_url}/graphql", content=body, headers=JSON_HEADERS)
    assert "nested more than 200 levels deep" in _refused(response, 400, "BAD_REQUEST")


async def test_variables_nested_1000_deep_are_refused_by_a_subgraph(
    users_url: str, http: httpx.AsyncClient
) -> None:
    # Entity representations are a custom scalar (_Any): coercion would take any depth.
    query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    representation = '{"__typename": "User", "id": ' + _nested(1000) + "}"
    body = '{"query": "' + query + '", "variables": {"r": [' + representation + "]}}"
    response = await http.post(f"{users_url}/graphql", content=body, headers=JSON_HEADERS)
    # GraphQL over HTTP with application/json: a request error comes with a 200
    message = _refused(response, 200, "BAD_USER_INPUT")
    assert "Variable '$r' is nested more than 200 levels deep" in message


async def test_literals_nested_1000_deep_are_a_parse_error(
    endpoint: Endpoint, http: httpx.AsyncClient
) -> None:
    query = "{ me(x: " + _nested(1000) + ") { id } }"
    response = await http.post(endpoint.url, json={"query": query})
    _refused(response, endpoint.request_error_status, "GRAPHQL_PARSE_FAILED")


@pytest.mark.parametrize("query", ["query Q {}", "{}", "{ me {} }"])
async def test_an_empty_selection_set_is_a_parse_error(
    endpoint: Endpoint, http: httpx.AsyncClient, query: str
) -> None:
    response = await http.post(endpoint.url, json={"query": query})
    message = _refused(response, endpoint.request_error_status, "GRAPHQL_PARSE_FAILED")
    assert "Syntax Error" in message


@pytest.mark.parametrize("content_type", [None, "text/plain"])
async def test_a_post_without_a_json_content_type_is_a_415(
    endpoint: Endpoint, http: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await http.post(endpoint.url, content=b'{"query": "{ me { id } }"}', headers=headers)
    assert "application/json" in _refused(response, 415, "INVALID_CONTENT_TYPE_HEADER")


# NUL characters: PostgreSQL cannot store them, so no resolver may pass one to it


@pytest.mark.parametrize(
    "query",
    [
        (SEARCH, {"q": "intro\u0000duction"}),
        ('{ searchCourses(query: "intro\\u0000duction", first: 5) { totalCount } }', None),
    ],
    ids=["variable", "literal"],
)
async def test_a_nul_in_search_is_bad_user_input_not_a_database_error(
    courses: str, http: httpx.AsyncClient, query: tuple[str, dict[str, str] | None]
) -> None:
    document, variables = query
    response = await http.post(courses, json={"query": document, "variables": variables})
    assert response.status_code == 200  # a request error from the subgraph, data null
    body = response.json()
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "NUL" in body["errors"][0]["message"]
    assert body.get("data") is None
    clean = await http.post(courses, json={"query": SEARCH, "variables": {"q": "introduction"}})
    assert "errors" not in clean.json(), clean.json()


async def test_a_nul_in_a_mutation_input_is_refused_before_anything_is_stored(
    users: GraphQLClient,
) -> None:
    email = f"nul-{uuid.uuid4().hex[:12]}@example.org"
    refused = await users.execute(
        REGISTER, {"input": {"email": email, "password": PASSWORD, "name": "Nul\u0000l"}}
    )
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert "NUL" in refused["errors"][0]["message"]
    # nothing was stored: the same address registers afterwards
    accepted = await users.data(
        REGISTER, {"input": {"email": email, "password": PASSWORD, "name": "Null"}}
    )
    assert accepted["register"]["user"]["email"] == email


# WebSocket messages are parsed as strictly as HTTP bodies


@pytest.mark.parametrize("where", ["router", "subgraph"])
async def test_a_websocket_message_that_is_not_json_closes_with_4400(
    where: str, router_url: str, subgraph_urls: dict[str, str]
) -> None:
    url = router_url if where == "router" else subgraph_urls["notifications"]
    async with graphql_socket(url, TRANSPORT_WS) as socket:
        await socket.send('{"type": "connection_init", "payload": ' + _nested(5000) + "}")
        assert (await socket.closed())[0] == 4400
    async with graphql_socket(url, TRANSPORT_WS) as socket:
        await socket.send('{"type": "connection_init", "payload": {"x": "\\ud800"}}')
        assert (await socket.closed())[0] == 4400


@pytest.mark.parametrize("where", ["router", "subgraph"])
async def test_websocket_variables_nested_1000_deep_are_an_operation_error(
    where: str, router_url: str, subgraph_urls: dict[str, str], users: GraphQLClient
) -> None:
    learner = await register(users, name="Deep Diver")
    url = router_url if where == "router" else subgraph_urls["notifications"]
    async with graphql_socket(url, TRANSPORT_WS) as socket:
        assert (await socket.init(learner.access_token))["type"] == "connection_ack"
        operation = "deep"
        payload = '{"query": "' + CATEGORY_ADDED + '", "variables": {"c": ' + _nested(1000) + "}}"
        await socket.send('{"id": "deep", "type": "subscribe", "payload": ' + payload + "}")
        message = await socket.receive()
        assert (message["id"], message["type"]) == (operation, "error"), message
        [error] = message["payload"]
        assert "nested more than 200 levels deep" in error["message"]
        assert error["extensions"]["code"] == (
            "BAD_REQUEST" if where == "router" else "BAD_USER_INPUT"
        )
        ok = await socket.subscribe("{ __typename }")
        assert (await socket.next_payload(ok))["data"] == {"__typename": "Query"}


# Slow clients at a subgraph served as `lms serve` serves it

LIMITS = ConnectionLimits(head_timeout=1.0, body_timeout=1.0)
BOUND = 5.0


@pytest.fixture
async def slow_guarded_users(migrated: Settings) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    async with serve(services.create_app("users", migrated), port, LIMITS):
        yield "127.0.0.1", port


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    received = b""
    async with asyncio.timeout(BOUND):
        while chunk := await reader.read(65536):
            received += chunk
    return received


@pytest.mark.parametrize(
    "sent",
    [
        b"POST /graphql HTTP/1.1\r\nHost: users\r\nContent-Ty",
        b"POST /graphql HTTP/1.1\r\nHost: users\r\nContent-Type: application/json\r\n"
        b'Content-Length: 40\r\n\r\n{"query": "{ me',
    ],
    ids=["half-a-head", "half-a-body"],
)
async def test_a_subgraph_cuts_off_a_slow_client(
    slow_guarded_users: tuple[str, int], sent: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async with raw_connection(*slow_guarded_users) as (reader, writer):
        writer.write(sent)
        await writer.drain()
        received = await _read_until_closed(reader)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert error_codes(json.loads(body)) == ["REQUEST_TIMEOUT"]
    host, port = slow_guarded_users
    async with httpx.AsyncClient() as client:
        ordinary = await client.post(
            f"http://{host}:{port}/graphql", json={"query": "{ me { id } }"}
        )
    assert ordinary.status_code == 200
    assert "Exception in ASGI application" not in caplog.text
