"""The at-risk model's inputs (at_risk/inputs.py) filled from the analytics subgraph's own
tables, one course at a time: each learner's days from `learner_days`, their graded attempts
from the statements, the lessons anyone reached in the course as its size, and how each
enrollment stands — still active, or finished with an outcome.

The analytics store knows no course schedule or due dates: an enrollment is finished when its
course completion was recorded (at risk if its graded attempts averaged under 50 %: completed
but failed), when it was dropped (enrollment.dropped, drops.py; at risk, learned from until
the drop) or when the learner has not been seen for `DROPPED_AFTER_DAYS` (at risk: dropped
out silently); anything else is active.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.analytics.at_risk.inputs import AssessmentResult, DailyActivity, Enrollment
from subgraphs.analytics.at_risk.snapshots import Example, Outcome, examples
from subgraphs.analytics.models import (
    LearnerCourseRow,
    LearnerDayRow,
    LearnerLessonRow,
    StatementRow,
)
from subgraphs.analytics.vocabulary import Verb

DROPPED_AFTER_DAYS: Final = 60  # the features' recency cap: gone that long is gone
DROPPED_SNAPSHOT_DAYS: Final = 28  # a dropped learner is still learned from this long after
FIRST_SNAPSHOT_DAYS: Final = 7  # an enrollment is not judged in its first week
PASS_SCORE: Final = 0.5
GRADED: Final = (Verb.PASSED.value, Verb.FAILED.value)


@dataclass(frozen=True, slots=True)
class History:
    """One learner in one course, as the aggregates know it at `now`."""

    user_id: uuid.UUID
    course_id: uuid.UUID
    enrollment: Enrollment
    at_risk: bool | None  # None: still active
    ended_on: date | None  # the last day it is learned from (finished ones only)


def _share(total: float, count: int) -> float | None:
    return min(max(total / count, 0.0), 1.0) if count else None


def _outcome(row: LearnerCourseRow, now: datetime) -> tuple[bool | None, date | None]:
    if row.completed_at is not None:
        mean = _share(row.score_sum, row.scores)
        return (mean is not None and mean < PASS_SCORE), row.completed_at.astimezone(UTC).date()
    if row.dropped_at is not None:
        return True, row.dropped_at.astimezone(UTC).date()
    if row.last_seen < now - timedelta(days=DROPPED_AFTER_DAYS):
        last = row.last_seen.astimezone(UTC).date()
        return True, last + timedelta(days=DROPPED_SNAPSHOT_DAYS)
    return None, None


async def course_ids(session: AsyncSession) -> list[uuid.UUID]:
    found = await session.scalars(select(LearnerCourseRow.course_id).distinct())
    return sorted(found.all())


async def course_history(
    session: AsyncSession, course_id: uuid.UUID, now: datetime
) -> list[History]:
    """Every learner the course has seen, with their inputs up to `now`."""
    learners = (
        await session.scalars(
            select(LearnerCourseRow)
            .where(LearnerCourseRow.course_id == course_id)
            .order_by(LearnerCourseRow.user_id)
        )
    ).all()
    if not learners:
        return []
    lessons = await session.scalar(
        select(func.count(distinct(LearnerLessonRow.lesson_id))).where(
            LearnerLessonRow.course_id == course_id
        )
    )
    days: dict[uuid.UUID, list[DailyActivity]] = defaultdict(list)
    for day_row in await session.scalars(
        select(LearnerDayRow)
        .where(LearnerDayRow.course_id == course_id)
        .order_by(LearnerDayRow.user_id, LearnerDayRow.day)
    ):
        days[day_row.user_id].append(
            DailyActivity(
                day=day_row.day,
                views=day_row.views,
                completions=day_row.completions,
                seconds_on_task=day_row.seconds,
                attempts=day_row.attempts,
                mean_score=_share(day_row.score_sum, day_row.scores),
            )
        )
    graded: dict[uuid.UUID, list[AssessmentResult]] = defaultdict(list)
    for actor, moment, score in await session.execute(
        select(StatementRow.actor_id, StatementRow.timestamp, StatementRow.score_scaled)
        .where(
            StatementRow.course_id == course_id,
            StatementRow.verb.in_(GRADED),
            StatementRow.score_scaled.is_not(None),
        )
        .order_by(StatementRow.timestamp)
    ):
        day = moment.astimezone(UTC).date()
        graded[actor].append(AssessmentResult(day, day, min(max(float(score or 0.0), 0.0), 1.0)))
    made = []
    for row in learners:
        at_risk, ended_on = _outcome(row, now)
        enrollment = Enrollment(
            enrolled_on=row.first_seen.astimezone(UTC).date(),
            lessons=int(lessons or 0),
            activity=tuple(days[row.user_id]),
            assessments=tuple(graded[row.user_id]),
        )
        made.append(History(row.user_id, course_id, enrollment, at_risk, ended_on))
    return made


def training_examples(history: Sequence[History], today: date) -> list[Example]:
    """The finished enrollments of one course at the end of every week (counted from the
    course's first enrollment) while each was under way, compared with each other."""
    finished = [h for h in history if h.at_risk is not None and h.ended_on is not None]
    if not finished:
        return []
    day = min(h.enrollment.enrolled_on for h in finished) + timedelta(days=13)
    last = min(max(h.ended_on for h in finished if h.ended_on), today)
    made: list[Example] = []
    while day < last:
        cohort = [
            Outcome(f"{h.user_id}:{h.course_id}", h.enrollment, bool(h.at_risk))
            for h in finished
            if h.enrollment.enrolled_on + timedelta(days=FIRST_SNAPSHOT_DAYS) <= day
            and h.ended_on is not None
            and day < h.ended_on
        ]
        made.extend(examples(cohort, [day]))
        day += timedelta(weeks=1)
    return made
