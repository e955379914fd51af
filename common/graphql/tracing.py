"""GraphQL execution in the trace (tracing on): a span per operation (its name and type), a
span per resolver slower than `LMS_TRACE_SLOW_RESOLVER_MS`, and, for each subscription
event, the trace context of the span current while it is delivered in the `next` payload's
`extensions.trace` (the router continues that trace and never passes it to its client)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.utils.await_maybe import AwaitableOrValue

from common.telemetry import tracing

TRACE_EXTENSION = "trace"


def graphql_spans() -> SchemaExtension:
    """The extension for one operation: tracing off, one without a resolver hook (so that
    resolvers run as they would without it)."""
    return SlowResolverSpans() if tracing.active() else OperationSpans()


class OperationSpans(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        if not tracing.active():
            yield
            return
        context = self.execution_context
        with tracing.span("graphql") as span:
            yield
            if span is None:
                return
            operation = context.operation_type.value if context.operation_type else "unknown"
            name = context.operation_name or "anonymous"
            span.update_name(f"graphql {operation} {name}")
            span.set_attribute("graphql.operation.type", operation)
            span.set_attribute("graphql.operation.name", name)
            result = context.result
            if result is not None and getattr(result, "errors", None):
                tracing.failed(span, "the operation answered errors")

    def get_results(self) -> dict[str, Any]:
        if not tracing.active():
            return {}
        operation = self.execution_context.operation_type
        if operation is None or operation.value != "subscription":
            return {}
        context = tracing.carrier()
        return {TRACE_EXTENSION: context} if context else {}


class SlowResolverSpans(OperationSpans):
    async def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: str,
        **kwargs: Any,
    ) -> AwaitableOrValue[object]:
        attributes = {"graphql.field.path": ".".join(str(p) for p in info.path.as_list())}
        name = f"resolve {info.parent_type.name}.{info.field_name}"
        with tracing.timed_span(name, tracing.slow_resolver_ns(), attributes):
            return await _value(_next(root, info, *args, **kwargs))


async def _value(result: Any) -> object:
    if hasattr(result, "__await__"):
        awaited: object = await result
        return awaited
    return cast(object, result)
