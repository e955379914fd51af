"""The statements table's monthly partitions and retention, and the daily aggregates against
the raw statements, on the analytics schema itself (the worker's side: no API shows it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth.quota import Quota
from common.db import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.analytics.models import StatementIdRow, StatementRow
from subgraphs.analytics.partitions import Partitions, existing_months, month_of, next_month
from subgraphs.analytics.service import AnalyticsService
from subgraphs.analytics.statements import NewStatement, record
from subgraphs.analytics.vocabulary import ActivityType, Verb
from tests.support import eventually

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(service_dsn(migrated, "analytics"), pool_size=2)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def statement(
    course: uuid.UUID, learner: uuid.UUID, moment: datetime, **fields: object
) -> NewStatement:
    values: dict[str, object] = {
        "verb": Verb.VIEWED,
        "duration_seconds": 60,
        "object_type": ActivityType.LESSON,
        **fields,
    }
    return NewStatement(
        id=uuid.uuid4(),
        actor_id=learner,
        object_id=uuid.uuid4(),
        timestamp=moment,
        course_id=course,
        **values,  # type: ignore[arg-type]
    )


async def store(sessions: async_sessionmaker[AsyncSession], *items: NewStatement) -> list[bool]:
    partitions = Partitions(sessions)
    async with sessions() as session, session.begin():
        return [await record(session, partitions, item) for item in items]


async def test_statements_go_to_monthly_partitions_made_when_missing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    course, learner = uuid.uuid4(), uuid.uuid4()
    long_ago = NOW - timedelta(days=900)  # a month no partition was made ahead for
    async with sessions() as session:
        assert month_of(long_ago) not in await existing_months(session)
    first = statement(course, learner, long_ago)
    assert await store(sessions, first) == [True]
    assert await store(sessions, first) == [False]  # the same id again: nothing
    async with sessions() as session:
        assert month_of(long_ago) in await existing_months(session)
        stored = await session.scalar(
            select(func.count()).select_from(StatementRow).where(StatementRow.course_id == course)
        )
    assert stored == 1


async def test_the_worker_makes_the_coming_months_ahead(
    sessions: async_sessionmaker[AsyncSession], subgraph_urls: dict[str, str]
) -> None:
    coming = next_month(next_month(month_of(datetime.now(UTC))))

    async def made() -> bool:
        async with sessions() as session:
            return coming in await existing_months(session)

    await eventually(made)


async def test_retention_drops_old_months_and_deletes_the_edge(
    sessions: async_sessionmaker[AsyncSession], migrated: Settings
) -> None:
    course, learner = uuid.uuid4(), uuid.uuid4()
    cutoff = NOW - timedelta(days=60)
    kept_edge = statement(course, learner, cutoff + timedelta(hours=1))
    items = [
        statement(course, learner, NOW - timedelta(days=200)),
        statement(course, learner, NOW - timedelta(days=100)),
        statement(course, learner, cutoff - timedelta(hours=1)),
        kept_edge,
        statement(course, learner, NOW),
    ]
    await store(sessions, *items)
    partitions = Partitions(sessions)
    dropped = await partitions.maintain(NOW, retention_days=60)
    assert month_of(NOW - timedelta(days=200)) in dropped
    assert month_of(NOW - timedelta(days=100)) in dropped
    assert month_of(cutoff) not in dropped  # the edge: its older rows deleted instead
    async with sessions() as session:
        months = await existing_months(session)
        left = set(
            await session.scalars(select(StatementRow.id).where(StatementRow.course_id == course))
        )
        registered = set(
            await session.scalars(
                select(StatementIdRow.id).where(StatementIdRow.actor_id == learner)
            )
        )
    assert left == registered == {kept_edge.id, items[-1].id}
    assert all(next_month(month) > cutoff.date() for month in months)
    ahead = next_month(next_month(month_of(NOW)))
    assert ahead in months  # made ahead for the worker's next months


async def test_daily_aggregates_agree_with_the_raw_statements(
    sessions: async_sessionmaker[AsyncSession], migrated: Settings
) -> None:
    course = uuid.uuid4()
    learners = [uuid.uuid4() for _ in range(3)]
    today = datetime.now(UTC).replace(microsecond=0)
    items = [
        statement(course, learner, today - timedelta(days=day, minutes=index))
        for index, learner in enumerate(learners)
        for day in range(0, 20, index + 1)
    ] + [
        statement(course, learners[0], today, verb=Verb.COMPLETED, duration_seconds=None),
        statement(
            course, learners[1], today, verb=Verb.PASSED, score_scaled=0.75, duration_seconds=30
        ),
        statement(
            course,
            learners[2],
            today,
            verb=Verb.FAILED,
            score_scaled=0.25,
            object_type=ActivityType.ASSESSMENT,
        ),
    ]
    await store(sessions, *items)
    redis = Redis.from_url(migrated.redis_url)
    try:
        analytics = AnalyticsService(sessions, Partitions(sessions), Quota(redis, "t", 1, 60))
        since = (today - timedelta(days=30)).date()
        aggregated = await analytics.course_weeks(course, since)
        raw = await analytics.course_weeks_from_statements(course, since)
    finally:
        await redis.aclose()
    assert aggregated == raw
    assert sum(week.statements for week in aggregated) == len(items)
    assert sum(week.scores for week in aggregated) == 2
