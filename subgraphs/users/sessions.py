"""Sign-in sessions: one per refresh-token family, listed with their device and ended alone.

A sign-in (password, second factor, external provider, registration) opens a session whose
id is the family's and the ``sid`` of its access tokens; each refresh records when and from
where it was last used. Ending a session revokes its refresh tokens and, through the
revocation list, its access tokens at once (subgraphs/users/revocations.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.db.pagination import Page, fetch_ordered_page
from common.errors import Forbidden, NotFound
from subgraphs.users import audit
from subgraphs.users.audit import SecurityEventKind as Kind
from subgraphs.users.models import RefreshTokenRow, SessionRow
from subgraphs.users.revocations import DurableRevocations
from subgraphs.users.user_agents import bounded


@dataclass(frozen=True, slots=True)
class Device:
    """Where a sign-in or refresh comes from: the client's address and User-Agent."""

    address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Ended:
    refresh_tokens: int  # refresh tokens revoked
    sessions: list[SessionRow]  # the sessions that ended now


async def record_use(
    session: AsyncSession,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    device: Device,
    expires_at: datetime,
) -> None:
    """Open the family's session, or note that it was used again (a refresh), from where."""
    now = clock.now()
    statement = insert(SessionRow).values(
        id=family_id,
        user_id=user_id,
        user_agent=bounded(device.user_agent),
        client_address=device.address,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SessionRow.id],
            set_={
                "user_agent": statement.excluded.user_agent,
                "client_address": statement.excluded.client_address,
                "last_used_at": statement.excluded.last_used_at,
                "expires_at": statement.excluded.expires_at,
            },
        )
    )


async def end_refresh_tokens(session: AsyncSession, scope: Any) -> Ended:
    """Revoke the refresh tokens in `scope` (a condition on RefreshTokenRow) and end their
    sessions, in the caller's transaction."""
    now = clock.now()
    families = (
        await session.scalars(
            update(RefreshTokenRow)
            .where(scope, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(RefreshTokenRow.family_id)
        )
    ).all()
    if not families:
        return Ended(0, [])
    ended = await session.scalars(
        update(SessionRow)
        .where(SessionRow.id.in_(set(families)), SessionRow.ended_at.is_(None))
        .values(ended_at=now)
        .returning(SessionRow),
        execution_options={"synchronize_session": False},
    )
    return Ended(len(families), list(ended.all()))


class SessionsService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], tokens: DurableRevocations
    ) -> None:
        self._sessions = sessions
        self._tokens = tokens

    async def page(
        self, principal: Principal, user_id: uuid.UUID, first: int | None, after: str | None
    ) -> Page[SessionRow]:
        """The user's live sessions, newest first (theirs, or any user's for an admin)."""
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("Only this user and administrators can see their sessions.")
        query = select(SessionRow).where(
            SessionRow.user_id == user_id,
            SessionRow.ended_at.is_(None),
            SessionRow.expires_at > func.now(),
        )
        async with self._sessions() as session:
            return await fetch_ordered_page(
                session,
                query,
                key=SessionRow.created_at,
                key_name="created_at",
                row_id=SessionRow.id,
                descending=True,
                first=first,
                after=after,
            )

    async def revoke(
        self, principal: Principal, session_id: uuid.UUID, address: str | None = None
    ) -> uuid.UUID:
        """End a session of the caller's (any user's, for an admin): its refresh tokens and
        its access tokens. Another user's session is NOT_FOUND, as one that does not exist."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(SessionRow).where(SessionRow.id == session_id).with_for_update()
            )
            if (
                row is None
                or row.ended_at is not None
                or not principal.is_self_or_admin(row.user_id)
            ):
                raise NotFound(f"You have no session with id {session_id}.", field="id")
            row.ended_at = clock.now()  # written before its refresh tokens are revoked
            await end_refresh_tokens(session, RefreshTokenRow.family_id == row.id)
            audit.record(
                session,
                Kind.SESSION_REVOKED,
                actor=principal.user_id,
                subject=row.user_id,
                address=address,
                session_id=str(row.id),
            )
            ended = self._tokens.session_ended(row)
        await self._tokens.announce(ended)
        return session_id
