"""The co-enrollment counts (recommendations/pairs.py) kept with learner_courses as
statements are recorded: in any order, redelivered, and two enrollments of one learner at
once, they equal the counts made from learner_courses afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.db import create_engine, service_dsn, session_factory
from common.settings import Settings
from subgraphs.analytics.models import CourseLearnersRow, CoursePairRow
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.statements import NewStatement, record
from subgraphs.analytics.vocabulary import ActivityType, Verb

RECOUNTED = text(
    "SELECT s.course_id, t.course_id, count(*), count(s.completed_at) "
    "FROM analytics.learner_courses s JOIN analytics.learner_courses t "
    "ON t.user_id = s.user_id AND t.course_id <> s.course_id "
    "WHERE s.course_id = ANY(:courses) GROUP BY 1, 2"
)


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(service_dsn(migrated, "analytics"), pool_size=4)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def course_statement(learner: uuid.UUID, course: uuid.UUID, verb: Verb) -> NewStatement:
    return NewStatement(
        id=uuid.uuid4(),
        actor_id=learner,
        verb=verb,
        object_type=ActivityType.COURSE,
        object_id=course,
        timestamp=datetime.now(UTC) - timedelta(minutes=1),
        course_id=course,
        completion=verb is Verb.COMPLETED or None,
    )


async def store(sessions: async_sessionmaker[AsyncSession], *items: NewStatement) -> None:
    partitions = Partitions(sessions)
    async with sessions() as session, session.begin():
        for item in items:
            await record(session, partitions, item)


async def test_pairs_and_learner_counts_match_learner_courses(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    ann, bob, cat, dan = (uuid.uuid4() for _ in range(4))
    registered, completed = Verb.REGISTERED, Verb.COMPLETED
    joined_a = course_statement(ann, a, registered)
    await store(sessions, joined_a, course_statement(ann, b, registered))
    await store(sessions, joined_a)  # redelivered: stored once, counted once
    await store(sessions, course_statement(ann, a, completed))  # completes a course she had
    await store(sessions, course_statement(ann, a, completed))  # a second completion: no
    # Bob's completion arrives before his registration (events out of order).
    await store(sessions, course_statement(bob, a, completed))
    await store(
        sessions, course_statement(bob, a, registered), course_statement(bob, c, registered)
    )
    await store(sessions, course_statement(bob, c, Verb.VIEWED))  # activity adds no learner
    # Cat enrols in three courses at once, in three transactions.
    await asyncio.gather(
        *(store(sessions, course_statement(cat, course, registered)) for course in (a, b, d))
    )
    await store(sessions, course_statement(dan, d, registered))

    courses = [a, b, c, d]
    async with sessions() as session:
        kept = {
            (row.source_id, row.target_id): (row.learners, row.completed)
            for row in await session.scalars(
                select(CoursePairRow).where(CoursePairRow.source_id.in_(courses))
            )
        }
        recounted = {
            (s, t): (n, done)
            for s, t, n, done in (await session.execute(RECOUNTED, {"courses": courses})).all()
        }
        learners = dict(
            (
                await session.execute(
                    select(CourseLearnersRow.course_id, CourseLearnersRow.learners).where(
                        CourseLearnersRow.course_id.in_(courses)
                    )
                )
            ).all()
        )
    assert kept == recounted
    assert kept[(a, b)] == (2, 1)  # Ann and Cat; Ann completed a
    assert kept[(b, a)] == (2, 0)
    assert kept[(a, c)] == (1, 1)  # Bob completed a before registering
    assert kept[(a, d)] == kept[(d, a)] == (1, 0)  # Cat, whose enrolments were simultaneous
    assert learners == {a: 3, b: 2, c: 1, d: 2}
