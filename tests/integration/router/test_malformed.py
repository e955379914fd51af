"""Malformed input at the router: every class gets a 4xx JSON answer with a code, in bounded
time, and no subgraph is called. Slow clients (slowloris) are cut off by the server."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as websockets_serve

from common.infra.ports import free_port
from router.gateway.variables import MAX_VARIABLE_DEPTH
from router.server import create_app
from router.server.http_protocol import ConnectionLimits
from router.transport import HttpTransport
from router.transport.websocket import PROTOCOL, SubgraphSocket, SubgraphStreamError
from tests.integration.router.conftest import SUPERGRAPH
from tests.integration.router.subgraphs import Subgraph, subgraphs_client
from tests.support import raw_connection, serve
from tests.unit.router.supergraphs import local_graphs

JSON = {"content-type": "application/json"}
BY_ID = "query($id: ID!) { product(id: $id) { name } }"


def _refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    message: str = error["message"]
    return message


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_json_nested_100000_deep_is_a_400(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = '{"query": "{ topProduct { id } }", "variables": {"x": ' + _nested(100_000) + "}}"
    async with asyncio.timeout(10):  # a deadline: no recursion, no hang
        response = await router.post("/graphql", content=body, headers=JSON)
    assert "not valid JSON" in _refused(response, 400, "BAD_REQUEST")
    assert not any(subgraph.requests for subgraph in subgraphs.values())


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "' + BY_ID.encode() + b'", "variables": {"id": "\\ud800"}}',
        b'{"query": "{ product(id: \\"\\udc00\\") { name } }"}',
        b'{"query": "{ product(id: \\"\xff\\") { name } }"}',
        b'{"query": "{ product(id: \\"\xed\xa0\x80\\") { name } }"}',  # an encoded surrogate
    ],
    ids=[
        "lone-surrogate-in-variables",
        "lone-surrogate-in-query",
        "invalid-utf8",
        "utf8-surrogate",
    ],
)
async def test_text_that_is_not_unicode_is_a_400(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], body: bytes
) -> None:
    _refused(await router.post("/graphql", content=body, headers=JSON), 400, "BAD_REQUEST")
    assert not any(subgraph.requests for subgraph in subgraphs.values())


@pytest.mark.parametrize(
    "query_string",
    [
        "query=%7Bproduct(id%3A%22%FF%22)%7Bname%7D%7D",
        "query=%7Bproduct(id%3A%22%ED%A0%80%22)%7Bname%7D%7D",
        "query=query(%24id%3AID!)%7Bproduct(id%3A%24id)%7Bname%7D%7D&variables=%7B%22id%22%3A%22%FF%22%7D",
        "query=query(%24id%3AID!)%7Bproduct(id%3A%24id)%7Bname%7D%7D&variables=%7B%22id%22%3A%22%5Cud800%22%7D",
    ],
    ids=[
        "query-invalid-utf8",
        "query-utf8-surrogate",
        "variables-invalid-utf8",
        "variables-lone-surrogate",
    ],
)
async def test_get_parameters_that_are_not_unicode_are_a_400(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], query_string: str
) -> None:
    response = await router.get(f"/graphql?{query_string}")
    _refused(response, 400, "BAD_REQUEST")
    assert not any(subgraph.requests for subgraph in subgraphs.values())


async def test_unicode_get_parameters_still_work(router: httpx.AsyncClient) -> None:
    params = {"query": BY_ID, "variables": json.dumps({"id": "p1 é"})}
    response = await router.get("/graphql", params=params)
    assert response.json() == {"data": {"product": None}}
    response = await router.get("/graphql", params={"query": BY_ID, "variables": '{"id":"p1"}'})
    assert response.json() == {"data": {"product": {"name": "Chair"}}}


async def test_variables_nested_1000_deep_are_a_400(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph]
) -> None:
    body = '{"query": "' + BY_ID + '", "variables": {"id": ' + _nested(1000) + "}}"
    message = _refused(
        await router.post("/graphql", content=body, headers=JSON), 400, "BAD_REQUEST"
    )
    assert f"nested more than {MAX_VARIABLE_DEPTH} levels deep" in message
    # at the bound the value is coerced as usual (and refused by its type, ID)
    within = {"query": BY_ID, "variables": {"id": json.loads(_nested(MAX_VARIABLE_DEPTH))}}
    _refused(await router.post("/graphql", json=within), 400, "BAD_USER_INPUT")
    assert not any(subgraph.requests for subgraph in subgraphs.values())


async def test_literals_nested_1000_deep_are_a_parse_error(router: httpx.AsyncClient) -> None:
    query = "{ product(id: " + _nested(1000) + ") { name } }"
    response = await router.post("/graphql", json={"query": query})
    _refused(response, 400, "GRAPHQL_PARSE_FAILED")


@pytest.mark.parametrize(
    "query",
    ["query Q {}", "{}", "{ topProduct {} }", "{ topProduct { ...F } } fragment F on Product {}"],
)
async def test_an_empty_selection_set_is_a_parse_error(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], query: str
) -> None:
    response = await router.post("/graphql", json={"query": query})
    assert "Syntax Error" in _refused(response, 400, "GRAPHQL_PARSE_FAILED")
    response = await router.get("/graphql", params={"query": query})
    _refused(response, 400, "GRAPHQL_PARSE_FAILED")
    assert not any(subgraph.requests for subgraph in subgraphs.values())


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "application/x-www-form-urlencoded"]
)
async def test_a_post_without_a_json_content_type_is_a_415(
    router: httpx.AsyncClient, subgraphs: dict[str, Subgraph], content_type: str | None
) -> None:
    request = router.build_request(
        "POST", "/graphql", content=b'{"query": "{ topProduct { id } }"}'
    )
    assert "content-type" not in request.headers  # httpx sends none for raw content
    if content_type is not None:
        request.headers["content-type"] = content_type
    message = _refused(await router.send(request), 415, "INVALID_CONTENT_TYPE_HEADER")
    assert ("no Content-Type" in message) == (not content_type)
    assert not any(subgraph.requests for subgraph in subgraphs.values())


# Slow clients, against a real server (uvicorn as `router serve` runs it)

LIMITS = ConnectionLimits(head_timeout=1.0, body_timeout=1.0)
BOUND = 5.0  # generous: the server must act within a second or so


@pytest.fixture
async def served_router(subgraphs: dict[str, Subgraph]) -> AsyncIterator[tuple[str, int]]:
    transport = HttpTransport(local_graphs(*subgraphs), client=subgraphs_client(subgraphs))
    port = free_port()
    try:
        async with serve(create_app(SUPERGRAPH, transport=transport), port, LIMITS):
            yield "127.0.0.1", port
    finally:
        await transport.aclose()


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    received = b""
    async with asyncio.timeout(BOUND):
        while chunk := await reader.read(65536):
            received += chunk
    return received


def _status_and_code(received: bytes) -> tuple[bytes, str]:
    head, _, body = received.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)["errors"][0]["extensions"]["code"]


async def test_half_a_request_head_is_cut_off(served_router: tuple[str, int]) -> None:
    async with raw_connection(*served_router) as (reader, writer):
        writer.write(b"POST /graphql HTTP/1.1\r\nHost: router\r\nContent-Type: applica")
        await writer.drain()
        received = await _read_until_closed(reader)
    assert _status_and_code(received) == (b"HTTP/1.1 408 Request Timeout", "REQUEST_TIMEOUT")


async def test_a_head_sent_a_byte_at_a_time_is_cut_off(served_router: tuple[str, int]) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: router\r\n" + b"X-Padding: slow\r\n" * 20 + b"\r\n"
    received = b""
    async with raw_connection(*served_router) as (reader, writer):
        async with asyncio.timeout(BOUND):  # the server must cut it off by then
            for byte in head:  # 400 bytes, one every 0.1 s: 40 s unless cut off
                writer.write(bytes([byte]))
                with contextlib.suppress(TimeoutError):
                    received = await asyncio.wait_for(reader.read(65536), 0.1)
                    break
            received += await _read_until_closed(reader)
    assert _status_and_code(received) == (b"HTTP/1.1 408 Request Timeout", "REQUEST_TIMEOUT")


async def test_an_endless_head_is_cut_off_at_its_size_bound(served_router: tuple[str, int]) -> None:
    async with raw_connection(*served_router) as (reader, writer):
        writer.write(b"GET /health HTTP/1.1\r\nHost: router\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(100):  # 100 x 1 KiB of headers, the bound is 64 KiB
                writer.write(b"X-Padding: " + b"p" * 1010 + b"\r\n")
                await writer.drain()
        received = await _read_until_closed(reader)
    assert _status_and_code(received) == (
        b"HTTP/1.1 431 Request Header Fields Too Large",
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
    )


@pytest.mark.parametrize("cut", ["head", "body"])
async def test_a_later_request_cut_off_on_a_kept_alive_connection(
    served_router: tuple[str, int], cut: str
) -> None:
    """The bounds hold for every request on a connection, not only its first: a request
    whose head or body stops coming after an answered one is cut off the same way."""
    body = b'{"query": "{ topProduct { id } }"}'
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    part = request[:30] if cut == "head" else request[:-5]
    async with raw_connection(*served_router) as (reader, writer):
        writer.write(request)
        async with asyncio.timeout(BOUND):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            assert json.loads(await reader.readexactly(length)) == {
                "data": {"topProduct": {"id": "p1"}}
            }
        writer.write(part)
        received = await _read_until_closed(reader)
    assert _status_and_code(received) == (b"HTTP/1.1 408 Request Timeout", "REQUEST_TIMEOUT")


async def test_what_is_not_http_is_a_json_400(served_router: tuple[str, int]) -> None:
    async with raw_connection(*served_router) as (reader, writer):
        writer.write(b"HELLO THERE\r\n\r\n")
        received = await _read_until_closed(reader)
    assert _status_and_code(received) == (b"HTTP/1.1 400 Bad Request", "BAD_REQUEST")


async def test_a_silent_connection_is_closed(served_router: tuple[str, int]) -> None:
    async with raw_connection(*served_router) as (reader, _):
        assert await _read_until_closed(reader) == b""  # nothing was asked, nothing answered


async def test_a_trickling_body_is_cut_off(
    served_router: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"query": "{ topProduct { id } }"}'
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    async with raw_connection(*served_router) as (reader, writer):
        writer.write(head + body[:5])
        await writer.drain()
        received = await _read_until_closed(reader)
    assert _status_and_code(received) == (b"HTTP/1.1 408 Request Timeout", "REQUEST_TIMEOUT")
    # not synchronisation: the absence of an error log cannot be waited for, only watched for
    # a while, in which the application sees the request end
    await asyncio.sleep(0.2)
    assert "Exception in ASGI application" not in caplog.text


async def test_ordinary_requests_still_work_and_keep_alive(
    served_router: tuple[str, int],
) -> None:
    host, port = served_router
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
        for _ in range(2):  # the second on the same kept-alive connection, after a pause
            response = await client.post("/graphql", json={"query": "{ topProduct { id } }"})
            assert response.json() == {"data": {"topProduct": {"id": "p1"}}}
            await asyncio.sleep(LIMITS.head_timeout + 0.5)  # the idle time under test


async def test_a_kept_alive_connection_outlasts_a_clients_idle_expiry(
    served_router: tuple[str, int],
) -> None:
    """The services call each other with httpx, which reuses a connection idle for up to
    5 s: a server closing at the same moment fails the request that reuses it."""
    request = b"GET /health HTTP/1.1\r\nHost: router\r\n\r\n"
    idle = (httpx.Limits().keepalive_expiry or 0.0) + 0.5
    async with raw_connection(*served_router) as (reader, writer):
        for pause in (idle, 0.0):  # the second request after the idle time under test
            writer.write(request)
            async with asyncio.timeout(BOUND):
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            assert head.startswith(b"HTTP/1.1 200")
            await asyncio.sleep(pause)


# What a subgraph sends back is parsed as strictly


async def test_a_subgraph_acknowledging_a_websocket_with_garbage_is_a_coded_error() -> None:
    async def garbage(connection: ServerConnection) -> None:
        await connection.recv()  # connection_init
        await connection.send('{"type": "connection_ack", "payload": "\\ud800"}')
        await connection.wait_closed()

    async with websockets_serve(garbage, "127.0.0.1", 0, subprotocols=[PROTOCOL]) as server:
        port = server.sockets[0].getsockname()[1]
        socket = SubgraphSocket("reviews", f"http://127.0.0.1:{port}/graphql", {}, {})
        try:
            with pytest.raises(SubgraphStreamError) as failure:
                async for _ in socket.subscribe({"query": "subscription { reviewAdded { id } }"}):
                    pass
        finally:
            await socket.aclose()
    assert failure.value.errors[0]["extensions"]["code"] == "SUBREQUEST_WEBSOCKET_ERROR"
