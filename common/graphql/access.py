"""What a field needs of its caller, declared once and enforced twice.

`signed_in()` and `scopes(...)` are Strawberry permission extensions that also put
`@authenticated` / `@requiresScopes` on the field in the subgraph's SDL. Composition carries
those into the supergraph, so the router refuses the field before planning; the subgraph
checks again when the field resolves (a request that reaches it without the router, or with
a token the router did not see, is held to the same rule). Ownership (whose enrollment,
whose course) is a separate, finer check in each service.

Usage: ``@strawberry.mutation(extensions=[scopes(["courses:write"], ["admin"])])``: any one
clause suffices, and every scope of a clause is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.federation.schema_directives import Authenticated, RequiresScopes
from strawberry.permission import BasePermission, PermissionExtension

from common.errors import Forbidden


def _principal(info: Any) -> Any:
    return info.context.require_principal()


class SignedIn(BasePermission):
    """`@authenticated`: any valid access token."""

    _schema_directive = Authenticated()

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        _principal(info)  # raises UNAUTHENTICATED, saying why
        return True


def signed_in() -> PermissionExtension:
    return PermissionExtension([SignedIn()], use_directives=True)


def describe(clauses: Sequence[Sequence[str]]) -> str:
    return " or ".join(" and ".join(clause) for clause in clauses)


def scopes(*clauses: Sequence[str]) -> PermissionExtension:
    """`@requiresScopes(scopes: clauses)`: any one clause of scopes lets the caller in."""
    required = tuple(frozenset(clause) for clause in clauses)
    wording = describe(clauses)

    def has_permission(self: BasePermission, source: Any, info: Any, **kwargs: Any) -> bool:
        granted = _principal(info).scopes
        if any(clause <= granted for clause in required):
            return True
        raise Forbidden(f"This needs the scope {wording}.")

    name = "Scopes_" + "_or_".join("_".join(sorted(c)) for c in required).replace(":", "_")
    permission: type[BasePermission] = type(
        name,
        (BasePermission,),
        {
            "_schema_directive": RequiresScopes(scopes=[list(clause) for clause in clauses]),
            "has_permission": has_permission,
            "__doc__": f"Needs the scope {wording}.",
        },
    )
    return PermissionExtension([permission()], use_directives=True)
