"""What the analytics domain does when a user is deleted: every statement they made, in every
month, and every aggregate and at-risk score that names them go (their graded attempts and
cohort too). Course, lesson and question totals by day and week stay: they name no one."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.analytics.models import (
    AtRiskScoreRow,
    LearnerAttemptRow,
    LearnerCohortRow,
    LearnerCourseRow,
    LearnerDayRow,
    LearnerLessonRow,
    LearnerWeekRow,
    StatementIdRow,
    StatementRow,
)


async def erase_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(StatementRow).where(StatementRow.actor_id == user_id))
    await session.execute(delete(StatementIdRow).where(StatementIdRow.actor_id == user_id))
    for table in (
        LearnerDayRow,
        LearnerWeekRow,
        LearnerCourseRow,
        LearnerLessonRow,
        AtRiskScoreRow,
        LearnerAttemptRow,
        LearnerCohortRow,
    ):
        await session.execute(delete(table).where(table.user_id == user_id))
