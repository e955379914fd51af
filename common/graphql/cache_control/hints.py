"""Apollo's `@cacheControl` directive, as every subgraph declares and prints it:

enum CacheControlScope { PUBLIC PRIVATE }
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean)
  on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import strawberry
from strawberry.schema_directive import Location


@strawberry.enum(name="CacheControlScope")
class CacheControlScope(Enum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


@strawberry.schema_directive(
    name="cacheControl",
    locations=[Location.FIELD_DEFINITION, Location.OBJECT, Location.INTERFACE, Location.UNION],
)
class CacheControl:
    max_age: int | None = strawberry.UNSET
    scope: CacheControlScope | None = strawberry.UNSET
    inherit_max_age: bool | None = strawberry.UNSET


@dataclass(frozen=True, slots=True)
class CacheHint:
    """A hint as a value: maxAge in seconds (None: not said), PRIVATE or not (None: not said)."""

    max_age: int | None = None
    private: bool | None = None
    inherit_max_age: bool = False

    def replaced_by(self, other: CacheHint) -> CacheHint:
        """Apollo's `replace`: what `other` says wins, what it leaves unsaid stays."""
        return CacheHint(
            max_age=self.max_age if other.max_age is None else other.max_age,
            private=self.private if other.private is None else other.private,
            inherit_max_age=self.inherit_max_age,
        )


UNHINTED = CacheHint()
NO_STORE = CacheHint(max_age=0)  # an answer nobody may keep (it depends on who asks)
PRIVATE = CacheHint(private=True)


def hint_of(directive: CacheControl) -> CacheHint:
    def said(value: object) -> object:
        return None if value is strawberry.UNSET else value

    scope = said(directive.scope)
    if said(directive.inherit_max_age):  # maxAge is ignored beside inheritMaxAge, as in Apollo
        return CacheHint(
            private=None if scope is None else scope is CacheControlScope.PRIVATE,
            inherit_max_age=True,
        )
    max_age = said(directive.max_age)
    return CacheHint(
        max_age=max_age if isinstance(max_age, int) else None,
        private=None if scope is None else scope is CacheControlScope.PRIVATE,
    )


# The hints the subgraphs use most, named once.
PUBLIC_FEW_MINUTES = CacheControl(max_age=300)  # the same for everyone: the catalogue
PER_USER = CacheControl(max_age=0, scope=CacheControlScope.PRIVATE)  # never shared, never kept
PRIVATE_FIELD = CacheControl(scope=CacheControlScope.PRIVATE)  # its parent's maxAge, one user's
INHERIT = CacheControl(inherit_max_age=True)  # connections, edges: as the field holding them
