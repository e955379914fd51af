"""Local receivers that speak the real protocols: an SMTP server and an HTTP webhook endpoint.

Tests point the platform's email and SMS/push settings at them and assert on what arrived;
each can be told to refuse the next few messages, to exercise retries.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from email.message import EmailMessage
from typing import Any, TypeVar

from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.infra.mail import MailCatcher
from common.infra.ports import free_port
from tests.support import serve

T = TypeVar("T")


async def _wait(items: list[T], predicate: Callable[[T], bool], within: float, what: str) -> T:
    for _ in range(max(1, int(within / 0.05))):
        for item in list(items):
            if predicate(item):
                return item
        await asyncio.sleep(0.05)
    raise AssertionError(f"no matching {what} arrived within {within} s ({len(items)} seen)")


class SmtpSink(MailCatcher):
    """The mail catcher, with a way to wait for a message, and to refuse recipients.

    ``refuse_next(code, times)`` answers DATA with `code` (the whole message refused);
    ``refuse_recipients(code, times)`` answers RCPT TO with it (the address refused)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recipient_refusals: list[int] = []
        self._recipient_lock = threading.Lock()

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def refuse_recipients(self, code: int, times: int = 1) -> None:
        with self._recipient_lock:
            self._recipient_refusals = [code] * times

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self._recipient_lock:
            if self._recipient_refusals:
                return f"{self._recipient_refusals.pop()} recipient refused by the mail catcher"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def wait_for(
        self, predicate: Callable[[EmailMessage], bool], within: float = 10.0
    ) -> EmailMessage:
        return await _wait(self.messages, predicate, within, "email")


class WebhookSink(AbstractAsyncContextManager["WebhookSink"]):
    """An HTTP endpoint recording each request (path, headers, raw body, JSON)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[dict[str, Any]] = []
        self._statuses: list[tuple[int, str | None]] = []
        self._server: AbstractAsyncContextManager[str] | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        payload = _json(body)
        to = payload.get("to") if isinstance(payload, dict) else None
        status = 200
        for index, (code, recipient) in enumerate(self._statuses):
            if recipient is None or recipient == to:
                del self._statuses[index]
                status = code
                break
        self.requests.append(
            {
                "path": request.url.path,
                "headers": dict(request.headers),
                "body": body,
                "json": payload,
                "status": status,
            }
        )
        return JSONResponse({"id": f"provider-{len(self.requests)}"}, status_code=status)

    def respond_with(self, status: int, times: int = 1, to: str | None = None) -> None:
        """Answer the next `times` requests (for `to`, or any) with `status` (0 times: 200)."""
        self._statuses = [(status, to)] * times

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 10.0
    ) -> dict[str, Any]:
        """The first request answered with success that matches."""
        return await _wait(
            self.requests, lambda r: r["status"] < 300 and predicate(r), within, "request"
        )

    async def __aenter__(self) -> WebhookSink:
        self._server = serve(self.app, self.port)
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._server is not None:
            await self._server.__aexit__(*exc)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
