"""One client WebSocket at /graphql: its handshake, operations, keep-alive and limits.

The connection is authenticated once, by `connection_init`: an access token or an API key,
in its payload or on the upgrade request (`router.subscriptions.credentials`).
Every message to the client goes through one bounded queue drained by one writer: a client
that reads too slowly fills it and is disconnected (1013), without anyone else waiting. A
message to a client whose queue is empty and whose socket takes writes is written at once,
through the server's `send_text_now` when it offers one (router/server/websocket_protocol.py),
without a writer task or an ASGI message.
When the access token expires, or the revocation list plugged in says its session ended
(router/policies/revocations.py), every operation ends with an UNAUTHENTICATED error and the
socket closes with 4403, so a client reconnects with a fresh token.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import Gauge
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from router import jsonio, telemetry
from router.errors import error
from router.gateway.gateway import GraphQLRequest, GraphQLResponse
from router.gateway.reload import LiveGateway
from router.gateway.variables import variables_problem
from router.mailbox import Flag, Mailbox
from router.metrics import REGISTRY
from router.planning import PlanningError
from router.policies.api_keys import ApiKeysUnavailable
from router.policies.authentication import AuthenticationFailed, Caller
from router.policies.credentials import Credentials
from router.policies.revocations import SESSION_ENDED
from router.ratelimit import RouterLimits, connection_identity
from router.subscriptions.credentials import connection_headers
from router.subscriptions.limits import SubscriptionLimits
from router.subscriptions.protocols import SEND_TEXT_NOW, CloseCode, Protocol, SendTextNow, choose
from router.subscriptions.stream import subscription_results
from router.subscriptions.upstream import Upstream
from router.transport.headers import ForwardedHeaders, as_headers
from router.transport.shared_sockets import SharedSockets
from router.transport.websocket import SubgraphStreamError

logger = logging.getLogger("router")

CLOSE_TIMEOUT = 10.0  # seconds a close frame may wait for a client to make room for it

WEBSOCKETS = Gauge(
    "router_websocket_connections", "Client WebSocket connections open", registry=REGISTRY
)
SUBSCRIPTIONS = Gauge(
    "router_active_subscriptions", "Subscriptions streaming events to clients", registry=REGISTRY
)


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


class ClientConnection:
    __slots__ = (
        "_closers",
        "_closing",
        "_done",
        "_keepalive_timer",
        "_outbox",
        "_send_now",
        "_sockets",
        "_timers",
        "_unwatch",
        "_writer",
        "acknowledged",
        "caller",
        "credentials",
        "forwarded",
        "initialised",
        "limits",
        "live",
        "multiplexes",
        "operations",
        "protocol",
        "rate_limits",
        "shared",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        protocol: Protocol,
        live: LiveGateway,
        credentials: Credentials | None,
        limits: SubscriptionLimits,
        rate_limits: RouterLimits | None = None,
        shared: SharedSockets | None = None,
        multiplexes: Callable[[str], bool] = lambda _: False,
    ) -> None:
        self.websocket = websocket
        self.shared = shared  # the router's sockets that carry many clients' operations
        self.multiplexes = multiplexes  # which subgraphs take operations on them
        self.protocol = protocol
        self.live = live
        self.credentials = credentials
        self.limits = limits
        self.rate_limits = rate_limits
        self.caller: Caller | None = None
        self.forwarded: Mapping[str, str] = {}
        self.initialised = False  # connection_init received
        self.acknowledged = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._outbox: Mailbox[bytes | _Close] = Mailbox()  # bounded by `send`
        extensions = websocket.scope.get("extensions") or {}
        self._send_now: SendTextNow | None = extensions.get(SEND_TEXT_NOW)
        self._closing = False
        self._done = Flag()
        self._sockets: Upstream | None = None
        # Timers are call_later handles, not tasks, and the writer is a task only while
        # there is something to write: fewer objects per connection (memory, and what the
        # garbage collector walks) when thousands are open.
        self._timers: list[asyncio.TimerHandle] = []
        self._keepalive_timer: asyncio.TimerHandle | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closers: list[asyncio.Task[None]] = []
        self._unwatch: Callable[[], None] = lambda: None  # revocation of the caller's token

    # Lifecycle

    async def run(self) -> None:
        await self.websocket.accept(subprotocol=self.protocol.name)
        with WEBSOCKETS.track_inprogress():
            await self._serve()

    async def _serve(self) -> None:
        reader = asyncio.create_task(self._read(), name="ws-reader")
        reader.add_done_callback(lambda _: self._done.set())
        self._later(self.limits.init_timeout, self._init_deadline)
        try:
            await self._done.wait()  # the client left, or the connection was closed
        finally:
            reader.cancel()
            self._unwatch()
            for timer in self._timers:
                timer.cancel()
            if self._keepalive_timer is not None:
                self._keepalive_timer.cancel()
            for task in self.operations.values():
                task.cancel()
            await asyncio.gather(reader, *self.operations.values(), return_exceptions=True)
            if self._sockets is not None:
                await self._sockets.aclose()
            writers = [self._writer] if self._writer is not None else []
            if not self._closing:  # the client went away: nothing more to write
                for writer in writers:
                    writer.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*writers, *self._closers, return_exceptions=True),
                    CLOSE_TIMEOUT + 1,
                )

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message for the client; one that is too far behind is disconnected."""
        if self._closing:
            return
        if len(self._outbox) >= self.limits.queue_size:
            logger.warning("subscription client too slow; disconnecting it")
            self.close(
                CloseCode.TRY_AGAIN_LATER,
                "Too slow: messages were not read; reconnect and catch up with a query",
                flush=False,
            )
            return
        text = jsonio.dumps(message)
        if self._writer is None and not self._outbox and self._send_now and self._send_now(text):
            return  # (nothing was queued, so nothing is owed before it)
        self._enqueue(text)

    def _enqueue(self, item: bytes | _Close) -> None:
        """Queue for the writer, starting one when none is running."""
        self._outbox.put_nowait(item)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="ws-writer")

    def close(self, code: int, reason: str, *, flush: bool = True) -> None:
        """Close after what is queued (flush), or at once, dropping what is queued (a client
        too slow to flush to: its writer is stopped and the close goes out when the socket
        can take it, or never, after CLOSE_TIMEOUT)."""
        if self._closing:
            return
        self._closing = True
        if flush:
            self._enqueue(_Close(code, reason))
            return
        if self._writer is not None:
            self._writer.cancel()
        self._closers.append(asyncio.create_task(self._close_now(_Close(code, reason))))

    async def _close_now(self, close: _Close) -> None:
        try:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await asyncio.wait_for(
                    self.websocket.close(close.code, close.reason), CLOSE_TIMEOUT
                )
        except (OSError, RuntimeError, TimeoutError) as error:  # the client is gone or stuck
            logger.debug("WebSocket close %s not delivered: %r", close.code, error)
        finally:
            self._done.set()

    async def _write(self) -> None:
        """Write what is queued, then end (the next `send` starts another writer)."""
        finished = True  # closed, or the client is gone
        try:
            while self._outbox:
                item = self._outbox.get_nowait()
                if isinstance(item, _Close):
                    await self._close_now(item)
                    return
                await self.websocket.send_text(item.decode())
            finished = False
        except (OSError, RuntimeError, WebSocketDisconnect) as error:  # the client is gone
            logger.debug("WebSocket client gone while writing: %r", error)
        finally:
            self._writer = None
            if finished:
                self._done.set()

    async def _read(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                self._invalid("Messages must be JSON text")
                continue
            if len(text) > self.limits.max_message_bytes:
                self._invalid("The message is too large")
                continue
            try:
                parsed = jsonio.loads(text)
            except ValueError:
                self._invalid("The message is not JSON")
                continue
            if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
                self._invalid("The message has no type")
                continue
            await self._handle(parsed)

    def _invalid(self, reason: str) -> None:
        if self.protocol.legacy:  # the legacy protocol reports and carries on
            self.send({"type": "error", "payload": {"message": reason}})
        else:
            self.close(CloseCode.BAD_REQUEST, reason)

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        self._timers = [timer for timer in self._timers if not timer.cancelled()]
        self._timers.append(asyncio.get_running_loop().call_later(delay, callback))

    def _init_deadline(self) -> None:
        if not self.initialised:
            self.close(CloseCode.INIT_TIMEOUT, "Connection initialisation timeout")

    def _keepalive(self) -> None:
        if self._closing:
            return
        self.send({"type": self.protocol.keepalive})
        self._keepalive_timer = asyncio.get_running_loop().call_later(
            self.limits.keepalive, self._keepalive
        )

    def _expire(self) -> None:
        self._end(
            "The access token has expired: reconnect with a fresh one.",
            "Forbidden: the access token has expired",
        )

    def _revoked(self) -> None:
        self._end(
            f"{SESSION_ENDED} Reconnect with a fresh token.", "Forbidden: the session has ended"
        )

    def _end(self, message: str, reason: str) -> None:
        """Every operation ends with an UNAUTHENTICATED error, then the socket (4403)."""
        expired = error(message, "UNAUTHENTICATED")
        for operation_id, task in list(self.operations.items()):
            if task.done():  # it completed on its own
                continue
            task.cancel()
            self.send(
                {
                    "id": operation_id,
                    "type": self.protocol.next,
                    "payload": {"data": None, "errors": [expired]},
                }
            )
            self.send({"id": operation_id, "type": "complete"})
        self.operations.clear()
        self.close(CloseCode.FORBIDDEN, reason)

    # Messages

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._initialise(message.get("payload"))
        elif kind == "ping" and not self.protocol.legacy:
            self.send({"type": "pong"})
        elif kind == "pong" and not self.protocol.legacy:
            pass
        elif kind == self.protocol.subscribe:
            self._subscribe(message)
        elif kind == self.protocol.stop:
            task = self.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        elif kind == "connection_terminate" and self.protocol.legacy:
            self.close(CloseCode.NORMAL, "")
        else:
            self._invalid(f"Unexpected message type {kind[:40]!r}")

    async def _initialise(self, payload: Any) -> None:
        if self.initialised:
            self.close(CloseCode.TOO_MANY_INITIALISATIONS, "Too many initialisation requests")
            return
        self.initialised = True
        if payload is not None and not isinstance(payload, dict):
            self._refuse("The connection_init payload must be an object")
            return
        headers = connection_headers(payload, self.websocket.headers)
        authorization = headers.get("authorization") or None
        if self.credentials is not None:
            peer = self.websocket.client.host if self.websocket.client else None
            try:
                self.caller = await self.credentials.caller(headers, peer)
            except AuthenticationFailed as failure:
                self._refuse(failure.message)
                return
            except ApiKeysUnavailable as failure:
                logger.warning("API keys cannot be checked: %s", failure)
                self._refuse("API keys cannot be checked right now; try again shortly.")
                return
            if self.caller is None:
                self._refuse("Sign in first: an access token is required.")
                return
            authorization = self.caller.authorization  # an API key's traded token too
            if self.caller.expires_at is not None:
                self._later(max(0.0, self.caller.expires_at - time.time()), self._expire)
            self._unwatch = self.credentials.authenticator.on_revoked(self.caller, self._revoked)
        # the connection's headers as the subgraphs may get them (`headers:` rules): the
        # upgrade request's and those connection_init carries, with the verified token
        headers.pop("x-forwarded-for", None)  # (the router's chain is built for HTTP only)
        headers.pop("authorization", None)
        if authorization:
            headers["authorization"] = authorization
        self.forwarded = ForwardedHeaders(as_headers(headers))
        self.acknowledged = True
        self.send({"type": "connection_ack"})
        self._keepalive()

    def _refuse(self, reason: str) -> None:
        if self.protocol.legacy:
            self.send(
                {
                    "type": "connection_error",
                    "payload": {"message": reason, "extensions": {"code": "UNAUTHENTICATED"}},
                }
            )
            self.close(CloseCode.INTERNAL_ERROR, reason[:120])
        else:
            self.close(CloseCode.FORBIDDEN, f"Forbidden: {reason}"[:120])

    def _subscribe(self, message: dict[str, Any]) -> None:
        operation_id = message.get("id")
        payload = message.get("payload")
        if not self.acknowledged:
            self.close(CloseCode.UNAUTHORIZED, "Unauthorized")
            return
        if not isinstance(operation_id, str) or not operation_id or len(operation_id) > 128:
            self._invalid("An operation needs an id (a string)")
            return
        if operation_id in self.operations:
            self.close(
                CloseCode.SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists"[:120]
            )
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            self._invalid("A subscribe message needs a payload with a query")
            return
        variables = payload.get("variables")
        name = payload.get("operationName")
        if not isinstance(variables, dict | None) or not isinstance(name, str | None):
            problem = "variables must be an object and operationName a string"
            self._operation_error(operation_id, [error(problem, "BAD_REQUEST")])
            return
        too_deep = variables_problem(variables or {})
        if too_deep is not None:
            self._operation_error(operation_id, [error(too_deep, "BAD_REQUEST")])
            return
        if len(self.operations) >= self.limits.max_operations:
            self._operation_error(
                operation_id,
                [
                    error(
                        f"At most {self.limits.max_operations} operations run at once "
                        "on one connection",
                        "BAD_REQUEST",
                    )
                ],
            )
            return
        request = GraphQLRequest(payload["query"], variables, name, headers=self.forwarded)
        task = asyncio.create_task(
            self._operate(operation_id, request), name=f"ws-op:{operation_id}"
        )
        self.operations[operation_id] = task
        task.add_done_callback(lambda _: self._forget(operation_id, task))

    def _forget(self, operation_id: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(operation_id) is task:
            del self.operations[operation_id]

    def _operation_error(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        """Errors that stop an operation before it runs (the `error` message)."""
        self.send({"id": operation_id, "type": "error", "payload": errors})

    async def _refused(self, operation_id: str, request: GraphQLRequest) -> bool:
        """Whether the rate limits refuse the operation (its `error` message is sent)."""
        limits = self.rate_limits
        if limits is None:
            return False
        subject = self.caller.subject if self.caller is not None else None
        client = connection_identity(self.websocket, subject, None, limits.trusted_proxies)
        refusal = await limits.refusal(client, request.operation_name)
        if refusal is not None:
            self._operation_error(operation_id, [refusal.error])
        return refusal is not None

    async def _operate(self, operation_id: str, request: GraphQLRequest) -> None:
        if await self._refused(operation_id, request):
            return
        try:
            async with self.live.hold() as serving:
                gateway = serving.gateway
                admitted = await gateway.admit(request, self.caller)
                if isinstance(admitted, GraphQLResponse):
                    self._operation_error(operation_id, admitted.body.get("errors", []))
                    return
                prepared, variables = admitted
                if prepared.plan.operation_kind != "subscription":
                    result = await gateway.execute(request, self.caller)
                    if result.status != 200 and "data" not in result.body:
                        self._operation_error(operation_id, result.body.get("errors", []))
                        return
                    self.send(
                        {"id": operation_id, "type": self.protocol.next, "payload": result.body}
                    )
                else:
                    if self._sockets is None:
                        self._sockets = Upstream(
                            serving.urls,
                            self.forwarded,
                            gateway.header_rules,
                            self.shared,
                            self.multiplexes,
                        )
                    results = subscription_results(
                        gateway,
                        prepared,
                        variables,
                        request.variables or {},
                        self.forwarded,
                        self._sockets,
                    )
                    name = {"graphql.operation.name": request.operation_name or ""}
                    try:
                        with telemetry.span("subscribe", name), SUBSCRIPTIONS.track_inprogress():
                            async for event in results:
                                self.send(
                                    {
                                        "id": operation_id,
                                        "type": self.protocol.next,
                                        "payload": event,
                                    }
                                )
                    except SubgraphStreamError as failure:
                        self.send(
                            {
                                "id": operation_id,
                                "type": self.protocol.next,
                                "payload": {"data": None, "errors": failure.errors},
                            }
                        )
        except asyncio.CancelledError:
            raise  # the client completed it (or the connection is closing): no `complete`
        except PlanningError as failure:
            self._operation_error(operation_id, [error(str(failure), "QUERY_PLANNING_FAILED")])
            return
        except Exception:
            logger.exception("unexpected failure in a WebSocket operation")
            self.send(
                {
                    "id": operation_id,
                    "type": self.protocol.next,
                    "payload": {
                        "data": None,
                        "errors": [error("internal server error", "INTERNAL_SERVER_ERROR")],
                    },
                }
            )
        self.send({"id": operation_id, "type": "complete"})


async def serve_websocket(
    websocket: WebSocket,
    live: LiveGateway,
    credentials: Credentials | None,
    limits: SubscriptionLimits,
    rate_limits: RouterLimits | None = None,
    shared: SharedSockets | None = None,
    multiplexes: Callable[[str], bool] = lambda _: False,
) -> None:
    """``rate_limits`` count each `subscribe` message as a request to the router; subgraphs
    ``multiplexes`` names take the connection's subscriptions on ``shared`` sockets."""
    protocol = choose(list(websocket.scope.get("subprotocols") or []))
    if protocol is None:
        await websocket.accept()
        await websocket.close(CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
        return
    await ClientConnection(
        websocket, protocol, live, credentials, limits, rate_limits, shared, multiplexes
    ).run()
