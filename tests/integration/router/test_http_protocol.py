"""The router's HTTP/1.1 server (`BoundedHttpProtocol`, its `LeanCycle` answers) on a real
socket, read byte for byte as a client reads them: answers of a known length (their head
and body written together), streamed answers (their head at once), HEAD, keep-alive and
Connection: close, HTTP/1.0, pipelining, Expect: 100-continue, chunked request bodies."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from common.infra.ports import free_port
from tests.integration.router.served import served_router
from tests.support import raw_connection, serve

BOUND = 10.0  # seconds: a bound on a hang, never a speed assertion
QUERY = b'{"query": "{ topProduct { id } }"}'
ANSWER = {"data": {"topProduct": {"id": "p1"}}}


def _post(body: bytes = QUERY, extra: bytes = b"", version: bytes = b"1.1") -> bytes:
    return (
        b"POST /graphql HTTP/" + version + b"\r\nHost: router\r\n"
        b"Content-Type: application/json\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body


def _connection(
    url: str,
) -> contextlib.AbstractAsyncContextManager[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    host, port = url.removeprefix("http://").split(":")
    return raw_connection(host, int(port))


async def _answer(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """One answer of a known length: its status line, headers and body."""
    async with asyncio.timeout(BOUND):
        head = await reader.readuntil(b"\r\n\r\n")
        status, *lines = head[:-4].split(b"\r\n")
        headers = dict(line.lower().split(b": ", 1) for line in lines)
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status, headers, body


async def _closed(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(BOUND):
        return await reader.read()


@pytest.fixture
async def router() -> AsyncIterator[str]:
    async with served_router() as url:
        yield url


async def test_answers_on_a_kept_alive_connection(router: str) -> None:
    async with _connection(router) as (reader, writer):
        for _ in range(3):
            writer.write(_post())
            status, headers, body = await _answer(reader)
            assert status == b"HTTP/1.1 200 OK"
            assert headers[b"content-type"] == b"application/json"
            assert json.loads(body) == ANSWER
            assert b"connection" not in headers
        writer.write(b"GET /health HTTP/1.1\r\nHost: router\r\n\r\n")
        status, _, body = await _answer(reader)
        assert status == b"HTTP/1.1 200 OK"
        assert body


async def test_pipelined_requests_are_answered_in_order(router: str) -> None:
    other = b'{"query": "{ topProduct { name: id } }"}'
    async with _connection(router) as (reader, writer):
        writer.write(_post() + _post(other) + b"GET /health HTTP/1.1\r\nHost: router\r\n\r\n")
        assert json.loads((await _answer(reader))[2]) == ANSWER
        assert json.loads((await _answer(reader))[2]) == {"data": {"topProduct": {"name": "p1"}}}
        status, _headers, _ = await _answer(reader)
        assert status == b"HTTP/1.1 200 OK"


@pytest.mark.parametrize(
    "request_",
    [_post(extra=b"Connection: close\r\n"), _post(version=b"1.0")],
    ids=["connection-close", "http-1.0"],
)
async def test_a_request_not_kept_alive_is_answered_then_closed(
    router: str, request_: bytes
) -> None:
    async with _connection(router) as (reader, writer):
        writer.write(request_)
        status, headers, body = await _answer(reader)
        assert (status, headers[b"connection"]) == (b"HTTP/1.1 200 OK", b"close")
        assert json.loads(body) == ANSWER
        assert await _closed(reader) == b""


async def test_head_has_the_length_and_no_body(router: str) -> None:
    async with _connection(router) as (reader, writer):
        writer.write(b"HEAD /health HTTP/1.1\r\nHost: router\r\n\r\n")
        async with asyncio.timeout(BOUND):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]) > 0
        writer.write(_post())  # the next answer follows at once: no body was sent between
        status, _, body = await _answer(reader)
        assert (status, json.loads(body)) == (b"HTTP/1.1 200 OK", ANSWER)


async def test_expect_100_continue(router: str) -> None:
    async with _connection(router) as (reader, writer):
        head = _post(extra=b"Expect: 100-continue\r\n")[: -len(QUERY)]
        writer.write(head)
        async with asyncio.timeout(BOUND):
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(QUERY)
        status, _, body = await _answer(reader)
        assert (status, json.loads(body)) == (b"HTTP/1.1 200 OK", ANSWER)


async def test_a_chunked_request_body(router: str) -> None:
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (QUERY[:9], QUERY[9:]))
    async with _connection(router) as (reader, writer):
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
        )
        status, _, body = await _answer(reader)
        assert (status, json.loads(body)) == (b"HTTP/1.1 200 OK", ANSWER)


# Answers the router's app does not give: a small ASGI app of the test's own, on the same server


class _App:
    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            assert message["type"] == "lifespan.shutdown"
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/stream":  # no length: the head at once, the body in chunks
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await self.release.wait()
            await send({"type": "http.response.body", "body": b"late", "more_body": False})
        elif scope["path"] == "/bad-header":
            headers = [(b"x-bad", b"split\r\ninjected: yes"), (b"content-length", b"2")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"no"})
        elif scope["path"] == "/parts":  # a known length, sent in two parts
            await send(
                {
                    "type": "http.response.start",
                    "status": 201,
                    "headers": [(b"content-length", b"6")],
                }
            )
            await send({"type": "http.response.body", "body": b"abc", "more_body": True})
            await self.release.wait()
            await send({"type": "http.response.body", "body": b"def"})
        else:  # a length the body does not have
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"9")],
                }
            )
            await send({"type": "http.response.body", "body": b"short"})


@pytest.fixture
async def app() -> AsyncIterator[tuple[_App, str]]:
    app = _App()
    async with serve(app, free_port()) as url:  # type: ignore[arg-type]
        yield app, url


async def test_a_streamed_answers_head_comes_before_its_body(app: tuple[_App, str]) -> None:
    served, url = app
    async with _connection(url) as (reader, writer):
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        async with asyncio.timeout(BOUND):
            head = await reader.readuntil(b"\r\n\r\n")  # while the body is held back
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"transfer-encoding: chunked\r\n" in head
        served.release.set()
        async with asyncio.timeout(BOUND):
            assert await reader.readuntil(b"0\r\n\r\n") == b"4\r\nlate\r\n0\r\n\r\n"


async def test_an_answer_in_parts_of_a_known_length(app: tuple[_App, str]) -> None:
    served, url = app
    async with _connection(url) as (reader, writer):
        writer.write(b"GET /parts HTTP/1.1\r\nHost: x\r\n\r\n")
        async with asyncio.timeout(BOUND):
            head = await reader.readuntil(b"\r\n\r\n")  # with the first part, before the rest
            assert await reader.readexactly(3) == b"abc"
        assert head.startswith(b"HTTP/1.1 201 Created\r\n")
        assert b"content-length: 6\r\n" in head
        served.release.set()
        async with asyncio.timeout(BOUND):
            assert await reader.readexactly(3) == b"def"


async def test_a_header_that_would_split_the_head_is_never_written(app: tuple[_App, str]) -> None:
    _, url = app
    async with _connection(url) as (reader, writer):
        writer.write(b"GET /bad-header HTTP/1.1\r\nHost: x\r\n\r\n")
        received = await _closed(reader)
    assert received == b""  # as uvicorn: nothing of that answer, the connection closed


async def test_an_answer_shorter_than_its_length_is_cut(app: tuple[_App, str]) -> None:
    _, url = app
    async with _connection(url) as (reader, writer):
        writer.write(b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
        received = await _closed(reader)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"short"
