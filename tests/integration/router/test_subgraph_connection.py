"""The subgraph client's connections against scripted servers on real sockets: answers
however the bytes arrive, nothing of one exchange leaking into the next, and a connection
that is out of step (or may be) never used again."""

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest
import uvloop

from router.transport import StreamTransport, SubgraphRequestError, streams
from tests.integration.router.conftest import RawServer, raw_servers
from tests.integration.router.raw_http import (
    MUTATION,
    QUERY,
    TOP_PRODUCT,
    answer,
    read_request,
    requests_until_closed,
    router_over,
)
from tests.saml_idp import key_and_certificate
from tests.support import eventually

OK = {"data": {"topProduct": {"id": "p1"}}}
STALE = b'{"data":{"topProduct":{"id":"stale"}}}'


def _chunked(body: bytes, *, extension: bytes = b"", trailers: bytes = b"") -> bytes:
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    chunks = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in pieces)
    return (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        + chunks
        + b"0\r\n"
        + trailers
        + b"\r\n"
    )


def _nodelay(writer: asyncio.StreamWriter) -> None:
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Counting:
    """A server that answers each request with `answers(n)` (n: requests so far), and counts
    connections and requests."""

    def __init__(self, answers: dict[int, bytes] | None = None, dribble: bool = False) -> None:
        self.answers = answers or {}
        self.dribble = dribble  # one byte per write
        self.connections = 0
        self.requests: list[bytes] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        _nodelay(writer)
        async for request in requests_until_closed(reader):
            self.requests.append(request)
            reply = self.answers.get(len(self.requests), answer(TOP_PRODUCT))
            try:
                if self.dribble:
                    for i in range(len(reply)):
                        writer.write(reply[i : i + 1])
                        await writer.drain()
                        await asyncio.sleep(0)
                else:
                    writer.write(reply)
                    await writer.drain()
            except ConnectionError:
                break
        writer.close()


@pytest.mark.parametrize(
    "reply",
    [
        answer(TOP_PRODUCT),
        _chunked(TOP_PRODUCT),
        _chunked(TOP_PRODUCT, extension=b";name=value", trailers=b"x-trailer: 1\r\n"),
        b"HTTP/1.1 100 Continue\r\n\r\n" + answer(TOP_PRODUCT),
    ],
    ids=["content-length", "chunked", "chunked-extensions-trailers", "after-100-continue"],
)
@pytest.mark.parametrize("dribble", [False, True], ids=["one-write", "byte-by-byte"])
async def test_answers_are_read_whole_however_they_arrive_and_the_connection_kept(
    raw_server: RawServer, reply: bytes, dribble: bool
) -> None:
    server = Counting({1: reply, 2: reply, 3: reply}, dribble=dribble)
    transport = StreamTransport({"a": await raw_server(server)})
    try:
        for _ in range(3):
            assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()
    assert server.connections == 1
    assert len(server.requests) == 3


async def test_bytes_past_an_answer_are_not_read_as_the_next_answer(
    raw_server: RawServer,
) -> None:
    """A subgraph that sends more than its answer (a second, unasked-for answer): the
    connection is out of step and dropped; the next query gets its own answer."""
    server = Counting({1: answer(TOP_PRODUCT) + answer(STALE)})
    async with router_over(await raw_server(server), "streams") as router:
        first = await router.post("/graphql", json=QUERY)
        second = await router.post("/graphql", json=QUERY)
    assert first.json() == OK
    assert second.json() == OK
    assert server.connections == 2


@pytest.mark.parametrize("read_first", [False, True], ids=["not-read-yet", "read-by-the-loop"])
async def test_bytes_arriving_on_an_idle_connection_drop_it(
    raw_server: RawServer, read_first: bool
) -> None:
    """Stray bytes after the answer was taken: whether the event loop has read them (and
    closed the connection) or not yet (a poll sees them), the next call does not use it."""
    first: list[asyncio.StreamWriter] = []
    server = Counting()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if server.connections == 0:
            server.connections += 1
            server.requests.append(await read_request(reader))
            first.append(writer)
            writer.write(answer(TOP_PRODUCT))
            await writer.drain()
            await reader.read()  # until the client hangs up
            writer.close()
            return
        await server(reader, writer)

    transport = StreamTransport({"a": await raw_server(handler)})
    try:
        assert await transport.send("a", QUERY, {}) == OK
        [idle] = transport.origins["a"].idle  # kept for the next call
        first[0].write(answer(STALE))  # on the socket at once; nothing read it yet
        if read_first:
            await eventually(lambda: idle.transport is None or idle.transport.is_closing())
        assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()
    assert server.connections == 2


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 200\r\n\r\n" + TOP_PRODUCT,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\n" + TOP_PRODUCT[:16],
        b"HTTP/1.1 200 OK\r\ncontent-len",
    ],
    ids=["content-length", "chunked", "head"],
)
@pytest.mark.parametrize("payload", [QUERY, MUTATION])
async def test_a_subgraph_closing_mid_answer_is_an_error_and_nothing_is_resent(
    raw_server: RawServer, reply: bytes, payload: dict[str, str]
) -> None:
    """Once an answer has begun the request was received: not sent again, even a query."""
    requests: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in requests_until_closed(reader):
            requests.append(request)
            if len(requests) == 2:
                writer.write(reply)
                await writer.drain()
                break
            writer.write(answer(TOP_PRODUCT))
            await writer.drain()
        writer.close()

    transport = StreamTransport({"a": await raw_server(handler)})
    try:
        assert await transport.send("a", QUERY, {}) == OK  # a connection to reuse
        with pytest.raises(SubgraphRequestError) as failure:
            await transport.send("a", payload, {}, idempotent=payload is QUERY)
        assert await transport.send("a", QUERY, {}) == OK  # and it recovers
    finally:
        await transport.aclose()
    assert failure.value.code == "SUBREQUEST_HTTP_ERROR"
    assert "could not be reached" in failure.value.message
    assert len(requests) == 3


async def test_an_answer_saying_connection_close_is_not_reused(raw_server: RawServer) -> None:
    """The subgraph says it will close, and keeps the socket open a while: not written to."""
    close = answer(TOP_PRODUCT, extra_headers=b"Connection: close\r\n")
    http10 = b"HTTP/1.0 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(TOP_PRODUCT), TOP_PRODUCT)
    server = Counting({1: close, 2: http10})
    transport = StreamTransport({"a": await raw_server(server)})
    try:
        for _ in range(3):
            assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()
    assert server.connections == 3
    assert len(server.requests) == 3


async def test_an_answer_until_close_with_no_length(raw_server: RawServer) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n")
        for i in range(0, len(TOP_PRODUCT), 5):
            writer.write(TOP_PRODUCT[i : i + 5])
            await writer.drain()
        writer.close()

    transport = StreamTransport({"a": await raw_server(handler)})
    try:
        assert await transport.send("a", QUERY, {}) == OK
        assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", "answered HTTP 204 without JSON"),
        (b"SMTP ready\r\n\r\n", "could not be reached"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n", "could not be reached"),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            "could not be reached",
        ),
        (b"HTTP/1.1 200 OK\r\nx: " + b"a" * 70_000, "could not be reached"),
    ],
    ids=["no-content", "not-http", "negative-length", "bad-chunk-size", "endless-head"],
)
async def test_malformed_answers_are_errors_not_hangs(
    raw_server: RawServer, reply: bytes, message: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()
        await reader.read()  # keeps the connection open until the client hangs up
        writer.close()

    transport = StreamTransport({"a": await raw_server(handler)}, timeout=10)
    try:
        with pytest.raises(SubgraphRequestError) as failure:
            await transport.send("a", QUERY, {})
    finally:
        await transport.aclose()
    assert message in failure.value.message


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_timeout_mid_body_drops_the_connection_and_its_late_bytes(
    raw_server: RawServer, framing: str
) -> None:
    """The rest of the timed-out answer comes late: it must not answer the next query."""
    release = asyncio.Event()
    first = True
    late = (
        answer(STALE) if framing == "content-length" else _chunked(STALE).replace(b"0\r\n\r\n", b"")
    )

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal first
        if first:
            first = False
            await read_request(reader)
            writer.write(late[: len(late) // 2])
            await writer.drain()
            await release.wait()
            try:
                writer.write(late[len(late) // 2 :])
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()
            return
        await Counting()(reader, writer)

    transport = StreamTransport({"a": await raw_server(handler)}, timeout=0.2)
    try:
        with pytest.raises(SubgraphRequestError) as failure:
            await transport.send("a", QUERY, {})
        release.set()
        assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()
    assert failure.value.code == "SUBGRAPH_TIMEOUT"


async def test_an_answer_past_the_limit_split_in_tiny_pieces(raw_server: RawServer) -> None:
    body = TOP_PRODUCT + b" " * 500
    server = Counting({1: _chunked(body)}, dribble=True)
    transport = StreamTransport({"a": await raw_server(server)}, max_response_bytes=100)
    try:
        with pytest.raises(SubgraphRequestError) as failure:
            await transport.send("a", QUERY, {})
        assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()
    assert failure.value.code == "SUBGRAPH_RESPONSE_TOO_LARGE"
    assert server.connections == 2


async def test_an_idle_connection_past_its_age_is_not_reused(
    raw_server: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "MAX_IDLE_SECONDS", 0.0)
    server = Counting()
    transport = StreamTransport({"a": await raw_server(server)})
    try:
        assert await transport.send("a", QUERY, {}) == OK
        assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()
    assert server.connections == 2


async def test_connections_per_origin_are_capped_and_callers_wait_their_turn(
    raw_server: RawServer,
) -> None:
    open_now = 0
    most = 0
    gate = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        async for _ in requests_until_closed(reader):
            await gate.wait()
            writer.write(answer(TOP_PRODUCT))
            await writer.drain()
        open_now -= 1
        writer.close()

    transport = StreamTransport({"a": await raw_server(handler)}, max_connections=2)
    try:
        calls = [asyncio.ensure_future(transport.send("a", QUERY, {})) for _ in range(6)]
        await eventually(lambda: open_now == 2)  # the cap reached, four callers waiting
        gate.set()
        assert await asyncio.gather(*calls) == [OK] * 6
    finally:
        await transport.aclose()
    assert most == 2


async def test_a_caller_waiting_for_a_connection_times_out(raw_server: RawServer) -> None:
    gate = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await gate.wait()
        writer.write(answer(TOP_PRODUCT))
        await writer.drain()
        writer.close()

    transport = StreamTransport({"a": await raw_server(handler)}, timeout=0.2, max_connections=1)
    try:
        holding = asyncio.ensure_future(transport.send("a", QUERY, {}))
        await asyncio.sleep(0)
        with pytest.raises(SubgraphRequestError) as failure:
            await transport.send("a", QUERY, {})
        with pytest.raises(SubgraphRequestError):
            await holding  # timed out too, while the gate was shut
    finally:
        gate.set()
        await transport.aclose()
    assert failure.value.code == "SUBGRAPH_TIMEOUT"


async def test_a_cancelled_call_leaves_no_connection_behind_in_step(
    raw_server: RawServer,
) -> None:
    """The router gives up on a call (its client went away): the answer that comes later
    on that connection is not read as another call's."""
    release = asyncio.Event()
    received = asyncio.Event()
    first = True

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal first
        if first:
            first = False
            await read_request(reader)
            received.set()
            await release.wait()
            writer.write(answer(STALE))
            await writer.drain()
            writer.close()
            return
        await Counting()(reader, writer)

    transport = StreamTransport({"a": await raw_server(handler)})
    try:
        call = asyncio.ensure_future(transport.send("a", QUERY, {}))
        await asyncio.wait_for(received.wait(), 5)  # the call is in flight, its answer due
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        release.set()
        assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()


UVLOOP_SCENARIOS: list[Callable[[RawServer], Awaitable[None]]] = [
    partial(
        test_answers_are_read_whole_however_they_arrive_and_the_connection_kept,
        reply=_chunked(TOP_PRODUCT, extension=b";name=value", trailers=b"x-trailer: 1\r\n"),
        dribble=True,
    ),
    partial(test_bytes_arriving_on_an_idle_connection_drop_it, read_first=False),
    partial(test_bytes_arriving_on_an_idle_connection_drop_it, read_first=True),
    partial(
        test_a_subgraph_closing_mid_answer_is_an_error_and_nothing_is_resent,
        reply=b"HTTP/1.1 200 OK\r\ncontent-length: 200\r\n\r\n" + TOP_PRODUCT,
        payload=MUTATION,
    ),
    test_an_answer_until_close_with_no_length,
    partial(test_a_timeout_mid_body_drops_the_connection_and_its_late_bytes, framing="chunked"),
    test_an_answer_past_the_limit_split_in_tiny_pieces,
    test_a_cancelled_call_leaves_no_connection_behind_in_step,
]


@pytest.mark.parametrize("scenario", UVLOOP_SCENARIOS, ids=range(len(UVLOOP_SCENARIOS)))
def test_on_uvloop(scenario: Callable[[RawServer], Awaitable[None]]) -> None:
    """The router serves on uvloop (uvicorn's choice when it is installed), whose transports
    and sockets are its own classes: the same scenarios there."""

    async def run() -> None:
        async with asyncio.timeout(60):  # a guard against a hang, far from any real duration
            async with raw_servers() as raw_server:
                await scenario(raw_server)

    uvloop.run(run())


async def test_an_https_subgraph_over_one_kept_alive_tls_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS to a subgraph whose certificate the system trusts (here: SSL_CERT_FILE), kept
    alive, and replaced once the subgraph closes it."""
    key_file, cert_file = key_and_certificate(tmp_path, "subgraph", ["127.0.0.1"])
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(cert_file, key_file)
    server = Counting({2: answer(TOP_PRODUCT, extra_headers=b"connection: close\r\n")})
    listening = await asyncio.start_server(server, "127.0.0.1", 0, ssl=serving)
    port = listening.sockets[0].getsockname()[1]
    transport = StreamTransport({"a": f"https://127.0.0.1:{port}/graphql"})
    try:
        for _ in range(3):
            assert await transport.send("a", QUERY, {}) == OK
    finally:
        await transport.aclose()
        listening.close()
    assert server.connections == 2  # the second answer said it would close
    assert len(server.requests) == 3
    assert server.requests[0].startswith(b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:")
