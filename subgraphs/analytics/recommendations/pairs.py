"""Keeping the co-enrollment counts (`course_learners`, `course_pairs`) with
`learner_courses`, in the statement's transaction, so that a recommendation reads a few
index ranges instead of joining every learner of the learner's courses (bench/README:
"Recommendations at scale").

When a learner's row for a course is new: the course has one learner more, and each pair of
it with the learner's other courses (both ways) one co-learner more, counted as completed
for the sources the learner completed. When the learner completes a course they already
had: each pair with it as the source counts one completion more. A per-learner advisory
lock orders these for one learner, so two enrollments at once both see each other.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.analytics.models import CourseLearnersRow, CoursePairRow, LearnerCourseRow

LOCK_SPACE: Final = 0x7EC0  # the advisory locks' first key: recommendations' pair upkeep


async def lock_learner(session: AsyncSession, user_id: uuid.UUID) -> None:
    key = int.from_bytes(user_id.bytes[:4], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(LOCK_SPACE, key)))


async def _others(
    session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID
) -> list[tuple[uuid.UUID, bool]]:
    rows = await session.execute(
        select(LearnerCourseRow.course_id, LearnerCourseRow.completed_at.is_not(None))
        .where(LearnerCourseRow.user_id == user_id, LearnerCourseRow.course_id != course_id)
        .order_by(LearnerCourseRow.course_id)
    )
    return [(other, bool(done)) for other, done in rows.all()]


async def _add_pairs(
    session: AsyncSession, pairs: list[tuple[uuid.UUID, uuid.UUID, int, int]]
) -> None:
    """(source, target, learners, completed) added, in key order (no deadlock between two
    transactions adding to the same pairs)."""
    if not pairs:
        return
    statement = insert(CoursePairRow).values(
        [
            {"source_id": s, "target_id": t, "learners": n, "completed": c}
            for s, t, n, c in sorted(pairs)
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["source_id", "target_id"],
            set_={
                "learners": CoursePairRow.learners + statement.excluded.learners,
                "completed": CoursePairRow.completed + statement.excluded.completed,
            },
        )
    )


async def learner_joined(
    session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID, completed: bool
) -> None:
    """The learner's row for the course is new (and `completed` already, events arriving
    out of order)."""
    statement = insert(CourseLearnersRow).values(course_id=course_id, learners=1)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["course_id"], set_={"learners": CourseLearnersRow.learners + 1}
        )
    )
    pairs = []
    for other, other_done in await _others(session, user_id, course_id):
        pairs.append((course_id, other, 1, int(completed)))
        pairs.append((other, course_id, 1, int(other_done)))
    await _add_pairs(session, pairs)


async def learner_completed(
    session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID
) -> None:
    """The learner completed a course they had a row for already."""
    others = await _others(session, user_id, course_id)
    await _add_pairs(session, [(course_id, other, 0, 1) for other, _ in others])
