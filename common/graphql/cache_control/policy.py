"""A response's cache policy: the minimum maxAge over the fields it resolved, PRIVATE if any
of them is (Apollo Server's rules, https://www.apollographql.com/docs/apollo-server/performance/caching).

Each field's hint comes from its return type's `@cacheControl` (when that type is an object,
interface or union), overridden by the field's own. A field returning a composite type, or a
root field, with no maxAge gets 0 (unless it inherits: `inheritMaxAge`); any other field
inherits its parent's, since its parent's maxAge already counts. No maxAge at all, an error,
a mutation or a subscription: `no-store`.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLCompositeType,
    GraphQLField,
    GraphQLObjectType,
    get_named_type,
    is_composite_type,
)

from common.graphql.cache_control.hints import UNHINTED, CacheControl, CacheHint, hint_of

NO_STORE_HEADER = "no-store"


def _hint_in(directives: object) -> CacheHint:
    for directive in directives if isinstance(directives, list | tuple) else ():
        if isinstance(directive, CacheControl):
            return hint_of(directive)
    return UNHINTED


def _definition(element: GraphQLCompositeType | GraphQLField) -> object:
    return (element.extensions or {}).get("strawberry-definition")


def type_hint(type_: GraphQLCompositeType) -> CacheHint:
    """The `@cacheControl` written on an object, interface or union type."""
    return _hint_in(getattr(_definition(type_), "directives", None))


def field_hint(parent: GraphQLObjectType, name: str) -> CacheHint:
    """A field's own hint, its return type's taken into account: what it restricts the
    response to, and whether (with no maxAge) it falls back to 0 as a composite field does."""
    field = parent.fields[name]
    target = get_named_type(field.type)
    hint = UNHINTED
    composite = is_composite_type(target)
    if composite:
        hint = type_hint(target)
    own = _hint_in(getattr(_definition(field), "directives", None))
    if own.inherit_max_age and hint.max_age is None:
        hint = CacheHint(
            private=hint.private if own.private is None else own.private, inherit_max_age=True
        )
    else:
        hint = hint.replaced_by(own)
    if hint.max_age is None and composite and not hint.inherit_max_age:
        return CacheHint(max_age=0, private=hint.private)
    return hint


@dataclass(slots=True)
class CachePolicy:
    """What one response may be cached as, restricted by every field it resolves."""

    max_age: int | None = None
    private: bool = False

    def restrict(self, hint: CacheHint) -> None:
        if hint.max_age is not None:
            self.max_age = hint.max_age if self.max_age is None else min(self.max_age, hint.max_age)
        if hint.private:
            self.private = True

    def header(self) -> str:
        """The `Cache-Control` value of an answer without errors to a query."""
        if not self.max_age:
            return NO_STORE_HEADER
        return f"max-age={self.max_age}, {'private' if self.private else 'public'}"
