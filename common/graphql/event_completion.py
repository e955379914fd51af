"""A subscription's selection set completed on each event without graphql-core's per-event
execution, when the selection is simple enough to be completed here exactly as graphql-core
would complete it.

A subscription runs its whole selection set again on every event for every subscriber:
graphql-core builds an executor, a `GraphQLResolveInfo` and a Strawberry `Info` per field,
and walks the field nodes each time, which was over half of the notifications subgraph's CPU
in a burst to 1,000 subscribers (bench/README.md, issue 24). What that walk finds depends on
the operation and its variables alone (aliases, fragments, `@skip`/`@include`), so
`EventCompletion.planned` collects the fields once, with graphql-core's own `collect_fields`,
and each event only reads its values through the same resolvers and serializes its leaves
with the same scalars and enums.

Planned only when every field is `__typename`, a Strawberry field without a resolver (read
from the source), or a Strawberry resolver that is synchronous and takes no arguments, no
`info`, no root and no field extensions (permissions are extensions): those need nothing
graphql-core builds per field. Object types and lists of them are completed here; an
interface or union anywhere, `@defer`/`@stream`, or any other resolver leaves the operation
to graphql-core. On an event, anything this path does not answer the way graphql-core would
without an error (a resolver raising, a null in a non-null field, a value a scalar refuses,
an event that is an error) gives `None` instead of data, and the caller executes that event
in full, so that its errors and nulls are graphql-core's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_leaf_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.executor import Executor
from graphql.pyutils import Undefined
from strawberry.types.field import StrawberryField

# graphql-core's link from a field to Strawberry's definition of it (GraphQLCoreConverter)
DEFINITION: Final = "strawberry-definition"
TYPENAME: Final = "__typename"


class _NotHere(Exception):
    """This event is not completed here: graphql-core executes it."""


Read = Callable[[Any], Any]
Complete = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Field:
    key: str  # the response key: the alias, or the field's name
    read: Read | None  # None: __typename
    complete: Complete


class _Unplannable(Exception):
    """The operation has something this path does not complete."""


def _reader(field: GraphQLField) -> Read:
    """How the field's value is read from its source, as its resolver would read it."""
    definition = (field.extensions or {}).get(DEFINITION)
    if not isinstance(definition, StrawberryField) or field.args or definition.extensions:
        raise _Unplannable
    if definition.is_subscription:
        raise _Unplannable
    resolver = definition.base_resolver
    if resolver is None:
        name, default = definition.python_name, definition.default_resolver
        return lambda source: default(source, name)
    if (
        resolver.is_async
        or resolver.arguments
        or resolver.info_parameter is not None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
    ):
        raise _Unplannable
    if resolver.self_parameter is not None:
        return lambda source: resolver(source)
    return lambda _source: resolver()


def _leaf(kind: GraphQLLeafType) -> Complete:
    serialize = kind.serialize

    def complete(value: Any) -> Any:
        serialized = serialize(value)
        if serialized is None or serialized is Undefined:
            raise _NotHere
        return serialized

    return complete


def _constant(value: str) -> Complete:
    return lambda _source: value


class _Planner:
    def __init__(self, executor: Executor[Any]) -> None:
        self._executor = executor

    def fields(self, kind: GraphQLObjectType, details: list[FieldDetails]) -> list[_Field]:
        executor = self._executor
        collected = collect_subfields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            kind,
            details,
            executor.hide_suggestions,
        )
        return self.grouped(kind, collected.grouped_field_set, collected.new_defer_usages)

    def grouped(
        self,
        kind: GraphQLObjectType,
        grouped: Mapping[str, list[FieldDetails]],
        defers: Iterable[object],
    ) -> list[_Field]:
        if any(True for _ in defers):
            raise _Unplannable
        planned = []
        for key, details in grouped.items():
            if any(item.fragment_variable_values for item in details):
                raise _Unplannable
            name = details[0].node.name.value
            if name == TYPENAME:
                planned.append(_Field(key, None, _constant(kind.name)))
                continue
            field = kind.fields.get(name)
            if field is None:
                raise _Unplannable
            planned.append(_Field(key, _reader(field), self.completion(field.type, details)))
        return planned

    def completion(self, kind: GraphQLOutputType, details: list[FieldDetails]) -> Complete:
        if isinstance(kind, GraphQLNonNull):
            inner = self.completion(kind.of_type, details)

            def non_null(value: Any) -> Any:
                completed = inner(value)
                if completed is None:
                    raise _NotHere
                return completed

            return non_null
        if isinstance(kind, GraphQLList):
            item = self.completion(kind.of_type, details)

            def listed(value: Any) -> Any:
                if value is None:
                    return None
                if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(
                    value, Iterable
                ):
                    raise _NotHere
                return [item(element) for element in value]

            return listed
        if is_leaf_type(kind):
            leaf = _leaf(kind)
            return lambda value: None if value is None else leaf(value)
        if isinstance(kind, GraphQLObjectType):
            return self.object(kind, self.fields(kind, details))
        raise _Unplannable  # an interface or a union: the type is known only per value

    @staticmethod
    def object(kind: GraphQLObjectType, fields: list[_Field]) -> Complete:
        is_type_of = kind.is_type_of

        def complete(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, Exception):
                raise _NotHere
            if is_type_of is not None and not is_type_of(value, None):  # type: ignore[arg-type]
                raise _NotHere
            return {field.key: field.complete(_value_of(field, value)) for field in fields}

        return complete


def _value_of(field: _Field, source: Any) -> Any:
    if field.read is None:
        return source
    value = field.read(source)
    if isinstance(value, Exception):  # a resolver may return its error: graphql-core raises it
        raise _NotHere
    return value


@dataclass(frozen=True, slots=True)
class EventCompletion:
    """One subscription operation's root field, completed on each event."""

    key: str
    complete: Complete

    @classmethod
    def planned(cls, executor: Executor[Any]) -> EventCompletion | None:
        """The plan of a subscription operation, or None: graphql-core completes its events."""
        schema: GraphQLSchema = executor.schema
        root = schema.subscription_type
        if root is None:
            return None
        try:
            collected = collect_fields(
                schema,
                executor.fragments,
                executor.variable_values,
                root,
                executor.operation,
                executor.hide_suggestions,
            )
            if collected.new_defer_usages or len(collected.grouped_field_set) != 1:
                return None
            ((key, details),) = collected.grouped_field_set.items()
            field = root.fields.get(details[0].node.name.value)
            definition = None if field is None else (field.extensions or {}).get(DEFINITION)
            # a Strawberry subscription field's resolver hands the event on as the value
            if field is None or not isinstance(definition, StrawberryField):
                return None
            if not definition.is_subscription:
                return None
            return cls(key, _Planner(executor).completion(field.type, details))
        except _Unplannable:
            return None

    def data(self, event: Any) -> dict[str, Any] | None:
        """The event's `data`, or None when graphql-core must execute it."""
        if isinstance(event, Exception):
            return None
        try:
            return {self.key: self.complete(event)}
        except Exception:  # _NotHere, or a resolver's or a scalar's error: graphql-core's
            return None
