"""The lean asyncio HTTP client against real sockets: keep-alive, framing, failures."""

import asyncio
import socket

import httpx
import pytest
import uvicorn

from router.server import create_app
from router.transport import StreamTransport, SubgraphRequestError
from tests.integration.router.conftest import SUPERGRAPH, RawServer
from tests.integration.router.raw_http import read_request, requests_until_closed
from tests.integration.router.subgraphs import Subgraph, subgraphs_app
from tests.support import eventually

JSON_BODY = b'{"data":{"ok":true}}'


async def test_keep_alive_reuses_one_connection(
    raw_server: RawServer,
) -> None:
    connections = 0
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        async for request in requests_until_closed(reader):
            seen.append(request)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n" + JSON_BODY)
            await writer.drain()
        writer.close()

    transport = StreamTransport({"a": await raw_server(handler)})
    for _ in range(3):
        assert await transport.send("a", {"query": "{ ok }"}, {"authorization": "t"}) == {
            "data": {"ok": True}
        }
    await transport.aclose()
    assert connections == 1
    assert b"authorization: t\r\n" in seen[0]
    assert seen[0].endswith(b'{"query":"{ ok }"}')


async def test_chunked_response_and_closed_idle_connection(
    raw_server: RawServer,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        chunks = b"a\r\n" + JSON_BODY[:10] + b"\r\na\r\n" + JSON_BODY[10:] + b"\r\n0\r\n\r\n"
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunks)
        await writer.drain()
        writer.close()  # closes without saying so: the next call must reconnect
        await writer.wait_closed()
        closed.set()

    closed = asyncio.Event()
    transport = StreamTransport({"a": await raw_server(handler)})
    assert await transport.send("a", {"query": "{ ok }"}, {}) == {"data": {"ok": True}}
    await asyncio.wait_for(closed.wait(), 5)
    assert await transport.send("a", {"query": "{ ok }"}, {}) == {"data": {"ok": True}}
    await transport.aclose()


async def test_a_pool_of_connections_closed_while_idle_is_replaced(
    raw_server: RawServer,
) -> None:
    """As uvicorn does after its keep-alive timeout: every idle connection closed at once."""
    open_writers: list[asyncio.StreamWriter] = []
    finished: list[asyncio.StreamWriter] = []
    all_eight_in = asyncio.Event()  # the first burst's requests overlap: one connection each

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.append(writer)
        async for _ in requests_until_closed(reader):
            if len(open_writers) == 8:
                all_eight_in.set()
            await asyncio.wait_for(all_eight_in.wait(), 5)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n" + JSON_BODY)
            await writer.drain()
        writer.close()
        finished.append(writer)

    transport = StreamTransport({"a": await raw_server(handler)})
    ok = {"data": {"ok": True}}
    burst = [transport.send("a", {"query": "{ ok }"}, {}) for _ in range(8)]
    assert await asyncio.gather(*burst) == [ok] * 8
    assert len(transport.origins["a"].idle) == 8
    first_eight = list(open_writers)
    for writer in first_eight:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for writer in first_eight))
    burst = [transport.send("a", {"query": "{ ok }"}, {}) for _ in range(8)]
    assert await asyncio.gather(*burst) == [ok] * 8
    await transport.aclose()
    # the handlers see the client close and close their side
    await eventually(lambda: len(finished) == len(open_writers), within=5)


async def test_timeout_and_unreachable_and_non_json(
    raw_server: RawServer,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(1)  # not synchronisation: a subgraph slower than its 0.05 s timeout
        writer.close()

    async def html(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 4\r\n\r\noops")
        await writer.drain()
        writer.close()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    urls = {
        "slow": await raw_server(silent),
        "html": await raw_server(html),
        "gone": f"http://127.0.0.1:{closed_port}/graphql",
    }
    transport = StreamTransport(urls, timeouts={"slow": 0.05})
    with pytest.raises(SubgraphRequestError) as slow:
        await transport.send("slow", {"query": "{ a }"}, {})
    assert slow.value.code == "SUBGRAPH_TIMEOUT"
    with pytest.raises(SubgraphRequestError, match="without JSON"):
        await transport.send("html", {"query": "{ a }"}, {})
    with pytest.raises(SubgraphRequestError, match="could not be reached"):
        await transport.send("gone", {"query": "{ a }"}, {})
    await transport.aclose()


async def test_router_over_real_sockets(subgraphs: dict[str, Subgraph]) -> None:
    config = uvicorn.Config(
        subgraphs_app(subgraphs), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    urls = {name: f"http://127.0.0.1:{port}/{name}/graphql" for name in subgraphs}
    transport = StreamTransport(urls)
    app = create_app(SUPERGRAPH, transport=transport)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://router"
        ) as client:
            query = "{ products { name reviews { author { name } } } }"
            body = (await client.post("/graphql", json={"query": query})).json()
    finally:
        await transport.aclose()
        server.should_exit = True
        await serving
    assert body["data"]["products"][0] == {
        "name": "Chair",
        "reviews": [{"author": {"name": "Ada"}}, {"author": {"name": "Alan"}}],
    }
