"""Shaping operations that ask for introspection, with graphql-core's executor.

`__schema` and `__type` are answered from the API schema here; graphql-core walks the whole
operation over the merged tree for those (rare) operations. Everything else is completed by
the faster `router.execution.complete`.
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLAbstractType,
    GraphQLResolveInfo,
    GraphQLSchema,
    execute_sync,
)


def _resolve_field(source: Any, info: GraphQLResolveInfo[Any], **_: Any) -> Any:
    if isinstance(source, Mapping):
        return source.get(info.path.key)
    return None


def _resolve_type(value: Any, _info: GraphQLResolveInfo[Any], _type: GraphQLAbstractType) -> Any:
    if isinstance(value, Mapping):
        return value.get("__typename")
    return None


def shape_response(
    schema: GraphQLSchema,
    document: DocumentNode,
    data: dict[str, Any],
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
) -> ExecutionResult:
    return execute_sync(
        schema,
        document,
        root_value=data,
        variable_values=dict(variables) if variables else None,
        operation_name=operation_name,
        field_resolver=_resolve_field,
        type_resolver=_resolve_type,
    )
