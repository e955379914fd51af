"""What the assessments domain does when a user is deleted: their attempts and answers go,
the questions and assessments they wrote and the grades they gave are anonymised."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.users import DELETED_USER
from subgraphs.assessments.models import AnswerRow, AssessmentRow, AttemptRow, QuestionRow


async def erase_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(AttemptRow).where(AttemptRow.user_id == user_id))
    await session.execute(
        update(AnswerRow).where(AnswerRow.graded_by == user_id).values(graded_by=None)
    )
    for table in (QuestionRow, AssessmentRow):
        await session.execute(
            update(table).where(table.created_by == user_id).values(created_by=DELETED_USER)
        )
