"""uvicorn with bounds on slow clients (slowloris): a request head must arrive within
``head_timeout`` seconds of the connection opening (or of the first byte of a later request
on a kept-alive connection), and a request body within ``body_timeout`` seconds of its head.
A client past a bound gets a 408 with a GraphQL error (when it has sent part of a request and
no answer has started) and the connection is closed. uvicorn has no such timeouts; this is
its httptools protocol with two timers. Used by the router and by every subgraph."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_TIMEOUT = 10.0
BODY_TIMEOUT = 60.0


@dataclass(frozen=True)
class SlowClientLimits:
    head_timeout: float = HEAD_TIMEOUT
    body_timeout: float = BODY_TIMEOUT


def _timeout_response(message: str) -> bytes:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "REQUEST_TIMEOUT"}}]})
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body.encode())
    )


class BoundedHttpProtocol(HttpToolsProtocol):
    limits = SlowClientLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_started = False

    def _arm(self, seconds: float, expired: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, what: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if what == "head":
            unanswered = self._head_started
        else:
            unanswered = cycle is not None and not cycle.response_started
        if unanswered:
            self.transport.write(_timeout_response(f"The request {what} arrived too slowly."))
        if what == "body" and cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the application's reads end, its writes are dropped
            cycle.message_event.set()
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.head_timeout, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm(self.limits.head_timeout, "head")

    def on_headers_complete(self) -> None:
        self._disarm()
        self._head_started = False
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm(self.limits.body_timeout, "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


def bounded_protocol(limits: SlowClientLimits) -> type[BoundedHttpProtocol]:
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), {"limits": limits})


def uvicorn_options(limits: SlowClientLimits | None = None) -> dict[str, Any]:
    """What the router and every subgraph give `uvicorn.run` / `uvicorn.Config`."""
    return {
        "http": bounded_protocol(limits or SlowClientLimits()),
        "log_config": None,
        "access_log": False,
    }
