"""Subscriptions at subgraphs: a graphql-transport-ws client over one WebSocket.

One `SubgraphSocket` serves every subscription that one client connection opens at one
subgraph: it connects on first use with that client's credentials (as headers on the upgrade
and as the `connection_init` payload), multiplexes operations by id, answers the subgraph's
pings, and ends every operation with an error when the connection is lost.
(https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md)
"""

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from router import jsonio
from router.errors import error
from router.mailbox import Mailbox
from router.transport.headers import HeaderRules

logger = logging.getLogger("router")

PROTOCOL: Final = Subprotocol("graphql-transport-ws")
QUEUE_SIZE: Final = 256  # events of one operation not yet taken by the router
MAX_MESSAGE_BYTES: Final = 16 * 1024 * 1024
CODE: Final = "SUBREQUEST_WEBSOCKET_ERROR"


class SubgraphStreamError(Exception):
    """The subgraph ended an operation with errors, or could not be reached or kept."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "subscription failed")
        self.errors = errors


_COMPLETE: Final = object()


def _text(message: dict[str, Any]) -> str:
    return jsonio.dumps(message).decode()


def websocket_url(http_url: str) -> str:
    """The WebSocket URL of a subgraph given by its HTTP URL (ws:// for http://)."""
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    if http_url.startswith("http://"):
        return "ws://" + http_url.removeprefix("http://")
    return http_url


class _Operation:
    __slots__ = ("ended", "queue")

    def __init__(self) -> None:
        self.queue: Mailbox[Any] = Mailbox()  # bounded by `offer`
        self.ended = False

    def offer(self, item: Any, service: str) -> None:
        if self.ended:
            return
        if item is _COMPLETE or isinstance(item, SubgraphStreamError):
            self.ended = True  # the backlog is still delivered, then the end
        elif self.queue.qsize() >= QUEUE_SIZE:
            self.ended = True
            self.queue.clear()
            item = SubgraphStreamError(
                [
                    error(
                        f"the router fell behind subgraph {service!r}; the subscription was ended",
                        CODE,
                        serviceName=service,
                    )
                ]
            )
        self.queue.put_nowait(item)


class SubgraphSocket:
    def __init__(
        self,
        service: str,
        url: str,
        headers: Mapping[str, str],
        init_payload: Mapping[str, Any],
        *,
        open_timeout: float = 10.0,
    ) -> None:
        self.service = service
        self.url = websocket_url(url)
        self.headers = dict(headers)
        self.init_payload = dict(init_payload)
        self.open_timeout = open_timeout
        self._connection: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._operations: dict[str, _Operation] = {}
        self._ids = itertools.count(1)
        self._opening: asyncio.Task[ClientConnection] | None = None
        self._closed = False

    def _failure(self, message: str) -> SubgraphStreamError:
        return SubgraphStreamError([error(message, CODE, serviceName=self.service)])

    async def _connected(self) -> ClientConnection:
        """The open socket, or one being opened: everyone waiting shares one attempt and its
        outcome (a subgraph that does not answer costs the thousand subscribers of a shared
        socket one `open_timeout`, not one each)."""
        if self._closed:
            raise self._failure("the client connection is closing")
        if self._connection is not None and self._reader and not self._reader.done():
            return self._connection
        if self._opening is None or self._opening.done():
            self._opening = asyncio.get_running_loop().create_task(
                self._open(), name=f"subgraph-socket-open:{self.service}"
            )
        # shielded: a waiter that leaves does not end the others' attempt
        return await asyncio.shield(self._opening)

    async def _open(self) -> ClientConnection:
        try:
            async with asyncio.timeout(self.open_timeout):
                connection = await connect(
                    self.url,
                    subprotocols=[PROTOCOL],
                    additional_headers=self.headers,
                    max_size=MAX_MESSAGE_BYTES,
                    open_timeout=None,
                    compression=None,  # a local hop: deflate costs memory and CPU per event
                    # no keep-alive task per socket: the subgraph pings this socket, and a
                    # subgraph that goes away closes it
                    ping_interval=None,
                )
                await connection.send(
                    _text({"type": "connection_init", "payload": self.init_payload})
                )
                await self._acknowledged(connection)
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed) as err:
            logger.warning(
                "subscription: cannot open a WebSocket to subgraph %s: %r", self.service, err
            )
            raise self._failure(
                f"subgraph {self.service!r} could not be reached over WebSocket"
            ) from None
        if self._closed:  # closed while it opened
            await self._close(connection)
            raise self._failure("the client connection is closing")
        self._connection = connection
        self._reader = asyncio.get_running_loop().create_task(
            self._read(connection), name=f"subgraph-socket:{self.service}"
        )
        return connection

    @property
    def idle(self) -> bool:
        """No operation is open on it."""
        return not self._operations

    async def _acknowledged(self, connection: ClientConnection) -> None:
        while True:
            try:
                message = jsonio.loads(await connection.recv())
            except ValueError:  # not JSON: as unusable an answer as a wrong message
                message = None
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "connection_ack":
                return
            if kind == "ping":
                await connection.send(_text({"type": "pong"}))
                continue
            raise ConnectionClosed(None, None)

    async def subscribe(self, payload: Mapping[str, Any]) -> AsyncGenerator[dict[str, Any]]:
        """The operation's results (`next` payloads) until the subgraph completes it; raises
        SubgraphStreamError when it fails. Leaving early completes it at the subgraph."""
        connection = await self._connected()
        operation_id = str(next(self._ids))
        operation = self._operations[operation_id] = _Operation()
        try:
            await connection.send(
                _text({"id": operation_id, "type": "subscribe", "payload": payload})
            )
            while True:
                item = await operation.queue.get()
                if item is _COMPLETE:
                    return
                if isinstance(item, SubgraphStreamError):
                    raise item
                yield item
        except ConnectionClosed:
            raise self._failure(f"the WebSocket to subgraph {self.service!r} closed") from None
        finally:
            self._operations.pop(operation_id, None)
            if not operation.ended:
                with contextlib.suppress(ConnectionClosed):  # then the subgraph ends it anyway
                    await connection.send(_text({"id": operation_id, "type": "complete"}))

    async def _read(self, connection: ClientConnection) -> None:
        reason = f"the WebSocket to subgraph {self.service!r} closed"
        try:
            async for raw in connection:
                try:
                    message = jsonio.loads(raw)
                except ValueError:
                    reason = f"subgraph {self.service!r} sent a message that is not JSON"
                    break
                if not isinstance(message, dict):
                    continue
                kind = message.get("type")
                if kind == "ping":
                    await connection.send(_text({"type": "pong"}))
                    continue
                operation = self._operations.get(str(message.get("id")))
                if operation is None:
                    continue
                if kind == "next":
                    payload = message.get("payload")
                    operation.offer(payload if isinstance(payload, dict) else {}, self.service)
                elif kind == "complete":
                    operation.offer(_COMPLETE, self.service)
                elif kind == "error":
                    operation.offer(self._errors(message.get("payload")), self.service)
        except ConnectionClosed:
            pass
        finally:
            failure = self._failure(reason)
            for operation in list(self._operations.values()):
                operation.offer(failure, self.service)
            await self._close(connection)

    async def _close(self, connection: ClientConnection) -> None:
        try:
            await asyncio.wait_for(connection.close(), 2.0)
        except (ConnectionClosed, OSError, TimeoutError) as error:
            logger.debug("subscription: WebSocket to %s closed uncleanly: %r", self.service, error)

    def _errors(self, payload: Any) -> SubgraphStreamError:
        raw = payload if isinstance(payload, list) else [payload]
        errors = []
        for item in raw:
            message = item.get("message") if isinstance(item, dict) else None
            extensions = item.get("extensions") if isinstance(item, dict) else None
            extra = dict(extensions) if isinstance(extensions, dict) else {}
            extra.setdefault("code", "SUBGRAPH_ERROR")
            extra["serviceName"] = self.service
            errors.append({"message": str(message or "subgraph error"), "extensions": extra})
        return SubgraphStreamError(errors)

    async def aclose(self) -> None:
        self._closed = True
        connection, reader, opening = self._connection, self._reader, self._opening
        self._connection = None
        if opening is not None and not opening.done():
            opening.cancel()
            await asyncio.gather(opening, return_exceptions=True)
        if connection is not None:
            await self._close(connection)
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


class SubgraphSockets:
    """The sockets of one client connection, one per subgraph, opened when first needed."""

    def __init__(
        self, urls: Mapping[str, str], headers: Mapping[str, str], rules: HeaderRules
    ) -> None:
        self.urls = urls
        self.headers = headers  # the client connection's (a `ForwardedHeaders`)
        self.rules = rules  # `headers:`, applied to each subgraph's upgrade request
        self._sockets: dict[str, SubgraphSocket] = {}

    def subscribe(self, service: str, payload: Mapping[str, Any]) -> AsyncGenerator[dict[str, Any]]:
        socket = self._sockets.get(service)
        if socket is None:
            headers = self.rules.for_subgraph(service, self.headers)
            # the credentials go in connection_init too, where subgraphs read them
            token = headers.get("authorization")
            init_payload = {"Authorization": token} if token else {}
            socket = self._sockets[service] = SubgraphSocket(
                service, self.urls[service], headers, init_payload
            )
        return socket.subscribe(payload)

    async def aclose(self) -> None:
        sockets, self._sockets = list(self._sockets.values()), {}
        await asyncio.gather(*(socket.aclose() for socket in sockets), return_exceptions=True)
