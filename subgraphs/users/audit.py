"""The security audit log: what happened to which account, who did it, from where.

An event is written in the transaction of the change it records, so the log never shows a
change that did not happen nor misses one that did; attempts that change nothing (a failed
sign-in) are written on their own. Events name accounts by id only and outlive them: when an
account is deleted its events stay, with the client addresses of its own actions erased.
Details never hold a password, token, code or secret: :func:`record` refuses detail names
that look like one.

Adding a kind is one line in :class:`SecurityEventKind` (the GraphQL enum is made from it and
the column is a plain string, so no migration), then ``lms export-schema users && lms
compose`` to regenerate the checked-in schema, and a ``record(...)`` call where it happens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common import clock
from common.errors import BadUserInput
from subgraphs.users.models import SecurityEventRow

MAX_ADDRESS = 100
SECRET_WORDS = ("password", "secret", "token", "code")


class SecurityEventKind(StrEnum):
    USER_REGISTERED = "USER_REGISTERED"
    SIGN_IN_SUCCEEDED = "SIGN_IN_SUCCEEDED"
    SIGN_IN_FAILED = "SIGN_IN_FAILED"  # wrong password, unknown account or rate limited
    MFA_CHALLENGE_ISSUED = "MFA_CHALLENGE_ISSUED"  # the password was right; a code is due
    MFA_CHALLENGE_FAILED = "MFA_CHALLENGE_FAILED"  # a wrong code, recovery code or password
    MFA_ENROLLMENT_STARTED = "MFA_ENROLLMENT_STARTED"
    MFA_ENABLED = "MFA_ENABLED"
    MFA_DISABLED = "MFA_DISABLED"
    RECOVERY_CODE_USED = "RECOVERY_CODE_USED"
    RECOVERY_CODES_REGENERATED = "RECOVERY_CODES_REGENERATED"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"
    PASSWORD_CHANGE_FAILED = "PASSWORD_CHANGE_FAILED"  # a wrong current password
    ROLES_CHANGED = "ROLES_CHANGED"
    LOGOUT_ALL = "LOGOUT_ALL"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # a stolen token, probably: family revoked
    USER_DELETED = "USER_DELETED"
    API_KEY_CREATED = "API_KEY_CREATED"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    API_KEY_USED = (
        "API_KEY_USED"  # traded for an access token (by the router, at most once a minute per key)
    )
    API_KEY_REFUSED = "API_KEY_REFUSED"  # unknown, revoked or expired
    EXTERNAL_IDENTITY_LINKED = "EXTERNAL_IDENTITY_LINKED"  # first sign-in with a provider
    EXTERNAL_IDENTITY_UNLINKED = "EXTERNAL_IDENTITY_UNLINKED"


def record(
    session: AsyncSession,
    kind: SecurityEventKind,
    *,
    actor: uuid.UUID | None,
    subject: uuid.UUID | None,
    address: str | None,
    **details: Any,
) -> SecurityEventRow:
    """Add an event to the session's transaction; details are JSON values."""
    for name in details:
        if any(word in name.lower() for word in SECRET_WORDS):
            raise ValueError(f"security event detail {name!r} may hold a secret")
    row = SecurityEventRow(
        id=uuid.uuid4(),
        occurred_at=clock.now(),
        kind=kind.value,
        actor_id=actor,
        subject_id=subject,
        client_address=address[:MAX_ADDRESS] if address else None,
        details=details,
    )
    session.add(row)
    return row


async def forget_addresses(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A deleted account keeps its trail, by id, without the addresses it was used from."""
    await session.execute(
        update(SecurityEventRow)
        .where(or_(SecurityEventRow.actor_id == user_id, SecurityEventRow.subject_id == user_id))
        .values(client_address=None)
    )


@dataclass(frozen=True, slots=True)
class EventFilter:
    kinds: frozenset[SecurityEventKind] | None = None
    user_id: uuid.UUID | None = None  # as actor or as subject
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)  # a time without a zone is read as UTC


def events_query(criteria: EventFilter) -> Select[SecurityEventRow]:
    query = select(SecurityEventRow)
    if criteria.kinds is not None:
        if not criteria.kinds:
            raise BadUserInput("kinds must name at least one kind, or be left out.", field="kinds")
        query = query.where(SecurityEventRow.kind.in_(sorted(criteria.kinds)))
    if criteria.user_id is not None:
        query = query.where(
            or_(
                SecurityEventRow.actor_id == criteria.user_id,
                SecurityEventRow.subject_id == criteria.user_id,
            )
        )
    since, until = _aware(criteria.since), _aware(criteria.until)
    if since is not None and until is not None and since >= until:
        raise BadUserInput("until must be later than since.", field="until")
    if since is not None:
        query = query.where(SecurityEventRow.occurred_at >= since)
    if until is not None:
        query = query.where(SecurityEventRow.occurred_at < until)
    return query
