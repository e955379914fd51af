"""The statements table's monthly partitions: created ahead (and on insert when missing),
dropped whole once every statement in them is past the retention; the month at the edge has
its older statements deleted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.analytics.models import SCHEMA, StatementIdRow, StatementRow

NAME: Final = re.compile(r"statements_(\d{4})_(\d{2})")
LOCK: Final = 0x616E616C  # advisory lock key of partition changes ("anal")


def month_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date().replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def partition_name(month: date) -> str:
    return f"statements_{month.year:04d}_{month.month:02d}"


async def create_partition(session: AsyncSession, month: date) -> None:
    """The month's partition, if it does not exist yet (safe to race: under a lock)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
    start, end = month.isoformat(), next_month(month).isoformat()
    await session.execute(
        text(
            f'CREATE TABLE IF NOT EXISTS "{SCHEMA}"."{partition_name(month)}" '
            f'PARTITION OF "{SCHEMA}".statements '
            f"FOR VALUES FROM ('{start} 00:00+00') TO ('{end} 00:00+00')"
        )
    )


async def existing_months(session: AsyncSession) -> list[date]:
    rows = await session.execute(
        text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "JOIN pg_namespace ns ON ns.oid = parent.relnamespace "
            "WHERE ns.nspname = :schema AND parent.relname = 'statements'"
        ),
        {"schema": SCHEMA},
    )
    months = []
    for (name,) in rows:
        match = NAME.fullmatch(name)
        if match:
            months.append(date(int(match[1]), int(match[2]), 1))
    return sorted(months)


class Partitions:
    """Which months exist, remembered by this process once seen committed, so that an
    insert asks at most until then. A missing month is created in the inserting transaction
    itself: another transaction would wait for the lock the inserting one holds on the table
    once it has inserted anything, and it would wait for the other."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._known: set[date] = set()

    async def ensure(self, session: AsyncSession, moment: datetime) -> None:
        month = month_of(moment)
        if month in self._known:
            return
        name = f"{SCHEMA}.{partition_name(month)}"
        async with self._sessions() as reader:  # committed partitions only (takes no lock)
            found = await reader.scalar(
                text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}
            )
        if found:
            self._known.add(month)
        else:
            await create_partition(session, month)

    async def maintain(self, now: datetime, retention_days: int, ahead: int = 2) -> list[date]:
        """Create this month's partition and `ahead` more; drop the months wholly older than
        the retention and delete the statements before it in the month at the edge. Returns
        the months dropped."""
        cutoff = now - timedelta(days=retention_days)
        month = month_of(now)
        async with self._sessions() as session, session.begin():
            for _ in range(ahead + 1):
                await create_partition(session, month)
                self._known.add(month)
                month = next_month(month)
            dropped = [m for m in await existing_months(session) if next_month(m) <= cutoff.date()]
            for old in dropped:
                await session.execute(text(f'DROP TABLE "{SCHEMA}"."{partition_name(old)}"'))
                self._known.discard(old)
            await session.execute(delete(StatementRow).where(StatementRow.timestamp < cutoff))
            await session.execute(delete(StatementIdRow).where(StatementIdRow.timestamp < cutoff))
        return dropped
