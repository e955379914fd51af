"""Subscriptions of many clients on one WebSocket per subgraph (`subscription.mode.passthrough`
`multiplex: true`).

A socket per client connection costs the router its handshake, buffers and reader, and the
subgraph as much again, for every subscriber. A subgraph that authenticates each operation
by the headers it carries (`payload.extensions.headers`, what an HTTP request of that caller
would get) can instead take every client's operations on one socket per router process: its
`connection_init` carries no user's credentials, so an operation without a token of its own
runs as nobody (anonymous), never as another operation's caller.

When the socket is lost, every operation on it ends with an error the client sees (as with a
socket of its own): re-subscribing silently would hide the events sent in the gap, while the
client, told, can subscribe again and catch up with a query. The next subscription opens a
new socket.
"""

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from router.transport.websocket import SubgraphSocket


def with_credentials(payload: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """The `subscribe` payload carrying the caller's headers for the subgraph to authenticate
    the operation by (the router builds the payload: nothing of the client's is in it)."""
    extensions = dict(payload.get("extensions") or {})
    extensions["headers"] = dict(headers)
    return {**payload, "extensions": extensions}


class SharedSockets:
    """One router process's shared sockets, one per subgraph URL, opened when first needed."""

    def __init__(self) -> None:
        self._sockets: dict[tuple[str, str], SubgraphSocket] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def subscribe(
        self, service: str, url: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> AsyncGenerator[dict[str, Any]]:
        """The operation's events, as `SubgraphSocket.subscribe` gives them; leaving early (the
        client's `complete`, or its disconnection) completes it at the subgraph."""
        socket = self._sockets.get((service, url))
        if socket is None:
            self._retire(service)
            socket = self._sockets[(service, url)] = SubgraphSocket(service, url, {}, {})
        return socket.subscribe(with_credentials(payload, headers))

    def _retire(self, service: str) -> None:
        """Close the subgraph's idle sockets to other URLs (a reloaded supergraph or
        configuration moved it); one still carrying operations serves them until they end,
        and goes at the next move."""
        for key, socket in list(self._sockets.items()):
            if key[0] == service and socket.idle:
                del self._sockets[key]
                closing = asyncio.get_running_loop().create_task(socket.aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        sockets, self._sockets = list(self._sockets.values()), {}
        closing = [*(socket.aclose() for socket in sockets), *self._closing]
        await asyncio.gather(*closing, return_exceptions=True)

    def __len__(self) -> int:
        """The sockets open or to open (for tests)."""
        return len(self._sockets)
