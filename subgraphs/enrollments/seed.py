"""Demo enrollments for the dev run (idempotent): the students part-way through courses.

Progress is computed as the service does: completed required lessons over all of them."""

from __future__ import annotations

from sqlalchemy import select

from common.db import create_engine, service_dsn, session_factory
from common.demo import (
    DEMO_ENROLLMENTS,
    demo_course_id,
    demo_id,
    demo_lesson_ids,
    demo_user_id,
)
from common.settings import Settings
from subgraphs.enrollments.models import EnrollmentRow, LessonCompletionRow

PLAN = DEMO_ENROLLMENTS  # learner, course slug, lessons completed


async def seed(settings: Settings) -> list[str]:
    engine = create_engine(service_dsn(settings, "enrollments"), pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            if await session.scalar(select(EnrollmentRow.id).limit(1)) is not None:
                return ["enrollments: demo enrollments already present"]
            for email, slug, done in PLAN:
                lessons = demo_lesson_ids(slug)
                learner = demo_user_id(email)
                enrollment = EnrollmentRow(
                    id=demo_id("enrollment", email, slug),
                    user_id=learner,
                    course_id=demo_course_id(slug),
                    status="ACTIVE",
                    progress=round(100.0 * done / len(lessons), 2),
                    enrolled_by=learner,
                )
                session.add(enrollment)
                await session.flush()
                for lesson in lessons[:done]:
                    session.add(LessonCompletionRow(enrollment_id=enrollment.id, lesson_id=lesson))
    finally:
        await engine.dispose()
    return [f"enrollments: {len(PLAN)} demo enrollments"]
