"""What the analytics store knows for recommending: the courses a learner took
(`learner_courses`, a row from their enrollment on, `completed_at` from their completion),
and the co-enrollment counts kept with it (`course_pairs`, `course_learners`: pairs.py), so
a recommendation reads index ranges: the pairs of the learner's (at most MAX_SOURCES)
courses and the learner counts of the candidates.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.analytics.models import CourseLearnersRow, CoursePairRow, LearnerCourseRow
from subgraphs.analytics.recommendations.similarity import CoCount

MAX_SOURCES: Final = 20  # a learner's most recent courses recommendations start from


async def taken(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    """Every course the learner enrolled in, most recently active first, and whether they
    completed it."""
    rows = await session.execute(
        select(LearnerCourseRow.course_id, LearnerCourseRow.completed_at.is_not(None))
        .where(LearnerCourseRow.user_id == user_id)
        .order_by(LearnerCourseRow.last_seen.desc(), LearnerCourseRow.course_id)
    )
    return {course_id: bool(completed) for course_id, completed in rows.all()}


async def co_counts(
    session: AsyncSession, sources: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], CoCount]:
    """For each source course and every other course its learners took: how many took both,
    and how many of them completed the source."""
    if not sources:
        return {}
    rows = await session.execute(
        select(
            CoursePairRow.source_id,
            CoursePairRow.target_id,
            CoursePairRow.learners,
            CoursePairRow.completed,
        ).where(CoursePairRow.source_id.in_(list(sources)), CoursePairRow.learners > 0)
    )
    return {(s, t): CoCount(int(both), int(done)) for s, t, both, done in rows.all()}


async def takers(session: AsyncSession, course_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many learners took each of these courses (those none took are absent)."""
    if not course_ids:
        return {}
    rows = await session.execute(
        select(CourseLearnersRow.course_id, CourseLearnersRow.learners).where(
            CourseLearnersRow.course_id.in_(list(course_ids)), CourseLearnersRow.learners > 0
        )
    )
    return {course_id: int(count) for course_id, count in rows.all()}


async def most_taken(session: AsyncSession, limit: int) -> dict[uuid.UUID, int]:
    """The `limit` courses most learners took, with their counts."""
    rows = await session.execute(
        select(CourseLearnersRow.course_id, CourseLearnersRow.learners)
        .where(CourseLearnersRow.learners > 0)
        .order_by(CourseLearnersRow.learners.desc(), CourseLearnersRow.course_id)
        .limit(limit)
    )
    return {course_id: int(n) for course_id, n in rows.all()}
