"""A lean HTTP/1.1 keep-alive client for subgraph POSTs only, on asyncio protocols.

httpx costs about a millisecond of CPU per subgraph call and its pool slows down as
concurrency grows; subgraph traffic needs far less: POST a JSON body to a handful of
known origins and read a JSON answer (Content-Length, chunked or until close). Each pooled
connection is a `Connection` protocol that parses the answer as the event loop hands it
over; a call waits on one future, with one timer for its timeout.

A request is written at most once, as mature clients do (Go's net/http, urllib3): an idle
connection the subgraph has closed is dropped before anything is written to it, and only an
idempotent request (a query) whose reused connection fails before any answer is sent again,
once, on a fresh connection. A mutation or an upload that was written is never resent.
"""

import asyncio
import ssl
from collections import deque
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
from router.transport.connection import Answer, Connection, Deadlines, TooLarge, Unanswered
from router.transport.headers import header_lines
from router.transport.multipart import PREFLIGHT_HEADER, encode_multipart

_JSON = b"content-type: application/json\r\n"

# An idle connection is not reused after this long: servers close theirs after a keep-alive
# timeout (uvicorn's default is 5 s), and a request written just as the server closes the
# connection is lost; a mutation is then never resent.
MAX_IDLE_SECONDS = 4.0


@dataclass
class _Origin:
    host: str
    port: int
    tls: ssl.SSLContext | None
    path: bytes
    host_header: bytes
    max_connections: int
    deadlines: Deadlines
    busy: int = 0  # connections in use (or being opened)
    waiting: deque["asyncio.Future[None]"] = field(default_factory=deque)  # for a free one
    idle: list[Connection] = field(default_factory=list)

    async def connect(
        self, loop: asyncio.AbstractEventLoop, deadline: float, limit: int
    ) -> Connection:
        async with asyncio.timeout_at(deadline):
            _, connection = await loop.create_connection(
                lambda: Connection(loop, limit, self.deadlines), self.host, self.port, ssl=self.tls
            )
        return connection

    def take_idle(self, now: float) -> Connection | None:
        """An idle connection the subgraph has not closed (as far as we can tell without
        writing to it)."""
        fresh_since = now - MAX_IDLE_SECONDS
        idle = self.idle
        while idle:
            connection = idle.pop()
            if connection.usable(fresh_since):
                return connection
            connection.close()
        return None

    async def wait_for_turn(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """Every connection is in use: waits until one is released to us."""
        turn: asyncio.Future[None] = loop.create_future()
        self.waiting.append(turn)
        try:
            async with asyncio.timeout_at(deadline):
                await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.release()  # handed over just as the wait ended: pass it on
            else:
                turn.cancel()  # (`release` skips it)
            raise

    def release(self) -> None:
        waiting = self.waiting
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the connection slot passes on as it is
                return
        self.busy -= 1


def _origin(url: str, max_connections: int, timeout: float) -> _Origin:
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
        max_connections,
        Deadlines(min(max(timeout / 16, 0.001), 1.0)),
    )


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
        self.timeouts = {name: (timeouts or {}).get(name, timeout) for name in urls}
        self.origins = {
            name: _origin(url, max_connections, self.timeouts[name]) for name, url in urls.items()
        }
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
        loop = asyncio.get_running_loop()
        try:
            status, content, policy = await self._exchange(
                origin, loop, loop.time() + timeout, head + body, idempotent
            )
        except TimeoutError as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} timed out after {timeout}s", "SUBGRAPH_TIMEOUT"
            ) from error
        except TooLarge as error:
            raise response_too_large(service, self.max_response_bytes) from error
        except Unanswered as error:
            again = "" if idempotent else "; it was not sent again, as it may have been applied"
            raise SubgraphRequestError(
                service, f"subgraph {service!r} closed the connection before answering{again}"
            ) from error
        except (OSError, ValueError) as error:
            raise SubgraphRequestError(
                service, f"subgraph {service!r} could not be reached: {type(error).__name__}"
            ) from error
        return decode_answer(service, status, content, policy)

    async def _exchange(
        self,
        origin: _Origin,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        request: bytes,
        idempotent: bool,
    ) -> Answer:
        if origin.busy < origin.max_connections and not origin.waiting:
            origin.busy += 1
        else:
            await origin.wait_for_turn(loop, deadline)
        try:
            connection = origin.take_idle(loop.time())
            fresh = connection is None
            if connection is None:
                connection = await origin.connect(loop, deadline, self.max_response_bytes)
            while True:
                try:
                    answer = await connection.exchange(request, deadline)
                except BaseException as error:
                    connection.abandon()
                    if fresh or not idempotent or not isinstance(error, Unanswered):
                        raise
                    # most likely the subgraph closed it while idle, just as we wrote: the
                    # request is safe to repeat, once, on a fresh connection
                    connection = await origin.connect(loop, deadline, self.max_response_bytes)
                    fresh = True
                    continue
                if connection.reusable:
                    origin.idle.append(connection)
                return answer
        finally:
            origin.release()

    async def aclose(self) -> None:
        for origin in self.origins.values():
            while origin.idle:
                origin.idle.pop().close()
            origin.deadlines.close()
