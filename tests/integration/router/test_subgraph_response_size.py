"""A subgraph's answer is read no further than `max_subgraph_response_bytes`: past it the
fetch fails with a coded error and its connection is dropped, whatever the framing."""

import asyncio

import pytest

from tests.integration.router.conftest import RawServer
from tests.integration.router.raw_http import (
    QUERY,
    TOP_PRODUCT,
    ClientName,
    read_request,
    router_over,
)

LIMIT = 1000


def _framed(body: bytes, framing: str) -> bytes:
    if framing == "content-length":
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body
    if framing == "chunked":
        pieces = [body[i : i + 256] for i in range(0, len(body), 256)]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
        return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + body  # until the server closes


def _padded(size: int) -> bytes:
    """A valid GraphQL answer of exactly `size` bytes (JSON allows trailing whitespace)."""
    return TOP_PRODUCT + b" " * (size - len(TOP_PRODUCT))


CASES = [
    ("streams", "content-length"),
    ("streams", "chunked"),
    ("streams", "until-close"),
    ("httpx", "content-length"),
    ("httpx", "chunked"),
    ("httpx", "until-close"),
    ("aiohttp", "content-length"),
    ("aiohttp", "chunked"),
    ("aiohttp", "until-close"),
]


@pytest.mark.parametrize(("client", "framing"), CASES)
async def test_an_answer_past_the_limit_is_a_coded_error_and_its_connection_dropped(
    raw_server: RawServer, client: ClientName, framing: str
) -> None:
    dropped = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(_framed(_padded(LIMIT + 1), framing))
        try:
            await writer.drain()
            if framing != "until-close":
                await reader.read()  # the end of stream comes when the router hangs up
        except ConnectionError:
            pass
        dropped.set()
        writer.close()

    url = await raw_server(handler)
    async with router_over(url, client, max_subgraph_response_bytes=LIMIT) as router:
        body = (await router.post("/graphql", json=QUERY)).json()
        if client != "aiohttp":  # which keeps a connection whose answer it already holds whole
            async with asyncio.timeout(5):
                await dropped.wait()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == f"subgraph 'products' answered more than {LIMIT} bytes"
    assert error["extensions"] == {
        "code": "SUBGRAPH_RESPONSE_TOO_LARGE",
        "serviceName": "products",
    }


@pytest.mark.parametrize(("client", "framing"), CASES)
async def test_an_answer_at_the_limit_is_read(
    raw_server: RawServer, client: ClientName, framing: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(_framed(_padded(LIMIT), framing))
        await writer.drain()
        writer.close()

    url = await raw_server(handler)
    async with router_over(url, client, max_subgraph_response_bytes=LIMIT) as router:
        body = (await router.post("/graphql", json=QUERY)).json()
    assert body == {"data": {"topProduct": {"id": "p1"}}}


async def test_the_default_limit_is_generous(raw_server: RawServer) -> None:
    """A 4 MiB answer passes without configuration."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(_framed(_padded(4 * 1024 * 1024), "chunked"))
        await writer.drain()
        writer.close()

    async with router_over(await raw_server(handler), "streams") as router:
        body = (await router.post("/graphql", json=QUERY)).json()
    assert body == {"data": {"topProduct": {"id": "p1"}}}
