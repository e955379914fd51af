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

from sqlalchemy.ext.asyncio import AsyncSession

from common.data_exports import export_handler
from common.events.consumer import Handler
from common.events.envelope import Event
from common.graphql.peers import PeerUnavailable
from subgraphs.enrollments.erasure import erase_user
from subgraphs.enrollments.export import user_sections
from subgraphs.enrollments.models import EVENTS
from subgraphs.enrollments.results import record_assessment, record_result
from subgraphs.enrollments.services import EnrollmentsServices


def handlers(services: EnrollmentsServices) -> Mapping[str, Handler]:
    async def assessment_published(session: AsyncSession, event: Event) -> None:
        await record_assessment(
            session,
            uuid.UUID(event.data["assessment_id"]),
            uuid.UUID(event.data["course_id"]),
            event.data["published"],
        )

    async def submission_graded(session: AsyncSession, event: Event) -> None:
        user_id = uuid.UUID(event.data["user_id"])
        course_id = uuid.UUID(event.data["course_id"])
        enrollment = await record_result(
            session,
            user_id,
            uuid.UUID(event.data["assessment_id"]),
            course_id,
            event.data["percent"],
            event.data["passed"],
        )
        if enrollment is None:
            return
        course = await services.directory.course(course_id)
        if course is None:
            raise PeerUnavailable(f"course {course_id} is not visible yet")  # retried
        name = await services.directory.user_name(user_id)
        await services.enrollments.recompute(session, enrollment, course, name)

    async def user_deleted(session: AsyncSession, event: Event) -> None:
        await erase_user(session, uuid.UUID(event.data["user_id"]))

    return {
        "assessment.published": assessment_published,
        "submission.graded": submission_graded,
        "user.deleted": user_deleted,
        "user.export_requested": export_handler("enrollments", EVENTS.outbox, user_sections),
    }
