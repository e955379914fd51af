"""The Strawberry extension that computes each response's cache policy as its fields
resolve, and sends it as `Cache-Control` on the HTTP response (queries without errors;
everything else is `no-store`, which `ServiceGraphQL` sends when nothing else was said).

`_entities` answers follow the same rules, each entity being taken as a field of its own
type: an entity type with no maxAge makes the answer `no-store`, and so does a
representation that resolved to null (not found, or not visible to this caller).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, cast

from graphql import GraphQLObjectType, GraphQLResolveInfo, get_named_type, is_composite_type
from graphql.language import OperationType as DocumentOperation
from strawberry.extensions import SchemaExtension
from strawberry.types import Info
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import AwaitableOrValue

from common.graphql.cache_control.hints import NO_STORE, UNHINTED, CacheHint
from common.graphql.cache_control.policy import CachePolicy, field_hint, type_hint

CACHE_CONTROL = "cache-control"
ENTITIES = "_entities"


_field_hint = functools.lru_cache(maxsize=16384)(field_hint)  # per type object: per schema


@functools.lru_cache(maxsize=4096)
def _entity_hint(type_: GraphQLObjectType) -> CacheHint:
    hint = type_hint(type_)
    if hint.max_age is None and not hint.inherit_max_age:
        return CacheHint(max_age=0, private=hint.private)
    return hint


def _hint(info: GraphQLResolveInfo[Any]) -> CacheHint:
    if info.field_name.startswith("__"):  # __typename, __schema, __type: graphql-core's own
        composite = is_composite_type(get_named_type(info.return_type))
        return NO_STORE if composite or info.path.prev is None else UNHINTED
    hint = _field_hint(info.parent_type, info.field_name)
    if hint.max_age is None and info.path.prev is None:  # a root field: 0 unless said
        return CacheHint(max_age=0, private=hint.private)
    return hint


def _under_entities(info: GraphQLResolveInfo[Any]) -> bool:
    """A field of one of `_entities`' items."""
    item = info.path.prev
    if item is None or not isinstance(item.key, int) or item.prev is None:
        return False
    return item.prev.key == ENTITIES and item.prev.prev is None


def restrict_cache(info: Info[Any, Any], hint: CacheHint) -> None:
    """A resolver's dynamic hint: the response may be cached no longer (or no more widely)
    than `hint` says, e.g. `NO_STORE` for an answer that depends on who asks."""
    policy = getattr(info.context, "cache_policy", None)
    if isinstance(policy, CachePolicy):
        policy.restrict(hint)


def cache_hints(
    policy: CachePolicy,
    _next: Callable[..., Any],
    root: Any,
    info: GraphQLResolveInfo[Any],
    *args: str,
    **kwargs: Any,
) -> AwaitableOrValue[object]:
    """Resolve one field, restricting `policy` by its hint (a resolver as graphql-core calls
    it: a sync resolver stays sync)."""
    if info.operation.operation is not DocumentOperation.QUERY:
        # only a query's answer is cached: a subscription event's fields (one execution per
        # event to every subscriber) skip the bookkeeping
        return cast(object, _next(root, info, *args, **kwargs))
    if info.field_name == ENTITIES and info.path.prev is None:
        return _entities(policy, _next(root, info, *args, **kwargs))
    policy.restrict(_hint(info))
    if _under_entities(info):
        policy.restrict(_entity_hint(info.parent_type))
    return cast(object, _next(root, info, *args, **kwargs))


def cache_hints_middleware(
    _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: str, **kwargs: Any
) -> AwaitableOrValue[object]:
    """`cache_hints` as a graphql-core middleware, with the policy the request's context holds
    (one built once serves every request: `common.graphql.prepared`)."""
    return cache_hints(info.context.cache_policy, _next, root, info, *args, **kwargs)


def _entities(policy: CachePolicy, result: Any) -> AwaitableOrValue[object]:
    if hasattr(result, "__await__"):
        return _awaited_entities(policy, result)
    _check_entities(policy, result)
    return cast(object, result)


async def _awaited_entities(policy: CachePolicy, result: Any) -> object:
    items = await result
    _check_entities(policy, items)
    return cast(object, items)


def _check_entities(policy: CachePolicy, items: Any) -> None:
    if any(item is None for item in items or ()):
        policy.restrict(NO_STORE)


def cacheable(operation: OperationType | None, failed: bool) -> bool:
    """Whether an answer says how it may be cached: a query's, without errors."""
    return operation is OperationType.QUERY and not failed


class ResponseCacheControl(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        self.policy = CachePolicy()
        if context is not None and hasattr(context, "cache_policy"):
            context.cache_policy = self.policy  # where restrict_cache finds it
        yield
        response = getattr(context, "response", None)
        if response is not None and self._cacheable():
            response.headers[CACHE_CONTROL] = self.policy.header()

    def _cacheable(self) -> bool:
        context = self.execution_context
        if context.pre_execution_errors or context.result is None or context.result.errors:
            return False
        try:
            return cacheable(context.operation_type, failed=False)
        except Exception:  # no such operation in the document: it failed already
            return False

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: str,
        **kwargs: Any,
    ) -> AwaitableOrValue[object]:
        return cache_hints(self.policy, _next, root, info, *args, **kwargs)
