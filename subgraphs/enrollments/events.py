"""Events the enrollments domain consumes (see common/events/catalog.py).

- assessment.published: remember the course's published assessments (they count in
  progress);
- submission.graded: keep the learner's best result, then recompute the enrollment's
  progress (which may complete it and issue the certificate);
- user.deleted: erase the user's enrollments, completions, certificates and results, and
  anonymise what they did for others (enrolled someone, created a cohort or a path).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.consumer import Handler
from common.events.envelope import Event
from common.graphql.peers import PeerUnavailable
from subgraphs.enrollments.loaders import EnrollmentsServices
from subgraphs.enrollments.models import (
    AssessmentResultRow,
    CohortRow,
    CourseAssessmentRow,
    EnrollmentRow,
    LearningPathRow,
)
from subgraphs.enrollments.service import EnrollmentStatus

DELETED_USER = uuid.UUID(int=0)  # stands in for an erased user where a reference must stay


def handlers(services: EnrollmentsServices) -> Mapping[str, Handler]:
    async def assessment_published(session: AsyncSession, event: Event) -> None:
        statement = insert(CourseAssessmentRow).values(
            assessment_id=uuid.UUID(event.data["assessment_id"]),
            course_id=uuid.UUID(event.data["course_id"]),
            published=event.data["published"],
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["assessment_id"], set_={"published": statement.excluded.published}
            )
        )

    async def submission_graded(session: AsyncSession, event: Event) -> None:
        user_id = uuid.UUID(event.data["user_id"])
        course_id = uuid.UUID(event.data["course_id"])
        statement = insert(AssessmentResultRow).values(
            user_id=user_id,
            assessment_id=uuid.UUID(event.data["assessment_id"]),
            course_id=course_id,
            percent=event.data["percent"],
            passed=event.data["passed"],
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
            return
        course = await services.directory.course(course_id)
        if course is None:
            raise PeerUnavailable(f"course {course_id} is not visible yet")  # retried
        name = await services.directory.user_name(user_id)
        await services.enrollments.recompute(session, enrollment, course, name)

    async def user_deleted(session: AsyncSession, event: Event) -> None:
        user_id = uuid.UUID(event.data["user_id"])
        await session.execute(delete(EnrollmentRow).where(EnrollmentRow.user_id == user_id))
        await session.execute(
            delete(AssessmentResultRow).where(AssessmentResultRow.user_id == user_id)
        )
        await session.execute(
            update(EnrollmentRow)
            .where(EnrollmentRow.enrolled_by == user_id)
            .values(enrolled_by=DELETED_USER)
        )
        await session.execute(
            update(CohortRow).where(CohortRow.created_by == user_id).values(created_by=DELETED_USER)
        )
        await session.execute(
            update(LearningPathRow)
            .where(LearningPathRow.owner_id == user_id)
            .values(owner_id=DELETED_USER)
        )

    return {
        "assessment.published": assessment_published,
        "submission.graded": submission_graded,
        "user.deleted": user_deleted,
    }
