"""Events the assessments domain consumes: user.deleted erases the user's attempts and
answers, and anonymises the questions and assessments they wrote and the grades they gave."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.consumer import Handler
from common.events.envelope import Event
from subgraphs.assessments.loaders import AssessmentsServices
from subgraphs.assessments.models import AnswerRow, AssessmentRow, AttemptRow, QuestionRow

DELETED_USER = uuid.UUID(int=0)


def handlers(_: AssessmentsServices) -> Mapping[str, Handler]:
    async def user_deleted(session: AsyncSession, event: Event) -> None:
        user_id = uuid.UUID(event.data["user_id"])
        await session.execute(delete(AttemptRow).where(AttemptRow.user_id == user_id))
        await session.execute(
            update(AnswerRow).where(AnswerRow.graded_by == user_id).values(graded_by=None)
        )
        for table in (QuestionRow, AssessmentRow):
            await session.execute(
                update(table).where(table.created_by == user_id).values(created_by=DELETED_USER)
            )

    return {"user.deleted": user_deleted}
