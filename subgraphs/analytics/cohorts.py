"""Which cohort each learner of a course is in, from enrollment.cohort_assigned: what the
cohort comparison groups the learners' aggregates by."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.envelope import Event
from subgraphs.analytics.models import LearnerCohortRow


async def cohort_assigned(session: AsyncSession, event: Event) -> None:
    """The learner is in that cohort now (a move to another replaces the first)."""
    statement = insert(LearnerCohortRow).values(
        user_id=uuid.UUID(event.data["user_id"]),
        course_id=uuid.UUID(event.data["course_id"]),
        cohort_id=uuid.UUID(event.data["cohort_id"]),
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "course_id"],
            set_={"cohort_id": statement.excluded.cohort_id},
        )
    )
