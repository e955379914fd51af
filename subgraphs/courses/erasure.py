"""What the courses domain does when a user is deleted: their part in courses (owner,
co-instructor, lesson versions, attachments, review history) is anonymised. Course content
stays: learners depend on it, and it is the course's, not personal data about the user."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.users import DELETED_USER
from subgraphs.courses.lti.models import LtiLinkRow, LtiScoreRow, LtiSubjectRow, LtiToolRow
from subgraphs.courses.models import AttachmentRow, CourseRow, LessonVersionRow, ReviewRow


async def erase_user(session: AsyncSession, user_id: uuid.UUID) -> None:
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
    # LTI: the user's scores from tools and their opaque subject are personal data; gone
    await session.execute(delete(LtiScoreRow).where(LtiScoreRow.user_id == user_id))
    await session.execute(delete(LtiSubjectRow).where(LtiSubjectRow.user_id == user_id))
    for table in (LtiToolRow, LtiLinkRow):
        await session.execute(
            update(table).where(table.created_by == user_id).values(created_by=DELETED_USER)
        )
