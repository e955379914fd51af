"""The demo accounts of the dev run, with ids every subgraph's seed can compute on its own
(no subgraph reads another's schema, not even to seed)."""

from __future__ import annotations

import uuid
from typing import Final

from common.auth import Role

DEMO_NAMESPACE: Final = uuid.UUID("0b6c1e57-4f7a-4c3e-9f55-6d3f1c2a9e10")
DEMO_PASSWORD: Final = "demo-password-2026"
DEMO_USERS: Final = (
    ("admin@lms.local", "Ada Admin", Role.ADMIN),
    ("instructor@lms.local", "Ian Instructor", Role.INSTRUCTOR),
    ("student@lms.local", "Sam Student", Role.STUDENT),
    ("student2@lms.local", "Sasha Student", Role.STUDENT),
)


def demo_id(*parts: str) -> uuid.UUID:
    """A stable id for a demo record, e.g. demo_id("user", "admin@lms.local")."""
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(parts))


def demo_user_id(email: str) -> uuid.UUID:
    return demo_id("user", email)
