"""What the analytics store knows for recommending, read from the per learner and course
aggregate (`learner_courses`, one row from a learner's enrollment on, `completed_at` from
their completion): the courses a learner took, co-enrollment counts, learner counts.

Counted on demand, not materialised: the co-counts of one learner's (at most MAX_SOURCES)
courses are one grouped self-join over the (user_id, course_id) primary key and the
(course_id, …) index, whose work grows with those courses' learners and their other
courses (not measured at scale yet: bench/README). A pair table kept up by the event
handlers is the step to take when that grows too slow; no migration is needed until then.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Final

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from subgraphs.analytics.models import LearnerCourseRow
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
    source, target = aliased(LearnerCourseRow), aliased(LearnerCourseRow)
    rows = await session.execute(
        select(source.course_id, target.course_id, func.count(), func.count(source.completed_at))
        .join(
            target,
            and_(target.user_id == source.user_id, target.course_id != source.course_id),
        )
        .where(source.course_id.in_(list(sources)))
        .group_by(source.course_id, target.course_id)
    )
    return {(s, t): CoCount(int(both), int(done)) for s, t, both, done in rows.all()}


async def takers(session: AsyncSession, course_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many learners took each of these courses (those none took are absent)."""
    if not course_ids:
        return {}
    rows = await session.execute(
        select(LearnerCourseRow.course_id, func.count())
        .where(LearnerCourseRow.course_id.in_(list(course_ids)))
        .group_by(LearnerCourseRow.course_id)
    )
    return {course_id: int(count) for course_id, count in rows.all()}


async def most_taken(session: AsyncSession, limit: int) -> dict[uuid.UUID, int]:
    """The `limit` courses most learners took, with their counts."""
    count = func.count().label("learners")
    rows = await session.execute(
        select(LearnerCourseRow.course_id, count)
        .group_by(LearnerCourseRow.course_id)
        .order_by(count.desc(), LearnerCourseRow.course_id)
        .limit(limit)
    )
    return {course_id: int(n) for course_id, n in rows.all()}
