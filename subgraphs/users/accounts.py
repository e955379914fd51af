"""Opening an account: the one place a user row is born, with its event and audit entry."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from common import clock
from common.auth import Role
from common.events.envelope import Event
from common.events.outbox import emit
from common.telemetry.metrics import business_event
from subgraphs.users import audit
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.models import EVENTS, UserRow


async def open_account(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    password_hash: str | None,
    address: str | None,
    method: str,
    welcome: bool = True,
    verified: bool = False,
) -> UserRow:
    """A new student account in the session's transaction, announced as user.registered
    (with ``welcome``: whether notifications may send the welcome e-mail). ``verified``:
    the address is known to be the person's (an external provider verified it).

    Flushed, so a taken email raises IntegrityError here, in the caller's hands.
    """
    now = clock.now()
    user = UserRow(
        id=uuid.uuid4(),
        email=email,
        password_hash=password_hash,
        name=name,
        roles=[Role.STUDENT.value],
        preferences={},
        locale="en",
        created_at=now,
        updated_at=now,
        email_verified_at=now if verified else None,
    )
    session.add(user)
    await session.flush()
    await emit(
        session,
        EVENTS.outbox,
        Event(
            "user.registered",
            {
                "user_id": str(user.id),
                "name": user.name,
                "locale": user.locale,
                "welcome": welcome,
            },
            "users",
        ),
    )
    business_event(session, "users", "registration")
    audit.record(
        session,
        Kind.USER_REGISTERED,
        actor=user.id,
        subject=user.id,
        address=address,
        method=method,
    )
    return user
