"""graphql-transport-ws with credentials per operation: one socket, many callers.

The router may carry many users' subscriptions on one socket (its `multiplex` mode). Such a
`subscribe` message names its caller in ``payload.extensions.headers`` (the headers an HTTP
request of that caller would carry): the operation runs with a context of its own, the
caller its token proves. A refused token (forged, expired, revoked) ends that operation
alone with an UNAUTHENTICATED `error` message; the socket and the other operations go on.
An operation that carries headers without a token runs as nobody (anonymous), never as the
socket's `connection_init` caller or another operation's. Operations without
``extensions.headers`` keep the socket's own context, as they always did. An operation's
spans are children of the `traceparent` among its headers (its caller's trace), in a
`subscribe` server span of its own.

At most `MAX_OPERATIONS` run at once per caller on one socket: the socket's own caller's
operations, and each operation-credentialled caller's (a shared socket carries thousands of
operations, but no one caller more than a socket of their own would).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Mapping
from typing import Any, Final, Protocol, cast

from graphql import GraphQLError
from opentelemetry.trace import SpanKind
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,  # the base class's: its socket was closed (4400), nothing to send
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.utils.aio import aclosing

from common.errors import ErrorCode
from common.graphql.context import RequestContext
from common.telemetry import tracing

Context = RequestContext[Any, Any]
MAX_OPERATIONS: Final = 100  # at once per caller on one socket
LIMIT_REACHED: Final = "Subscription limit reached"


class OperationContexts(Protocol):
    """The view: the context of an operation, from the socket's and the operation's headers."""

    async def operation_context(
        self, connection: Context, headers: Mapping[str, str]
    ) -> Context: ...


def operation_headers(payload: Any) -> dict[str, str] | None:
    """The headers a `subscribe` payload carries for its operation, lower-case names; None
    when it carries none (the socket's caller is meant)."""
    extensions = payload.get("extensions") if isinstance(payload, dict) else None
    headers = extensions.get("headers") if isinstance(extensions, dict) else None
    if not isinstance(headers, dict):
        return None
    return {
        name.lower(): value
        for name, value in headers.items()
        if isinstance(name, str) and isinstance(value, str)
    }


class PerOperationCredentials(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_subscriptions_per_connection = None  # counted per caller here instead
        self._headers: dict[str, dict[str, str]] = {}  # of operations not started yet
        self._socket_callers: set[str] = set()  # operations as the socket's own caller
        self._callers: Counter[str] = Counter()  # operations at once per caller of their own

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        operation_id = message.get("id")
        headers = operation_headers(message.get("payload"))
        # (a duplicate id closes the socket, 4409: the live operation keeps its headers)
        fresh = isinstance(operation_id, str) and operation_id not in self.operations
        if fresh and headers is None:
            self._socket_callers &= self.operations.keys()
            if len(self._socket_callers) >= MAX_OPERATIONS:
                await self.send_message(
                    {"id": operation_id, "type": "error", "payload": [_limit().formatted]}
                )
                return
            self._socket_callers.add(operation_id)
        elif fresh and headers is not None:
            self._headers[operation_id] = headers
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        headers = self._headers.pop(operation.id, None)
        if headers is None:
            await super().run_operation(operation)
            return
        # the operation's spans join its caller's trace (the `traceparent` among its
        # headers), as an HTTP request's do, not the shared socket's
        with tracing.span("subscribe", kind=SpanKind.SERVER, parent=headers):
            await self._run_with(operation, headers)

    async def _run_with(self, operation: Operation[Context, None], headers: dict[str, str]) -> None:
        """The operation as the caller its headers name."""
        view = cast("OperationContexts", self.view)
        context = await view.operation_context(self.context, headers)
        if context.auth_error is not None:
            refusal = GraphQLError(
                context.auth_error.message,
                extensions={"code": ErrorCode.UNAUTHENTICATED.value},
            )
            await operation.send_initial_errors([refusal])
            return
        caller = "" if context.principal is None else str(context.principal.user_id)
        if self._callers[caller] >= MAX_OPERATIONS:
            await operation.send_initial_errors([_limit()])
            return
        self._callers[caller] += 1
        try:
            await self._run_as(operation, context)
        finally:
            self._callers[caller] -= 1
            if not self._callers[caller]:
                del self._callers[caller]

    async def _run_as(self, operation: Operation[Context, None], context: Context) -> None:
        """The base class's run_operation with this operation's context: it streams with the
        socket's (`self.context`), which holds no caller here."""
        try:
            results = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(results):
                await self._send_result_stream(operation, results)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:  # as the base class: logged, completed, raised
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise


def _limit() -> GraphQLError:
    return GraphQLError(LIMIT_REACHED, extensions={"code": ErrorCode.BAD_USER_INPUT.value})
