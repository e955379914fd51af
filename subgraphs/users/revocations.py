"""Ended sessions, recorded in PostgreSQL first and carried to every verifier by Redis.

Ending a user's sessions writes the moment to ``token_revocations`` in the transaction that
ends their refresh tokens, so the two stand or fall together: a revocation that cannot be
recorded fails the mutation. Only after the commit is it announced through Redis
(common/auth/revocations.py), and Redis may be down then. So while the users subgraph runs,
`DurableRevocations.follow` keeps Redis holding PostgreSQL's list: it writes the whole list
again at start, when Redis has lost it (restarted empty or flushed: its generation key is
gone), after an announcement failed, and every `REFRESH_SECONDS` in any case; each time it
sets a new generation, at which every verifier loads the list again. One session ended alone
is recorded as its ``sessions.ended_at`` (subgraphs/users/sessions.py), in the transaction
that ends its refresh tokens, and carried the same way while its access tokens can live.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

from redis.exceptions import RedisError
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth.revocations import Revocation, TokenRevoker
from common.cancellation import stop_if_cancelled
from subgraphs.users.models import SessionRow, TokenRevocationRow

CHECK_SECONDS: Final = 1.0
REFRESH_SECONDS: Final = 60.0
log = logging.getLogger(__name__)


class DurableRevocations:
    """What the users service calls when a user's sessions end."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], publisher: TokenRevoker) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._stale = True  # Redis is brought up to date first thing
        self._refreshed = 0.0

    async def record(self, session: AsyncSession, user_id: uuid.UUID) -> Revocation:
        """End, in the caller's transaction, every access token of the user issued before
        now (announce it with `announce` once the transaction committed)."""
        moment = round(time.time(), 3)
        keep = timedelta(seconds=self._publisher.keep_seconds)
        until = datetime.fromtimestamp(moment, UTC) + keep
        statement = insert(TokenRevocationRow).values(
            user_id=user_id, not_before=moment, expires_at=until
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[TokenRevocationRow.user_id],
                set_={
                    "not_before": func.greatest(
                        TokenRevocationRow.not_before, statement.excluded.not_before
                    ),
                    "expires_at": func.greatest(
                        TokenRevocationRow.expires_at, statement.excluded.expires_at
                    ),
                },
            )
        )
        return Revocation(user_id, moment, self._publisher.keep_seconds)

    def session_ended(self, row: SessionRow) -> Revocation:
        """The revocation of an ended session's access tokens (`row.ended_at` is set in the
        caller's transaction: announce it once that committed)."""
        assert row.ended_at is not None
        return Revocation(
            row.user_id, row.ended_at.timestamp(), self._publisher.keep_seconds, row.id
        )

    async def announce(self, revocation: Revocation) -> None:
        """Tell every verifier now; if Redis cannot take it, `follow` will later."""
        try:
            await self._publisher.publish([revocation])
        except (RedisError, OSError) as error:
            self._stale = True
            log.warning(
                "token revocation recorded, not yet in Redis",
                extra={"user": str(revocation.user_id), "error": str(error)},
            )

    async def follow(self) -> None:
        """Keep Redis holding the list, for the life of the service (a failure is logged
        when it starts, and when it ends)."""
        failing = False
        while True:
            try:
                await self._bring_redis_up_to_date()
            except (RedisError, OSError, SQLAlchemyError) as error:
                stop_if_cancelled()
                self._stale = True
                if not failing:
                    log.warning("revocations not written to Redis", extra={"error": str(error)})
                failing = True
            else:
                if failing:
                    log.info("revocations written to Redis again")
                failing = False
            await asyncio.sleep(CHECK_SECONDS)

    async def _bring_redis_up_to_date(self) -> None:
        due = time.monotonic() - self._refreshed >= REFRESH_SECONDS
        if self._stale or due or not await self._publisher.has_generation():
            self._stale = False  # an announcement failing from here on marks it again
            await self._republish()

    async def _republish(self) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(TokenRevocationRow).where(TokenRevocationRow.expires_at <= func.now())
            )
            rows = (await session.scalars(select(TokenRevocationRow))).all()
            keep = timedelta(seconds=self._publisher.keep_seconds)
            ended = (
                await session.scalars(
                    select(SessionRow).where(SessionRow.ended_at > func.now() - keep)
                )
            ).all()
        now = datetime.now(UTC)
        live = [
            Revocation(row.user_id, row.not_before, (row.expires_at - now).total_seconds())
            for row in rows
        ]
        for row in ended:
            assert row.ended_at is not None
            left = (row.ended_at + keep - now).total_seconds()
            live.append(Revocation(row.user_id, row.ended_at.timestamp(), left, row.id))
        await self._publisher.publish(live, new_generation=True)
        self._refreshed = time.monotonic()
