"""A lean HTTP/1.1 keep-alive client on asyncio streams, for subgraph POSTs only.

httpx costs about a millisecond of CPU per subgraph call and its pool slows down as
concurrency grows; subgraph traffic needs far less: POST a JSON body to a handful of
known origins and read a JSON answer (Content-Length, chunked or until close).

A request is written at most once, as mature clients do (Go's net/http, urllib3): an idle
connection the subgraph has closed is dropped before anything is written to it, and only an
idempotent request (a query) whose reused connection fails before any answer is sent again,
once, on a fresh connection. A mutation or an upload that was written is never resent.
"""

import asyncio
import select
import ssl
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from router import jsonio
from router.transport.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    SubgraphRequestError,
    decode_answer,
    response_too_large,
)
from router.transport.headers import header_lines
from router.transport.multipart import PREFLIGHT_HEADER, encode_multipart

_MAX_HEAD = 64 * 1024
_READ_SIZE = 64 * 1024
_JSON = b"content-type: application/json\r\n"

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# An idle connection is not reused after this long: servers close theirs after a keep-alive
# timeout (uvicorn's default is 5 s), and a request written just as the server closes the
# connection is lost; a mutation is then never resent.
MAX_IDLE_SECONDS = 4.0


class _Unanswered(Exception):
    """The connection failed after the request was (perhaps partly) written, before any
    answer: the subgraph may or may not have received and executed it."""


class _TooLarge(Exception):
    pass


def _peer_is_silent(writer: asyncio.StreamWriter) -> bool:
    """No end of stream, reset or stray bytes waiting on an idle connection (urllib3's
    `is_connection_dropped`): the event loop may not have read them yet."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return not poller.poll(0)


@dataclass
class _Origin:
    host: str
    port: int
    tls: ssl.SSLContext | None
    path: bytes
    host_header: bytes
    limit: asyncio.Semaphore
    idle: list[tuple[Connection, float]] = field(default_factory=list)  # and since when

    async def connect(self) -> Connection:
        return await asyncio.open_connection(self.host, self.port, ssl=self.tls, limit=_MAX_HEAD)

    def take_idle(self) -> Connection | None:
        """An idle connection the subgraph has not closed (as far as we can tell without
        writing to it)."""
        fresh_since = time.monotonic() - MAX_IDLE_SECONDS
        while self.idle:
            (reader, writer), since = self.idle.pop()
            if (
                since > fresh_since
                and not reader.at_eof()
                and not writer.is_closing()
                and _peer_is_silent(writer)
            ):
                return reader, writer
            writer.close()
        return None


def _origin(url: str, max_connections: int) -> _Origin:
    parts = urlsplit(url)
    tls = ssl.create_default_context() if parts.scheme == "https" else None
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = (tls is None and port == 80) or (tls is not None and port == 443)
    host_header = parts.hostname or "localhost"
    if not default_port:
        host_header = f"{host_header}:{port}"
    return _Origin(
        parts.hostname or "localhost",
        port,
        tls,
        path.encode(),
        host_header.encode(),
        asyncio.Semaphore(max_connections),
    )


async def _read_chunked(reader: asyncio.StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        total += size
        if total > limit:
            raise _TooLarge
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _read_until_close(reader: asyncio.StreamReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := await reader.read(_READ_SIZE):
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_response(
    reader: asyncio.StreamReader, head: bytes, limit: int
) -> tuple[int, bytes, bool, str | None]:
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    status = int(status_line[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close" and status_line[0] != "HTTP/1.0"
    policy = headers.get("cache-control")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return status, await _read_chunked(reader, limit), keep_alive, policy
    length = headers.get("content-length")
    if length is not None:
        if int(length) > limit:
            raise _TooLarge
        return status, await reader.readexactly(int(length)), keep_alive, policy
    return status, await _read_until_close(reader, limit), False, policy


class StreamTransport:
    """Implements `Transport` with pooled keep-alive connections per subgraph origin."""

    def __init__(
        self,
        urls: Mapping[str, str],
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 128,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.origins = {name: _origin(url, max_connections) for name, url in urls.items()}
        self.timeouts = {name: (timeouts or {}).get(name, timeout) for name in urls}
        self.max_response_bytes = max_response_bytes

    def send(
        self,
        service: str,
        payload: Mapping[str, Any],
        headers: Mapping[str, str],
        *,
        idempotent: bool = False,
    ) -> Awaitable[dict[str, Any]]:
        # (`_post`'s coroutine itself: one frame less on every subgraph request)
        return self._post(service, _JSON, jsonio.dumps(payload), headers, idempotent)

    async def send_multipart(
        self, service: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        body, content_type = encode_multipart(payload)
        own = f"content-type: {content_type}\r\n{PREFLIGHT_HEADER}: true\r\n".encode("latin-1")
        return await self._post(service, own, body, headers, idempotent=False)

    async def _post(
        self,
        service: str,
        content_headers: bytes,
        body: bytes,
        headers: Mapping[str, str],
        idempotent: bool,
    ) -> dict[str, Any]:
        origin = self.origins[service]
        timeout = self.timeouts[service]
        head = (
            b"POST "
            + origin.path
            + b" HTTP/1.1\r\nhost: "
            + origin.host_header
            + b"\r\n"
            + content_headers
            + b"accept: application/json\r\n"
            + f"content-length: {len(body)}\r\n".encode("latin-1")
            + header_lines(headers)
            + b"\r\n"
        )
        try:
            async with asyncio.timeout(timeout):
                status, content, policy = await self._exchange(origin, head + body, idempotent)
        except TimeoutError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} timed out after {timeout}s", "SUBGRAPH_TIMEOUT"
            ) from error
        except _TooLarge as error:
            raise response_too_large(service, self.max_response_bytes) from error
        except _Unanswered as error:
            again = "" if idempotent else "; it was not sent again, as it may have been applied"
            raise SubgraphRequestError(
                service, f"subgraph {service!r} closed the connection before answering{again}"
            ) from error
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} could not be reached: {type(e).__name__}"
            ) from e
        return decode_answer(service, status, content, policy)

    async def _exchange(
        self, origin: _Origin, request: bytes, idempotent: bool
    ) -> tuple[int, bytes, str | None]:
        async with origin.limit:
            reused = origin.take_idle()
            if reused is not None:
                try:
                    return await self._round_trip(origin, reused, request)
                except _Unanswered:
                    if not idempotent:
                        raise
                    # most likely the subgraph closed it while idle, just as we wrote: the
                    # request is safe to repeat, once, on a fresh connection
            return await self._round_trip(origin, await origin.connect(), request)

    async def _round_trip(
        self, origin: _Origin, connection: Connection, request: bytes
    ) -> tuple[int, bytes, str | None]:
        reader, writer = connection
        try:
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError) as error:
                raise _Unanswered from error
            status, content, keep_alive, policy = await _read_response(
                reader, head, self.max_response_bytes
            )
        except BaseException:
            writer.close()
            raise
        if keep_alive:
            origin.idle.append((connection, time.monotonic()))
        else:
            writer.close()
        return status, content, policy

    async def aclose(self) -> None:
        for origin in self.origins.values():
            while origin.idle:
                (_, writer), _ = origin.idle.pop()
                writer.close()
