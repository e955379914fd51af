"""Events the courses domain consumes: user.deleted anonymises the user's part in courses
(owner, co-instructor, lesson versions, attachments, review history). Course content stays:
learners depend on it, and it is the course's, not personal data about the user."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.consumer import Handler
from common.events.envelope import Event
from subgraphs.courses.models import AttachmentRow, CourseRow, LessonVersionRow, ReviewRow
from subgraphs.courses.schema import CoursesServices

DELETED_USER = uuid.UUID(int=0)


def handlers(_: CoursesServices) -> Mapping[str, Handler]:
    async def user_deleted(session: AsyncSession, event: Event) -> None:
        user_id = uuid.UUID(event.data["user_id"])
        await session.execute(
            update(CourseRow)
            .where(CourseRow.co_instructor_ids.contains([user_id]))
            .values(co_instructor_ids=func.array_remove(CourseRow.co_instructor_ids, user_id))
        )
        await session.execute(
            update(CourseRow)
            .where(CourseRow.instructor_id == user_id)
            .values(instructor_id=DELETED_USER)
        )
        await session.execute(
            update(LessonVersionRow)
            .where(LessonVersionRow.author_id == user_id)
            .values(author_id=DELETED_USER)
        )
        await session.execute(
            update(AttachmentRow)
            .where(AttachmentRow.uploaded_by == user_id)
            .values(uploaded_by=DELETED_USER)
        )
        await session.execute(
            update(ReviewRow).where(ReviewRow.actor_id == user_id).values(actor_id=DELETED_USER)
        )

    return {"user.deleted": user_deleted}
