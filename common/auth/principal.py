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


# What each service may do in another's domain, asked with its own client credentials
# (OAuth 2 client-credentials grant at the users subgraph, subgraphs/users/service_clients.py).
# A scope names the subgraph that honours it; none of them is a user's scope, so a user's
# token never carries one, and a service token never carries a user's.
SERVICE_SCOPES: Final[dict[str, str]] = {
    "users:contacts": "read any user's name, e-mail address and locale (to write to them)",
    "courses:unpublished": "read any course, drafts included (progress after a grade; "
    "the instructors of a course in the at-risk digest)",
    "enrollments:rosters": "read any course's learners (to tell them it is published)",
}
SERVICE_CLIENT_SCOPES: Final[dict[str, frozenset[str]]] = {
    "enrollments": frozenset({"courses:unpublished"}),
    "notifications": frozenset({"users:contacts", "enrollments:rosters"}),
    "analytics": frozenset({"courses:unpublished"}),
    # LTI rosters (NRPS): a course's learners and their names, drafts' too (enrollments
    # reads the course as the caller, here courses itself)
    "courses": frozenset({"courses:unpublished", "enrollments:rosters", "users:contacts"}),
}
SERVICE_NAMESPACE: Final = uuid.UUID("5e6d1c3a-2b7f-4a8e-9c01-7f3e2d4b5a60")


def service_subject(client_id: str) -> uuid.UUID:
    """A service's fixed subject: never a user's id (those are random, version 4)."""
    return uuid.uuid5(SERVICE_NAMESPACE, client_id)


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
    client_id: str | None = None  # a service acting for itself: no roles, service scopes only

    @property
    def token_claims(self) -> dict[str, object]:
        """What a revocation list needs to know the token by (common/auth/revocations.py)."""
        claims: dict[str, object] = {"sub": str(self.user_id), "iat": self.issued_at}
        if self.session_id is not None:
            claims["sid"] = str(self.session_id)
        return claims

    @property
    def is_service(self) -> bool:
        return self.client_id is not None

    def service_may(self, scope: str) -> bool:
        """A service token granted `scope` (one of SERVICE_SCOPES)."""
        return self.client_id is not None and scope in self.scopes

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def is_self_or_admin(self, user_id: uuid.UUID) -> bool:
        return self.user_id == user_id or self.is_admin
