"""What the enrollments domain does when a user is deleted: their enrollments, completions,
certificates and results go (completions and certificates with their enrollment), and what
they did for others (enrolled someone, created a cohort or a path) is anonymised."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.users import DELETED_USER
from subgraphs.enrollments.models import (
    AssessmentResultRow,
    CohortRow,
    EnrollmentRow,
    LearningPathRow,
)


async def erase_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(EnrollmentRow).where(EnrollmentRow.user_id == user_id))
    await session.execute(delete(AssessmentResultRow).where(AssessmentResultRow.user_id == user_id))
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
