"""A loopback HTTP/1.1 proxy in front of one server, for fault tests: it counts the
connections and requests that reach it, holds requests until a test lets them through (a
slow subgraph), closes connections instead of answering (a subgraph that dies mid-request),
and can be stopped (connections refused) and started again on the same port.

Requests are read (head and `content-length` body) to be counted one by one on keep-alive
connections; answers are relayed byte for byte. After a WebSocket upgrade request (counted
in `upgrades`), both directions are relayed byte for byte until either side closes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from common.infra.ports import LOOPBACK, free_port


class TcpProxy:
    def __init__(self, upstream_port: int, port: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self.connections = 0
        self.requests = 0  # requests read, whatever happened to them next
        self.upgrades = 0  # of them, WebSocket upgrade requests
        self.held = 0  # requests waiting at `hold` right now
        self.hold: asyncio.Event | None = None  # while set and not open, requests wait
        self.drop_requests = 0  # the next N requests: the connection is closed instead
        self.drop_all = False  # every request: the connection is closed instead
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/graphql"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, LOOPBACK, self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Refuse new connections and close those open."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        upstream: asyncio.StreamWriter | None = None
        relay: asyncio.Task[None] | None = None
        try:
            while request := await _read_request(reader):
                self.requests += 1
                if await self._drop():
                    break
                if upstream is None:
                    try:
                        answers, upstream = await asyncio.open_connection(
                            LOOPBACK, self.upstream_port
                        )
                    except OSError:  # the server is down: as a load balancer would, hang up
                        break
                    relay = asyncio.create_task(_pump(answers, writer))
                upstream.write(request)
                await upstream.drain()
                if _upgrades(request):
                    self.upgrades += 1
                    await _pump(reader, upstream)  # the WebSocket's frames, as they come
                    break
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if relay is not None:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
            for stream in (upstream, writer):
                if stream is not None:
                    stream.close()
            self._handlers.discard(task)

    async def _drop(self) -> bool:
        """Whether to hang up on this request (after holding it while `hold` is closed)."""
        if self.hold is not None and not self.hold.is_set():
            self.held += 1
            try:
                await self.hold.wait()
            finally:
                self.held -= 1
        if self.drop_all:
            return True
        if self.drop_requests > 0:
            self.drop_requests -= 1
            return True
        return False


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # the client closed the connection between requests
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return head + await reader.readexactly(length)


def _upgrades(request: bytes) -> bool:
    head = request.split(b"\r\n\r\n", 1)[0].lower()
    return any(
        line.partition(b":")[0].strip() == b"upgrade" and b"websocket" in line
        for line in head.split(b"\r\n")[1:]
    )


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    sink.close()  # the server hung up: so does the proxy


@contextlib.asynccontextmanager
async def tcp_proxy(upstream_port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(upstream_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
