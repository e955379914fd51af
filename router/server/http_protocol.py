"""uvicorn's HTTP protocol (httptools) with the bounds it lacks, for the router and every
subgraph: a request head must arrive within ``head_timeout`` seconds of the connection
opening (or of its first byte on a kept-alive connection) and be at most ``max_head_bytes``;
a body must arrive within ``body_timeout`` seconds of its head (slowloris). A client past a
bound, or one that sends what is not HTTP, gets a JSON error with a code (unless an answer
has started) and the connection is closed."""

import asyncio
import http
import json
from dataclasses import dataclass
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


class BoundedHttpProtocol(HttpToolsProtocol):
    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = True  # until a head is complete; again from a later request's first byte
        self._head_bytes = 0
        self._lingering = False  # refused: what still arrives is dropped until we close

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, part)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, status: http.HTTPStatus, message: str, code: str) -> None:
        cycle = self.cycle
        answering = cycle is not None and cycle.response_started and not cycle.response_complete
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
        if self._in_head and not self.transport.is_closing() and not self._lingering:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                message = f"The request head is larger than {self.limits.max_head_bytes} bytes."
                status = http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                self._refuse(status, message, "REQUEST_HEADER_FIELDS_TOO_LARGE")

    def send_400_response(self, msg: str) -> None:
        message = "The request is not valid HTTP."
        self._refuse(http.HTTPStatus.BAD_REQUEST, message, "BAD_REQUEST")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # a later request on a kept-alive connection
            self._in_head, self._head_bytes = True, 0
            self._arm(self.limits.head_timeout, "head")

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head = False
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm(self.limits.body_timeout, "body")

    def on_message_complete(self) -> None:
        self._disarm()
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
