"""Dropped enrollments (enrollment.dropped) and re-enrolling (enrollment.created): the
learner's course row is marked dropped, so at-risk scoring, the digest, the cohort
comparison and the inactive learners leave them out, until they enrol again.

Each runs in the consumer's transaction with the inbox row (exactly once); the row is only
touched when the statement is new, so a statement replayed past the inbox changes nothing."""

from __future__ import annotations

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.consumer import Handler
from common.events.envelope import Event
from subgraphs.analytics.ingestion import enrollment_created, enrollment_dropped
from subgraphs.analytics.models import AtRiskScoreRow, LearnerCourseRow, StatementRow
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.statements import NewStatement, record
from subgraphs.analytics.vocabulary import ActivityType, Verb


async def _enrolled_since(session: AsyncSession, dropped: NewStatement) -> bool:
    """Whether the learner enrolled in the course again after this drop (events handled out
    of order: the re-enrolment first); then the drop leaves the row active."""
    later = await session.scalar(
        select(
            exists().where(
                StatementRow.actor_id == dropped.actor_id,
                StatementRow.timestamp >= dropped.timestamp,  # a tie: enrolled (as cohorts)
                StatementRow.course_id == dropped.course_id,
                StatementRow.verb == Verb.REGISTERED.value,
                StatementRow.object_type == ActivityType.COURSE.value,
            )
        )
    )
    return bool(later)


def on_dropped(partitions: Partitions) -> Handler:
    """The `exited` statement, the row marked dropped, and its at-risk score gone at once
    (not at the next rescore): a dropped learner is no longer listed or put in a digest."""

    async def handle(session: AsyncSession, event: Event) -> None:
        statement = enrollment_dropped(event)
        if not await record(session, partitions, statement):
            return
        if await _enrolled_since(session, statement):
            return
        await session.execute(
            update(LearnerCourseRow)
            .where(
                LearnerCourseRow.user_id == statement.actor_id,
                LearnerCourseRow.course_id == statement.course_id,
                LearnerCourseRow.completed_at.is_(None),
            )
            .values(dropped_at=statement.timestamp)
        )
        await session.execute(
            delete(AtRiskScoreRow).where(
                AtRiskScoreRow.user_id == statement.actor_id,
                AtRiskScoreRow.course_id == statement.course_id,
            )
        )

    return handle


def on_enrolled(partitions: Partitions) -> Handler:
    """The `registered` statement; enrolling again after a drop makes the row active."""

    async def handle(session: AsyncSession, event: Event) -> None:
        statement = enrollment_created(event)
        if not await record(session, partitions, statement):
            return
        await session.execute(  # a later drop, handled first (out of order), stays
            update(LearnerCourseRow)
            .where(
                LearnerCourseRow.user_id == statement.actor_id,
                LearnerCourseRow.course_id == statement.course_id,
                LearnerCourseRow.dropped_at <= statement.timestamp,
            )
            .values(dropped_at=None)
        )

    return handle
