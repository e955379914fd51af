"""A request written to a subgraph is never written again, unless it is a query: a mutation
is applied at most once even when the subgraph's connection dies after reading it."""

import asyncio
from typing import Any

import pytest

from router.transport import HttpTransport, StreamTransport, SubgraphRequestError
from router.transport.multipart import UploadedFile
from tests.integration.router.conftest import RawServer
from tests.integration.router.raw_http import (
    MUTATION,
    QUERY,
    ClientName,
    graphql_answer,
    read_head,
    read_request,
    requests_until_closed,
    router_over,
)

CLIENTS = ["streams", "httpx", "aiohttp"]


def _mutations(requests: list[bytes]) -> int:
    return sum(b"mutation" in request for request in requests)


@pytest.mark.parametrize("client", CLIENTS)
async def test_a_mutation_read_then_dropped_is_received_once_and_reported(
    raw_server: RawServer, client: ClientName
) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests_until_closed(reader):
            received.append(request)
            if b"mutation" in request:
                break  # executed, then the subgraph dies before answering
            writer.write(graphql_answer(request))
            await writer.drain()
        writer.close()

    async with router_over(await raw_server(handler), client) as router:
        warm = await router.post("/graphql", json=QUERY)  # leaves a keep-alive connection
        assert warm.json() == {"data": {"topProduct": {"id": "p1"}}}
        # the router answers only once it has given up: a resend would already be in
        body = (await router.post("/graphql", json=MUTATION)).json()
        assert _mutations(received) == 1
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"] == {
            "code": "SUBREQUEST_HTTP_ERROR",
            "serviceName": "products",
        }
        again = await router.post("/graphql", json=QUERY)  # the router recovers
        assert again.json() == {"data": {"topProduct": {"id": "p1"}}}


@pytest.mark.parametrize("client", CLIENTS)
async def test_a_mutation_cut_off_halfway_is_not_sent_again(
    raw_server: RawServer, client: ClientName
) -> None:
    started: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                _, length = await read_head(reader)
                part = await reader.readexactly(length // 2)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            started.append(part)
            if b"mutation" in part:
                break  # closes with half the request unread
            request = part + await reader.readexactly(length - length // 2)
            writer.write(graphql_answer(request))
            await writer.drain()
        writer.close()

    async with router_over(await raw_server(handler), client) as router:
        await router.post("/graphql", json=QUERY)
        body = (await router.post("/graphql", json=MUTATION)).json()
    assert _mutations(started) == 1
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"


@pytest.mark.parametrize("client", CLIENTS)
async def test_a_mutation_after_the_subgraph_closed_an_idle_connection_goes_out_on_a_new_one(
    raw_server: RawServer, client: ClientName
) -> None:
    """The subgraph answers, then closes the connection (a keep-alive timeout): nothing was
    written to it yet, so the mutation is sent, once, on a fresh connection."""
    received: list[bytes] = []
    connections = 0
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            request = await read_request(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        received.append(request)
        writer.write(graphql_answer(request))  # says keep-alive, then closes anyway
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    async with router_over(await raw_server(handler), client) as router:
        await router.post("/graphql", json=QUERY)
        async with asyncio.timeout(5):
            await closed.wait()
        # aiohttp does not poll an idle socket before reusing it (see below): give its event
        # loop the turns in which it reads the end of that stream
        for _ in range(20):
            await asyncio.sleep(0)
        body = (await router.post("/graphql", json=MUTATION)).json()
    assert body == {"data": {"createProduct": {"id": "new1"}}}
    assert _mutations(received) == 1
    assert connections == 2


# aiohttp does not look at an idle socket before reusing it: there the mutation is written to
# the dead connection and fails with SUBREQUEST_HTTP_ERROR (still never sent twice).
@pytest.mark.parametrize("client", ["streams", "httpx"])
async def test_a_close_the_event_loop_has_not_seen_yet_is_noticed_before_writing(
    raw_server: RawServer, client: ClientName
) -> None:
    """The subgraph's FIN has reached this machine but not the router's event loop (busy,
    here blocked on purpose): the idle connection is still found dead before the mutation
    is written to it."""
    received: list[bytes] = []
    sockets: list[Any] = []
    close_now = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        received.append(request)
        writer.write(graphql_answer(request))
        await writer.drain()
        sockets.append(writer.get_extra_info("socket"))
        await close_now.wait()
        writer.close()

    async with router_over(await raw_server(handler), client) as router:
        await router.post("/graphql", json=QUERY)
        close_now.set()
        for _ in range(100):  # the handler closes its socket: its FIN is on its way, and
            if sockets[0].fileno() == -1:  # the mutation follows at once, before the
                break  # router's event loop has read the end of that stream
            await asyncio.sleep(0)
        assert sockets[0].fileno() == -1
        body = (await router.post("/graphql", json=MUTATION)).json()
    assert body == {"data": {"createProduct": {"id": "new1"}}}
    assert _mutations(received) == 1


async def test_a_query_whose_reused_connection_drops_before_answering_is_sent_again_once(
    raw_server: RawServer,
) -> None:
    """As Go's net/http and urllib3 do for idempotent requests: a query lost on a stale
    keep-alive connection is retried on a fresh one; the hand-written client does this."""
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        async for request in requests_until_closed(reader):
            received.append(request)
            if served == 1:
                break  # the second request on a connection is read, then dropped
            served += 1
            writer.write(graphql_answer(request))
            await writer.drain()
        writer.close()

    async with router_over(await raw_server(handler), "streams") as router:
        await router.post("/graphql", json=QUERY)
        body = (await router.post("/graphql", json=QUERY)).json()
    assert body == {"data": {"topProduct": {"id": "p1"}}}
    assert len(received) == 3  # the first query, the dropped one, its one resend


async def test_a_query_is_sent_again_only_once(raw_server: RawServer) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = False
        async for request in requests_until_closed(reader):
            received.append(request)
            if answered or len(received) > 1:
                break  # from the second request on, every request is dropped unanswered
            answered = True
            writer.write(graphql_answer(request))
            await writer.drain()
        writer.close()

    async with router_over(await raw_server(handler), "streams") as router:
        await router.post("/graphql", json=QUERY)
        body = (await router.post("/graphql", json=QUERY)).json()
    assert len(received) == 3
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
    assert "closed the connection before answering" in body["errors"][0]["message"]


@pytest.mark.parametrize("kind", [StreamTransport, HttpTransport])
async def test_an_upload_read_then_dropped_is_received_once(
    raw_server: RawServer, kind: type[StreamTransport | HttpTransport]
) -> None:
    """A request carrying files is never idempotent: the same rule as a mutation."""
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests_until_closed(reader):
            received.append(request)
            if b"multipart/form-data" in request:
                break
            writer.write(graphql_answer(request))
            await writer.drain()
        writer.close()

    transport = kind({"products": await raw_server(handler)})
    upload = {
        "query": "mutation($file: Upload!) { upload(file: $file) }",
        "variables": {"file": UploadedFile("notes.txt", "text/plain", b"hello")},
    }
    try:
        await transport.send("products", QUERY, {}, idempotent=True)
        with pytest.raises(SubgraphRequestError) as failure:
            await transport.send_multipart("products", upload, {})
    finally:
        await transport.aclose()
    assert sum(b"multipart/form-data" in request for request in received) == 1
    assert failure.value.code == "SUBREQUEST_HTTP_ERROR"
