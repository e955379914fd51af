"""Queries and mutations a subgraph has already accepted once, run on graphql-core without
Strawberry's per-request extension machinery.

Strawberry runs every request through the schema's extensions: each one built anew, four
hook stages entered and left around it, a graphql-core middleware manager made for it (so
every field's resolver is wrapped again). For a small `{ me { … } }` that is about a third
of the subgraph's CPU (bench/subgraph_overhead.py). The checks those extensions make before
execution (parsing with the token limit, validation with the operation limits, malformed
literals) depend on the query text alone, so once a text has passed them all
(`RememberAccepted`, the last step before execution) `PreparedDocuments` keeps its document,
and later requests with the same text go straight to graphql-core. What the extensions do
around execution is done inline, by the same functions: variables checked
(`variable_problems`), the cache policy worked out (`cache_hints_middleware`), errors
rewritten for clients (`client_error`), the operation counted and timed (`record_operation`).

A subscription so accepted streams here too (`stream_prepared`): each event's selection set
is completed by `common.graphql.event_completion` where it can be, else executed by
graphql-core, with no extension hook around each event (Strawberry's cost a quarter of a
subscriber's CPU per event); its errors are rewritten by `client_error` and the operation is
counted when it ends, as the extensions do.

Anything else takes Strawberry's whole path: a text not yet accepted, a request whose
variables would be refused, an operation the request may not run (a mutation over GET) or
that is not in the document, and every request while tracing is on (its spans come from the
extensions, and a subscription event's trace context from them too).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, TypeGuard, cast

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    MiddlewareManager,
    OperationDefinitionNode,
    create_source_event_stream,
    execute,
    execute_subscription_event,
    get_operation_ast,
)
from graphql import (
    ExecutionResult as GraphQLResult,
)
from graphql.execution import Executor
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.aio import aclosing

from common.graphql.cache_control.extension import (
    CACHE_CONTROL,
    cache_hints_middleware,
    cacheable,
)
from common.graphql.cache_control.policy import CachePolicy
from common.graphql.errors import client_error
from common.graphql.event_completion import EventCompletion
from common.graphql.inputs import variable_problems
from common.graphql.operation_metrics import record_operation
from common.telemetry import tracing

MAX_PREPARED = 1000  # query texts kept, as many as the parser and validation caches keep
# Longer texts (real operations are a few KB; a megabyte of comments is not) run the whole
# path each time rather than hold memory here.
MAX_PREPARED_CHARS = 64 * 1024
RUN_HERE = frozenset({OperationType.QUERY, OperationType.MUTATION})
STREAM_HERE = frozenset({OperationType.SUBSCRIPTION})
# One for every request: the hints go to the policy each request's context holds.
_MIDDLEWARE = MiddlewareManager(cache_hints_middleware)


class PreparedDocuments:
    """Documents by query text, each one parsed and validated once; the oldest go first."""

    def __init__(self, max_size: int = MAX_PREPARED) -> None:
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()
        self._max_size = max_size

    def get(self, query: object) -> DocumentNode | None:
        return self._documents.get(query) if isinstance(query, str) else None

    def remember(self, query: str, document: DocumentNode) -> None:
        if len(query) > MAX_PREPARED_CHARS:
            return
        self._documents[query] = document
        if len(self._documents) > self._max_size:
            self._documents.popitem(last=False)

    def __len__(self) -> int:
        return len(self._documents)


def remember_accepted(documents: PreparedDocuments) -> Callable[[], SchemaExtension]:
    """The extension noting each query text that reached execution: every check before it
    passed (Strawberry enters `on_execute` only then)."""

    class RememberAccepted(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            if context.query is not None and context.graphql_document is not None:
                documents.remember(context.query, context.graphql_document)
            yield

    return RememberAccepted


def operation_to_run(
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    allowed: Iterable[OperationType],
    kinds: frozenset[OperationType] = RUN_HERE,
) -> OperationDefinitionNode | None:
    """The operation, when this path may run it (`run_prepared`, or `stream_prepared` for
    `STREAM_HERE`); None: Strawberry's path answers."""
    if tracing.active():
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    kind = OperationType(operation.operation.value)
    if kind not in kinds or kind not in allowed or variable_problems(variables):
        return None
    return operation


async def run_prepared(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    *,
    context: Any,
    root_value: Any,
    variables: dict[str, Any] | None,
    executor: type[Executor[Any]] | None,
    operation_extensions: dict[str, Any] | None,
) -> ExecutionResult:
    """Execute as Strawberry would with the subgraph's extensions, and answer its result."""
    started = time.perf_counter()
    policy = CachePolicy()
    context.cache_policy = policy
    name = operation.name.value if operation.name else None
    try:
        result = execute(
            schema,
            document,
            root_value=root_value,
            context_value=context,
            variable_values=variables,
            operation_name=name,
            middleware=_MIDDLEWARE,
            is_awaitable=cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable),
            executor_class=executor,
            operation_extensions=operation_extensions,
        )
        if not isinstance(result, GraphQLResult):
            result = await result
        errors = result.errors
        data = result.data
    except Exception as error:  # as Strawberry: the operation fails, the process goes on
        errors, data = [GraphQLError(str(error), original_error=error)], None
    answered = [client_error(error) for error in errors] if errors else None
    record_operation(context, name, failed=bool(answered), started=started)
    kind = OperationType(operation.operation.value)
    response = getattr(context, "response", None)
    if response is not None and cacheable(kind, failed=bool(answered)):
        response.headers[CACHE_CONTROL] = policy.header()
    return ExecutionResult(data=data, errors=answered)


def stream_prepared(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    *,
    context: Any,
    root_value: Any,
    variables: dict[str, Any] | None,
    executor: type[Executor[Any]] | None,
    operation_extensions: dict[str, Any] | None,
) -> AsyncGenerator[ExecutionResult, None]:
    """Stream a subscription as Strawberry would with the subgraph's extensions: an error
    before the stream starts as a `PreExecutionError`, then one result per event."""
    context.cache_policy = CachePolicy()
    name = operation.name.value if operation.name else None
    extra: dict[str, Any] = (
        {} if operation_extensions is None else {"operation_extensions": operation_extensions}
    )
    built = (executor or ExecutorThrowingOnIncremental).build(
        schema,
        document,
        root_value,
        context,
        variables,
        name,
        is_awaitable=cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable),
        **extra,
    )
    return _streamed(built, context, name)


async def _streamed(
    built: Executor[Any] | list[GraphQLError], context: Any, name: str | None
) -> AsyncGenerator[ExecutionResult, None]:
    failed = False
    try:
        try:
            source = await _source(built)
        except Exception as error:  # as Strawberry: in a result, not as a refusal
            failed = True
            yield ExecutionResult(
                data=None, errors=[client_error(_graphql_error(error))], extensions={}
            )
            return
        if isinstance(source, list):
            failed = True
            yield PreExecutionError(data=None, errors=[client_error(e) for e in source])
            return
        assert isinstance(built, Executor)
        completion = EventCompletion.planned(built)
        async with aclosing(source):
            try:
                async for event in source:
                    result = await _event_result(built, completion, event)
                    failed = failed or bool(result.errors)
                    yield result
            except Exception as error:  # as Strawberry: the stream's last result is the error
                failed = True
                yield ExecutionResult(
                    data=None,
                    errors=[client_error(_graphql_error(error))],
                    extensions={},
                )
    finally:
        record_operation(context, name, failed=failed, started=None)


async def _source(
    built: Executor[Any] | list[GraphQLError],
) -> AsyncGenerator[Any, None] | list[GraphQLError]:
    """The operation's event stream, or the errors that stop it from starting."""
    if isinstance(built, list):
        return built
    stream = create_source_event_stream(built)
    if built.is_awaitable(stream):
        stream = await stream
    if isinstance(stream, GraphQLResult):
        return list(stream.errors or ())
    return cast(AsyncGenerator[Any, None], stream)


async def _event_result(
    built: Executor[Any], completion: EventCompletion | None, event: Any
) -> ExecutionResult:
    data = None if completion is None else completion.data(event)
    if data is not None:
        return ExecutionResult(data=data, errors=None, extensions={})
    result = execute_subscription_event(built.build_per_event_executor(event))
    if not isinstance(result, GraphQLResult):
        result = await result
    errors = [client_error(error) for error in result.errors] if result.errors else None
    return ExecutionResult(data=result.data, errors=errors, extensions={})


def _graphql_error(error: Exception) -> GraphQLError:
    return (
        error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
    )
