"""Recording a statement: once per id, with the daily aggregates it counts toward updated in
the same transaction (so the aggregates never disagree with the statements)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.analytics.attempts import GradedAttempt, ItemResult, count_graded_attempt
from subgraphs.analytics.models import (
    CourseDayRow,
    CourseWeekRow,
    LearnerCourseRow,
    LearnerDayRow,
    LearnerLessonRow,
    LearnerWeekRow,
    LessonDayRow,
    StatementIdRow,
    StatementRow,
)
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.recommendations import pairs
from subgraphs.analytics.upserts import add_counts
from subgraphs.analytics.vocabulary import SCORED, VIEWS, ActivityType, Verb


@dataclass(frozen=True, slots=True)
class NewStatement:
    id: uuid.UUID
    actor_id: uuid.UUID
    verb: Verb
    object_type: ActivityType
    object_id: uuid.UUID
    timestamp: datetime
    course_id: uuid.UUID | None = None
    registration: uuid.UUID | None = None
    score_scaled: float | None = None
    score_raw: float | None = None
    score_max: float | None = None
    success: bool | None = None
    completion: bool | None = None
    duration_seconds: int | None = None
    progress: float | None = None
    extensions: dict[str, object] = field(default_factory=dict)
    items: tuple[ItemResult, ...] = ()  # a graded attempt's questions

    @property
    def course_progress(self) -> float | None:
        """The enrollment's progress the statement reports: a lesson completed carries it
        (lesson.completed), a course completed is 1."""
        if self.verb is Verb.COMPLETED and self.object_type is ActivityType.COURSE:
            return 1.0
        if self.verb is Verb.COMPLETED and self.object_type is ActivityType.LESSON:
            return self.progress
        return None


async def _aggregate(session: AsyncSession, s: NewStatement) -> None:
    if s.course_id is None:
        return
    scored = s.verb in SCORED and s.score_scaled is not None
    lesson_counts: dict[str, object] = {
        "views": int(s.verb in VIEWS),
        "completions": int(s.verb is Verb.COMPLETED and s.object_type is ActivityType.LESSON),
        "seconds": s.duration_seconds or 0,
    }
    counts: dict[str, object] = {
        "statements": 1,
        **lesson_counts,
        "attempts": int(s.verb is Verb.ATTEMPTED),
        "scores": int(scored),
        "score_sum": s.score_scaled if scored else 0.0,
    }
    day = s.timestamp.astimezone(UTC).date()
    await add_counts(session, CourseDayRow, {"course_id": s.course_id, "day": day}, counts)
    learner_day = {"user_id": s.actor_id, "course_id": s.course_id, "day": day}
    await add_counts(session, LearnerDayRow, learner_day, counts)
    if s.course_progress is not None:
        await session.execute(
            update(LearnerDayRow)
            .filter_by(**learner_day)
            .values(progress=func.greatest(LearnerDayRow.progress, s.course_progress))
        )
    await _learner_week(session, s.actor_id, s.course_id, day - timedelta(days=day.weekday()))
    await _learner_course(session, s, scored)
    if scored and s.object_type is ActivityType.ASSESSMENT and "attempt_id" in s.extensions:
        await count_graded_attempt(
            session,
            GradedAttempt(
                attempt_id=uuid.UUID(str(s.extensions["attempt_id"])),
                user_id=s.actor_id,
                course_id=s.course_id,
                assessment_id=s.object_id,
                graded_at=s.timestamp,
                score=s.score_scaled or 0.0,
                passed=bool(s.success),
                items=s.items,
            ),
        )
    if s.object_type is ActivityType.LESSON:
        await add_counts(
            session,
            LessonDayRow,
            {"lesson_id": s.object_id, "day": day},
            lesson_counts,
            {"course_id": s.course_id},
        )
        await _learner_lesson(session, s)


async def _learner_week(
    session: AsyncSession, user_id: uuid.UUID, course_id: uuid.UUID, week: date
) -> None:
    """The learner counted once among the course's active learners of the week."""
    first = await session.execute(
        insert(LearnerWeekRow)
        .values(user_id=user_id, course_id=course_id, week=week)
        .on_conflict_do_nothing()
        .returning(LearnerWeekRow.week)
    )
    if first.scalar_one_or_none() is not None:
        await add_counts(
            session, CourseWeekRow, {"course_id": course_id, "week": week}, {"learners": 1}
        )


async def _learner_course(session: AsyncSession, s: NewStatement, scored: bool) -> None:
    """The learner's row for the course, and with it the co-enrollment counts when the row
    is new or the course newly completed (recommendations/pairs.py)."""
    course_done = s.verb is Verb.COMPLETED and s.object_type is ActivityType.COURSE
    await pairs.lock_learner(session, s.actor_id)
    statement = insert(LearnerCourseRow).values(
        user_id=s.actor_id,
        course_id=s.course_id,
        first_seen=s.timestamp,
        last_seen=s.timestamp,
        completed_at=None,
        scores=int(scored),
        score_sum=s.score_scaled if scored else 0.0,
        progress=s.course_progress or 0.0,
    )
    row = LearnerCourseRow
    inserted = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=["user_id", "course_id"],
            set_={
                "first_seen": func.least(row.first_seen, statement.excluded.first_seen),
                "last_seen": func.greatest(row.last_seen, statement.excluded.last_seen),
                "scores": row.scores + statement.excluded.scores,
                "score_sum": row.score_sum + statement.excluded.score_sum,
                "progress": func.greatest(row.progress, statement.excluded.progress),
            },
        ).returning(literal_column("xmax = 0"))
    )
    completed = course_done and (
        await session.scalar(
            update(LearnerCourseRow)
            .where(
                LearnerCourseRow.user_id == s.actor_id,
                LearnerCourseRow.course_id == s.course_id,
                LearnerCourseRow.completed_at.is_(None),
            )
            .values(completed_at=s.timestamp)
            .returning(LearnerCourseRow.course_id)
        )
        is not None
    )
    assert s.course_id is not None
    if inserted:
        await pairs.learner_joined(session, s.actor_id, s.course_id, completed)
    elif completed:
        await pairs.learner_completed(session, s.actor_id, s.course_id)


async def _learner_lesson(session: AsyncSession, s: NewStatement) -> None:
    done = s.verb is Verb.COMPLETED
    statement = insert(LearnerLessonRow).values(
        user_id=s.actor_id,
        lesson_id=s.object_id,
        course_id=s.course_id,
        reached_at=s.timestamp,
        completed_at=s.timestamp if done else None,
    )
    row = LearnerLessonRow
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "lesson_id"],
            set_={
                "reached_at": func.least(row.reached_at, statement.excluded.reached_at),
                "completed_at": func.least(row.completed_at, statement.excluded.completed_at),
            },
        )
    )


async def record(session: AsyncSession, partitions: Partitions, s: NewStatement) -> bool:
    """Store the statement and count it, in the caller's transaction; False (nothing done)
    when a statement with its id is stored already."""
    await partitions.ensure(session, s.timestamp)
    registered = await session.execute(
        insert(StatementIdRow)
        .values(id=s.id, actor_id=s.actor_id, timestamp=s.timestamp)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StatementIdRow.id)
    )
    if registered.scalar_one_or_none() is None:
        return False
    await session.execute(
        insert(StatementRow).values(
            id=s.id,
            actor_id=s.actor_id,
            verb=s.verb.value,
            object_type=s.object_type.value,
            object_id=s.object_id,
            course_id=s.course_id,
            registration=s.registration,
            score_scaled=s.score_scaled,
            score_raw=s.score_raw,
            score_max=s.score_max,
            success=s.success,
            completion=s.completion,
            duration_seconds=s.duration_seconds,
            progress=s.progress,
            extensions=s.extensions,
            timestamp=s.timestamp,
        )
    )
    await _aggregate(session, s)
    return True


async def stored(session: AsyncSession, statement_id: uuid.UUID) -> StatementRow | None:
    """The statement with this id (its register says which month to look in)."""
    moment = await session.scalar(
        select(StatementIdRow.timestamp).where(StatementIdRow.id == statement_id)
    )
    if moment is None:
        return None
    row: StatementRow | None = await session.scalar(
        select(StatementRow).where(
            StatementRow.id == statement_id, StatementRow.timestamp == moment
        )
    )
    return row
