"""Subgraphs on raw asyncio sockets, to script what real HTTP servers do only sometimes:
close while idle, close after reading a request, answer too much."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx

from router.server import create_app
from tests.integration.router.conftest import SUPERGRAPH

TOP_PRODUCT = b'{"data":{"topProduct":{"id":"p1"}}}'
CREATED = b'{"data":{"createProduct":{"id":"new1"}}}'
QUERY = {"query": "{ topProduct { id } }"}
MUTATION = {"query": 'mutation { createProduct(name: "Lamp") { id } }'}


async def read_head(reader: asyncio.StreamReader) -> tuple[bytes, int]:
    """A request's head and the length of the body that follows."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, length


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head, length = await read_head(reader)
    return head + await reader.readexactly(length)


async def requests_until_closed(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Each request a client sends on one connection, until it hangs up."""
    while True:
        try:
            request = await read_request(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        yield request


def answer(body: bytes, *, extra_headers: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + extra_headers
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )


# The router's HTTP clients to subgraphs (`router serve --client`).
ClientName = Literal["streams", "httpx", "aiohttp"]


def graphql_answer(request: bytes) -> bytes:
    return answer(CREATED if b"mutation" in request else TOP_PRODUCT)


@asynccontextmanager
async def router_over(
    url: str, client: ClientName, **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The router (`create_app`, on its own HTTP client) with every subgraph at `url`."""
    urls = dict.fromkeys(("products", "reviews", "users"), url)
    app = create_app(SUPERGRAPH, urls, client=client, **options)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://router", timeout=10
        ) as router:
            yield router
    finally:
        await app.state.live.aclose()
