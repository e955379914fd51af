"""Refuse request bodies over a size limit before reading them whole (413, GraphQL error body)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1_000_000


def error_body(message: str, code: str) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


class BodySizeLimit:
    """max_bytes for every body; multipart_max_bytes (file uploads) for multipart bodies."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, multipart_max_bytes: int = 0
    ) -> None:
        self._app = app
        self._max_plain = max_bytes
        self._max_multipart = max(multipart_max_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self._max_multipart if multipart else self._max_plain
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self._app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = error_body(f"Request body exceeds {limit} bytes.", "PAYLOAD_TOO_LARGE")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class PlainErrorsAsGraphQL:
    """Strawberry answers some bad requests (body not JSON, no query) with a text/plain 4xx;
    clients get the same JSON error shape as for every other error instead."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def rewriting_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if 400 <= message["status"] < 500 and content_type.startswith(b"text/plain"):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                reason = b"".join(chunks).decode(errors="replace") or "Bad request."
                body = error_body(reason, "BAD_REQUEST")
                await send(
                    {
                        "type": "http.response.start",
                        "status": held["status"],
                        "headers": [
                            *(  # what else it said (Cache-Control) still holds
                                (name, value)
                                for name, value in held.get("headers", [])
                                if name.lower() not in (b"content-type", b"content-length")
                            ),
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self._app(scope, receive, rewriting_send)
