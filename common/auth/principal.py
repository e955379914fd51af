"""The authenticated caller and the role → scope table (README: "Roles and scopes")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    STUDENT = "STUDENT"
    INSTRUCTOR = "INSTRUCTOR"
    ADMIN = "ADMIN"


ROLE_SCOPES: Final[dict[Role, frozenset[str]]] = {
    Role.STUDENT: frozenset({"profile:read", "profile:write", "courses:read", "learning:write"}),
    Role.INSTRUCTOR: frozenset({"courses:write", "grading:write", "enrollments:manage"}),
    Role.ADMIN: frozenset({"users:read", "users:write", "courses:approve", "admin"}),
}


def scopes_for(roles: frozenset[Role]) -> frozenset[str]:
    """Scopes granted by a set of roles; every signed-in user has the student scopes."""
    granted = set(ROLE_SCOPES[Role.STUDENT])
    for role in roles:
        granted |= ROLE_SCOPES[role]
    return frozenset(granted)


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    roles: frozenset[Role]
    scopes: frozenset[str]
    token_id: str
    expires_at: float | None = None  # the token's `exp` (Unix time): live streams end there
    issued_at: float | None = None  # its `iat`: a revocation ends tokens issued before it
    session_id: uuid.UUID | None = None  # its `sid`: the sign-in session it belongs to

    @property
    def token_claims(self) -> dict[str, object]:
        """What a revocation list needs to know the token by (common/auth/revocations.py)."""
        claims: dict[str, object] = {"sub": str(self.user_id), "iat": self.issued_at}
        if self.session_id is not None:
            claims["sid"] = str(self.session_id)
        return claims

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def is_self_or_admin(self, user_id: uuid.UUID) -> bool:
        return self.user_id == user_id or self.is_admin
