"""The access log: one JSON line per HTTP request on the `router.access` logger (JSON on
stderr, `router.logs`), when `telemetry.exporters.logging.access_log.enabled` (its switch,
whatever the log level).

A line says: the trace id (of the request's server span; tracing off, of the client's
`traceparent` if it sent one), the request id (the client's `X-Request-Id` when it is a sane
one; echoed in the answer), method, path (never the query string: a GET carries the query and
its variables there), status, duration_ms, the operation's name and kind (from the parsed
document), the client (the token's subject; `api-key:<id>` for a token an API key was traded
for; else the peer address), the user agent, the subgraph calls (in all, and per subgraph)
and the errors answered by code. Never a header's value but the user agent's, a token, an
API key, a variable or the query text.

Lines are written in batches (`AccessLines`), off the requests' path: a request notes what
its line says as it ends (its trace and span ids, its end time), and the lines noted are
written together at most `FLUSH_AFTER` seconds later, or at once when `FLUSH_AT` are waiting,
and when the router stops: 6 % less of the router's CPU per request on the peer benchmark's
query than a line written as its request ends (bench/router_replay.py, bench/README.md)."""

import asyncio
import contextvars
import logging
import os
import random
import re
import secrets
import time
from dataclasses import dataclass

from graphql import DocumentNode, OperationDefinitionNode
from opentelemetry import trace
from opentelemetry.trace import SpanContext
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.access_record import CURRENT, AccessRecord, current_record
from router.gateway.gateway import Gateway, GraphQLRequest
from router.planning import PlanningError
from router.planning.plan import select_operation
from router.policies.authentication import Caller
from router.ratelimit.identity import client_address
from router.server.headers import header, response_headers, set_header
from router.telemetry import trace_id_of

logger = logging.getLogger("router.access")
_failures = logging.getLogger(__name__)  # (not an access line)
logger.setLevel(logging.INFO)  # on or off by configuration, not by the log level

REQUEST_ID = "x-request-id"
REQUEST_ID_BYTES = REQUEST_ID.encode()
_SANE_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
_MAX_USER_AGENT = 256
_MAX_CLIENT = 128
_SOURCE = "(unknown file)"  # as `logging` names a record's source when it does not look
FLUSH_AFTER = 0.1  # seconds a line may wait to be written
FLUSH_AT = 256  # lines waiting that are written at once
# the ids of requests that bring no sane one: unique, not secret (uuid4 reads the
# system's randomness for each, a system call on the request's path); reseeded in a fork
_REQUEST_IDS = random.Random(secrets.token_bytes(32))  # noqa: S311
os.register_at_fork(after_in_child=lambda: _REQUEST_IDS.seed(secrets.token_bytes(32)))


def selected_operation(gateway: Gateway, request: GraphQLRequest) -> OperationDefinitionNode | None:
    """The operation the request ran, from its document as the gateway's cache has it (None
    when it did not parse, or names no operation it holds: the answer says so)."""
    document = gateway.documents.get(request.query)
    if not isinstance(document, DocumentNode):
        return None
    try:
        return select_operation(document, request.operation_name)
    except PlanningError:
        return None


def note_operation(operation: OperationDefinitionNode | None, caller: Caller | None) -> None:
    """Note who ran which operation in the request's access record."""
    record = current_record()
    if record is None:
        return
    if caller is not None:
        key = caller.claims.get("api_key")
        client = f"api-key:{key}" if isinstance(key, str | int) else caller.subject
        record.client = client[:_MAX_CLIENT]
    if operation is not None:
        record.operation_kind = operation.operation.value
        record.operation_name = operation.name.value if operation.name else None


def _enabled(scope: Scope) -> bool:
    enabled: bool = scope["app"].state.router.config.telemetry.exporters.logging.access_log.enabled
    return enabled


def _request_id(given: str | None) -> str:
    if given is not None and _SANE_ID.match(given):
        return given
    return format(_REQUEST_IDS.getrandbits(128), "032x")


@dataclass(slots=True)
class _Ended:
    """A request as it ended: what its line says, noted on its path; written later."""

    scope: Scope
    request_id: str
    status: int
    seconds: float
    record: AccessRecord
    span: SpanContext  # the request's current span as it ended (invalid: tracing off)
    at: float  # when it ended (time.time())


class AccessLines:
    """The lines of one router's requests, waiting to be written (`flush`, which the
    router's shutdown calls too)."""

    def __init__(self) -> None:
        self._waiting: list[_Ended] = []
        self._timer: asyncio.Handle | None = None

    def add(self, ended: _Ended) -> None:
        self._waiting.append(ended)
        if self._timer is not None and len(self._waiting) < FLUSH_AT:
            return
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        # in a context of its own: not the request's, whose span `logging` would show
        if len(self._waiting) >= FLUSH_AT:
            self._timer = loop.call_soon(self.flush, context=contextvars.Context())
        else:
            self._timer = loop.call_later(FLUSH_AFTER, self.flush, context=contextvars.Context())

    def flush(self) -> None:
        """Writes every line waiting."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, []
        for ended in waiting:
            try:
                _log(
                    ended.scope,
                    ended.request_id,
                    ended.status,
                    ended.seconds,
                    ended.record,
                    ended.span,
                    ended.at,
                )
            except Exception:  # one line that cannot be written loses only itself
                _failures.exception("an access line could not be written")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _enabled(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(header(scope, b"x-request-id"))
        record = AccessRecord()
        status = 500  # unless an answer starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                set_header(
                    response_headers(message), REQUEST_ID_BYTES, request_id.encode("latin-1")
                )
            await send(message)

        token = CURRENT.set(record)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            CURRENT.reset(token)
            seconds = time.perf_counter() - started
            span = trace.get_current_span().get_span_context()
            ended = _Ended(scope, request_id, status, seconds, record, span, time.time())
            lines: AccessLines = scope["app"].state.access_lines
            lines.add(ended)


def _log(
    scope: Scope,
    request_id: str,
    status: int,
    seconds: float,
    record: AccessRecord,
    span: SpanContext | None = None,
    at: float | None = None,
) -> None:
    """Writes the line of a request that ended `at` (else now) with the span `span` current
    (else the one current now)."""
    headers = Headers(scope=scope)
    peer = scope.get("client")
    # the address the rate limits count (the X-Forwarded-For entry of the trusted proxies)
    trusted = scope["app"].state.router.config.rate_limit.trusted_proxies
    address = client_address(headers.getlist("x-forwarded-for"), peer[0] if peer else None, trusted)
    client = record.client or address
    method, path = scope["method"], scope["path"]
    if not logger.isEnabledFor(logging.INFO):
        return
    extra: dict[str, object] = {"event": "access"}
    if span is not None and span.is_valid:
        # the ids the line's formatter gives a line written while the span is current
        extra["trace_id"] = format(span.trace_id, "032x")
        extra["span_id"] = format(span.span_id, "016x")
    else:
        extra["trace_id"] = trace_id_of(headers)
    # `logger.info` without its `findCaller` (a walk up the stack for a file and line the
    # line does not show): the same record, handled the same way
    line = logger.makeRecord(
        logger.name,
        logging.INFO,
        _SOURCE,
        0,
        "%s %s %s",
        (method, path, status),
        None,
        extra={
            **extra,
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "operation_name": record.operation_name,
            "operation_kind": record.operation_kind,
            "client": client,
            "user_agent": headers.get("user-agent", "")[:_MAX_USER_AGENT] or None,
            "subgraph_calls": sum(record.subgraph_calls.values()),
            "subgraphs": dict(record.subgraph_calls),
            "errors": dict(record.errors),
        },
    )
    if at is not None:
        line.created = at
        line.msecs = int(at * 1000) % 1000
    logger.handle(line)
