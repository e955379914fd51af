"""A GraphQL-over-WebSocket client for tests, speaking either subprotocol as a frontend
would: graphql-transport-ws (graphql-ws's client) or the legacy graphql-ws."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
WAIT = 10.0


@dataclass
class GraphQLSocket:
    connection: ClientConnection
    protocol: str
    ids: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # keep-alives seen

    @property
    def legacy(self) -> bool:
        return self.protocol == LEGACY_WS

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self, seconds: float = WAIT) -> dict[str, Any]:
        """The next message that is not a keep-alive (answering the server's pings)."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), seconds)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ping":
                # the server may be closing meanwhile: what it sent before still counts
                with contextlib.suppress(ConnectionClosed):
                    await self.send({"type": "pong"})
            if message.get("type") in ("ping", "pong", "ka"):
                self.skipped.append(message)
                continue
            return message

    async def init(self, token: str | None = None, **payload: Any) -> dict[str, Any]:
        if token is not None:
            payload["Authorization"] = f"Bearer {token}"
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, operation_id: str | None = None
    ) -> str:
        if operation_id is None:
            self.ids += 1
            operation_id = str(self.ids)
        kind = "start" if self.legacy else "subscribe"
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation_id, "type": kind, "payload": payload})
        return operation_id

    async def stop(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "stop" if self.legacy else "complete"})

    async def next_payload(self, operation_id: str, seconds: float = WAIT) -> dict[str, Any]:
        """The payload of the operation's next result (`next`, or legacy `data`)."""
        message = await self.receive(seconds)
        assert message.get("id") == operation_id, message
        assert message["type"] == ("data" if self.legacy else "next"), message
        payload: dict[str, Any] = message["payload"]
        return payload

    async def closed(self, seconds: float = WAIT) -> tuple[int | None, str]:
        """Read until the server closes; its close code and reason."""
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(seconds):
                while True:
                    await self.connection.recv()
        await self.connection.wait_closed()
        return self.connection.close_code, self.connection.close_reason or ""


@contextlib.asynccontextmanager
async def graphql_socket(
    http_url: str,
    protocol: str = TRANSPORT_WS,
    *,
    headers: dict[str, str] | None = None,
    receive_buffer: int | None = None,
) -> AsyncIterator[GraphQLSocket]:
    """A WebSocket to `<http_url>/graphql`; `receive_buffer` shrinks the socket's receive
    buffer (a client that reads slowly)."""
    url = http_url.replace("http://", "ws://", 1) + "/graphql"
    sock = None
    if receive_buffer is not None:
        host, port = http_url.removeprefix("http://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    async with connect(
        url,
        subprotocols=[Subprotocol(protocol)],
        additional_headers=headers or {},
        sock=sock,
        max_queue=1 if receive_buffer is not None else 16,
        compression=None,  # sizes on the wire are what the tests say they are
        open_timeout=WAIT,
    ) as connection:
        yield GraphQLSocket(connection, protocol)
