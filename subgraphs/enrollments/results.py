"""Facts the enrollments domain keeps from assessments: which of a course's assessments are
published (they count in progress), and each learner's best result in each."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.enrollments.models import AssessmentResultRow, CourseAssessmentRow, EnrollmentRow
from subgraphs.enrollments.service import EnrollmentStatus


async def record_assessment(
    session: AsyncSession, assessment_id: uuid.UUID, course_id: uuid.UUID, published: bool
) -> None:
    statement = insert(CourseAssessmentRow).values(
        assessment_id=assessment_id, course_id=course_id, published=published
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["assessment_id"], set_={"published": statement.excluded.published}
        )
    )


async def record_result(
    session: AsyncSession,
    user_id: uuid.UUID,
    assessment_id: uuid.UUID,
    course_id: uuid.UUID,
    percent: float,
    passed: bool,
) -> EnrollmentRow | None:
    """Keep the learner's best result; the active enrollment it bears on, locked for the
    progress update (None when the learner has none in the course)."""
    statement = insert(AssessmentResultRow).values(
        user_id=user_id,
        assessment_id=assessment_id,
        course_id=course_id,
        percent=percent,
        passed=passed,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "assessment_id"],
            set_={
                # the best result counts: a later worse attempt does not undo a pass
                "percent": statement.excluded.percent,
                "passed": statement.excluded.passed | AssessmentResultRow.passed,
            },
            where=statement.excluded.percent >= AssessmentResultRow.percent,
        )
    )
    enrollment = await session.scalar(
        select(EnrollmentRow)
        .where(EnrollmentRow.user_id == user_id, EnrollmentRow.course_id == course_id)
        .with_for_update()
    )
    if enrollment is None or enrollment.status != EnrollmentStatus.ACTIVE.value:
        return None
    return enrollment
