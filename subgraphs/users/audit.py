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

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from common import clock
from common.errors import BadUserInput
from subgraphs.users.models import SecurityEventRow

MAX_ADDRESS = 100
REPEATS_WINDOW = timedelta(minutes=15)  # one row per repeated anonymous refusal this long
SECRET_WORDS = ("password", "secret", "token", "code")


class SecurityEventKind(StrEnum):
    USER_REGISTERED = "USER_REGISTERED"
    SIGN_IN_SUCCEEDED = "SIGN_IN_SUCCEEDED"
    SIGN_IN_FAILED = "SIGN_IN_FAILED"  # wrong password, unknown account or rate limited (counted)
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
    SESSION_REVOKED = "SESSION_REVOKED"  # revokeSession: one session ended, by its user or an admin
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # a stolen token, probably: family revoked
    USER_DELETED = "USER_DELETED"
    API_KEY_CREATED = "API_KEY_CREATED"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    API_KEY_USED = (
        "API_KEY_USED"  # traded for an access token (by the router, at most once a minute per key)
    )
    API_KEY_REFUSED = "API_KEY_REFUSED"  # unknown, revoked or expired: counted per address
    EXTERNAL_IDENTITY_LINKED = "EXTERNAL_IDENTITY_LINKED"  # first sign-in with a provider
    EXTERNAL_IDENTITY_UNLINKED = "EXTERNAL_IDENTITY_UNLINKED"
    EMAIL_CHANGE_REQUESTED = "EMAIL_CHANGE_REQUESTED"  # a link went to the new address
    EMAIL_VERIFIED = "EMAIL_VERIFIED"  # a verification link opened (details: changed)
    PASSWORD_RESET_REQUESTED = "PASSWORD_RESET_REQUESTED"  # a reset link went out
    PASSWORD_RESET = "PASSWORD_RESET"  # a reset link set a new password; sessions ended
    DATA_EXPORT_REQUESTED = "DATA_EXPORT_REQUESTED"  # by the user, or an admin for them


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


async def record_repeated(
    session: AsyncSession,
    kind: SecurityEventKind,
    *,
    subject: uuid.UUID | None,
    address: str | None,
    **details: Any,
) -> None:
    """An anonymous refusal that anyone can repeat at will (a guessed API key, a sign-in
    while locked out), as one row per (kind, address, subject, details) per
    :data:`REPEATS_WINDOW`: the first adds it with ``count`` 1, the later ones count in it
    (and ``last_at``), so no flood of requests floods the log. Concurrent refusals wait on a
    transaction lock of their own row, never add a second one."""
    address = address[:MAX_ADDRESS] if address else None
    identity = json.dumps([kind.value, address, str(subject), details], sort_keys=True)
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:identity, 0))"),
        {"identity": identity},
    )
    now = clock.now()
    same = select(SecurityEventRow).where(
        SecurityEventRow.kind == kind.value,
        SecurityEventRow.actor_id.is_(None),
        SecurityEventRow.occurred_at >= now - REPEATS_WINDOW,
        SecurityEventRow.details.contains(details),
        SecurityEventRow.client_address.is_(None)
        if address is None
        else SecurityEventRow.client_address == address,
        SecurityEventRow.subject_id.is_(None)
        if subject is None
        else SecurityEventRow.subject_id == subject,
    )
    row = await session.scalar(same.order_by(SecurityEventRow.occurred_at.desc()).limit(1))
    if row is None:
        record(session, kind, actor=None, subject=subject, address=address, count=1, **details)
        return
    count = int(row.details.get("count", 1)) + 1
    row.details = {**row.details, "count": count, "last_at": now.isoformat()}


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
