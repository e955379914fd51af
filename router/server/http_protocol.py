"""uvicorn's HTTP protocol (httptools) with the bounds it lacks, for the router and every
subgraph: a request head must arrive within ``head_timeout`` seconds of the connection
opening (or of its first byte on a kept-alive connection) and be at most ``max_head_bytes``;
a body must arrive within ``body_timeout`` seconds of its head (slowloris). A client past a
bound, or one that sends what is not HTTP, gets a JSON error with a code (unless an answer
has started) and the connection is closed."""

import asyncio
import http
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any, Final

import httptools
from uvicorn._types import ASGI3Application, ASGISendEvent
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from router.server.websocket_protocol import LeanWebSocketProtocol

# How long a refused connection's late bytes are read and dropped before it is closed.
LINGER_SECONDS = 2.0

# How long an idle kept-alive connection stays open. It must outlast the idle expiry of the
# clients between our services (httpx keeps idle connections 5 s): with equal timers a
# client may reuse a connection just as the server closes it, and the request fails with
# "server disconnected" (uvicorn's default is those same 5 s).
KEEP_ALIVE_SECONDS = 30.0


@dataclass(frozen=True)
class ConnectionLimits:
    head_timeout: float = 10.0
    body_timeout: float = 60.0
    max_head_bytes: int = 64 * 1024


def _error_response(status: http.HTTPStatus, message: str, code: str) -> bytes:
    error = {"message": message, "extensions": {"code": code}}
    body = json.dumps({"errors": [error]}).encode()
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class LeanCycle(RequestResponseCycle):
    """uvicorn's request/response cycle with a leaner answer: the head is built with one
    check of every header name and one of every value (uvicorn checks each header twice),
    and a response whose length is known is written with its body in one call (one
    system call, one segment train on the wire: uvicorn writes the head, then the body).
    A response without a length (streamed, chunked), to HEAD, or of no body, has its head
    written at once, as uvicorn does; anything unusual (a message out of order) is left to
    uvicorn's `send`, which raises as it always has."""

    head: bytes | None = None  # the response head, until the first body message writes it

    @property
    def answered(self) -> bool:
        """Whether any of the answer has been written (its head may wait for its body)."""
        return self.response_started and self.head is None

    async def send(self, message: ASGISendEvent) -> None:
        if self.response_started:
            head = self.head
            if head is None or message["type"] != "http.response.body":
                await super().send(message)
                return
            if self.flow.write_paused and not self.disconnected:
                await self.flow.drain()
            if self.disconnected:
                return
            self.head = None
            body: bytes = message.get("body", b"")
            more_body = message.get("more_body", False)
            if len(body) > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= len(body)
            self.transport.writelines((head, body))
            if not more_body:
                if self.expected_content_length != 0:
                    raise RuntimeError("Response content shorter than Content-Length")
                self.response_complete = True
                self.message_event.set()
                if not self.keep_alive:
                    self.transport.close()
                self.on_response()
            return
        if message["type"] != "http.response.start" or self.disconnected or self.flow.write_paused:
            await super().send(message)  # (uvicorn's: the head written at once)
            return
        self.response_started = True
        self.waiting_for_100_continue = False
        status: int = message["status"]
        headers = [*self.default_headers, *message.get("headers", ())]
        names = b"".join([name for name, _ in headers])
        if HEADER_RE.search(names):
            raise RuntimeError("Invalid HTTP header name.")
        if HEADER_VALUE_RE.search(b"".join([value for _, value in headers])):
            raise RuntimeError("Invalid HTTP header value.")
        content = [STATUS_LINE[status]]
        has_connection_close = False
        for name, value in headers:
            name = name.lower()
            if name == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif name == b"connection":
                tokens = [token.lower().strip() for token in value.split(b",")]
                if b"close" in tokens:
                    self.keep_alive = False
                    has_connection_close = True
            content += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        head_only = self.scope["method"] == "HEAD"
        if self.chunked_encoding is None and not head_only and status not in (204, 304):
            self.chunked_encoding = True  # neither a length nor chunks named: chunks
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        head = b"".join(content)
        if head_only or self.expected_content_length == 0:  # (chunked: no length either)
            self.transport.write(head)
        else:
            self.head = head


class BoundedHttpProtocol(HttpToolsProtocol):
    limits = ConnectionLimits()
    cycle: LeanCycle

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = True  # until a head is complete; again from a later request's first byte
        self._head_bytes = 0
        self._lingering = False  # refused: what still arrives is dropped until we close
        # the deadline the bytes being parsed call for ("head", "body"), armed once they are
        # parsed: a request that arrives whole in one read arms and cancels no timer
        self._due: str | None = None

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, part)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, status: http.HTTPStatus, message: str, code: str) -> None:
        cycle = self.cycle
        answering = cycle is not None and cycle.answered and not cycle.response_complete
        if not answering:
            self.transport.write(_error_response(status, message, code))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the application's reads end, its writes are dropped
            cycle.message_event.set()
        self._linger()

    def _linger(self) -> None:
        """Close after the answer, but first read and drop what the client is still sending,
        for a moment (a lingering close, as nginx's): closing with unread bytes would reset
        the connection, and the client could lose the answer before reading it."""
        self._disarm()
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the answer, then our end of the stream
        self._deadline = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _too_slow(self, part: str) -> None:
        self._deadline = None
        if self.transport.is_closing() or self._lingering:
            return
        if part == "head" and self._head_bytes == 0:
            self.transport.close()  # an idle connection that never asked anything
            return
        message = f"The request {part} did not arrive in time."
        self._refuse(http.HTTPStatus.REQUEST_TIMEOUT, message, "REQUEST_TIMEOUT")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.head_timeout, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        super().data_received(data)
        if self.transport.is_closing() or self._lingering:
            return
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                message = f"The request head is larger than {self.limits.max_head_bytes} bytes."
                status = http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                self._refuse(status, message, "REQUEST_HEADER_FIELDS_TOO_LARGE")
                return
        due = self._due
        if due is not None:
            self._due = None
            limits = self.limits
            self._arm(limits.head_timeout if due == "head" else limits.body_timeout, due)

    def send_400_response(self, msg: str) -> None:
        message = "The request is not valid HTTP."
        self._refuse(http.HTTPStatus.BAD_REQUEST, message, "BAD_REQUEST")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # a later request on a kept-alive connection
            self._in_head, self._head_bytes = True, 0
            self._due = "head"

    def on_headers_complete(self) -> None:
        """uvicorn's, with a `LeanCycle`, and the body's deadline due."""
        self._disarm()
        self._due = None
        self._in_head = False
        parser = self.parser
        scope = self.scope
        http_version = parser.get_http_version()
        scope["method"] = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        if parser.should_upgrade() and self._should_upgrade():
            return
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        scope["path"] = self.root_path + path
        scope["raw_path"] = (
            self.root_path.encode("ascii") + raw_path if self.root_path else raw_path
        )
        scope["query_string"] = parsed_url.query or b""
        app: ASGI3Application = self.app
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        previous = self.cycle
        self.cycle = cycle = LeanCycle(
            scope,
            self.transport,
            self.flow,
            self.logger,
            self.access_logger,
            self.access_log,
            self.server_state.default_headers,
            asyncio.Event(),
            self.expect_100_continue,
            http_version != "1.0" and parser.should_keep_alive(),
            self.on_response_complete,
        )
        if previous is None or previous.response_complete:
            self._start_asgi_task(cycle, app)
        else:  # pipelined: waits for the answer before it
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, app))
        self._due = "body"

    def on_message_complete(self) -> None:
        self._disarm()
        self._due = None
        super().on_message_complete()


# A stop (SIGTERM) lets requests in flight finish for this long, then ends the connections
# left (a subscription, a client that never reads) and runs the app's shutdown: within
# Kubernetes' default 30 s grace period, instead of waiting for the last connection forever.
GRACEFUL_SHUTDOWN_SECONDS: Final = 10


def uvicorn_options(limits: ConnectionLimits | None = None) -> dict[str, Any]:
    """What the router and every subgraph give `uvicorn.run` / `uvicorn.Config`.

    The client address an app sees is the socket's peer: uvicorn's own X-Forwarded-For
    reading (on by default, trusting 127.0.0.1) is off, since it would let any local client
    name itself; the router (`rate_limit.trusted_proxies`) and the subgraphs
    (`common.graphql.context.client_address`) read the header themselves. WebSockets use
    `LeanWebSocketProtocol` (smaller permessage-deflate windows)."""
    bounded = type("BoundedHttpProtocol", (BoundedHttpProtocol,), {"limits": limits})
    return {
        "http": bounded if limits is not None else BoundedHttpProtocol,
        "ws": LeanWebSocketProtocol,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }
