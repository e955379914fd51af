"""Reads for a learner's progress and grades over time, a course's questions (item
analysis) per week or month, and its cohorts compared: from the aggregates only
(attempts.py, cohorts.py and statements.py keep them). The `_from_statements` twins compute
the same from the raw statements: the benchmark's baseline and the tests' cross-check."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.analytics.item_stats import ItemSums
from subgraphs.analytics.models import (
    ItemDayRow,
    LearnerAttemptRow,
    LearnerCohortRow,
    LearnerCourseRow,
    LearnerDayRow,
)

MAX_ATTEMPTS: Final = 1000  # a learner's graded attempts in one course, at most listed
ACTIVE_DAYS: Final = 7  # "active" in the cohort comparison: seen in the last week


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"


def period_start(day: date, period: Period) -> date:
    if period is Period.MONTH:
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class ProgressDay:
    day: date
    lessons_completed: int  # cumulative, up to and including the day
    progress: float | None  # the enrollment's, as last reported up to the day


@dataclass(frozen=True, slots=True)
class AttemptGrade:
    attempt_id: uuid.UUID
    assessment_id: uuid.UUID
    graded_at: datetime
    score: float
    passed: bool


@dataclass(frozen=True, slots=True)
class ItemTotals:
    assessment_id: uuid.UUID
    question_id: uuid.UUID
    periods: tuple[tuple[date, ItemSums], ...]

    @property
    def overall(self) -> ItemSums:
        total = ItemSums()
        for _, sums in self.periods:
            total = total + sums
        return total


@dataclass(frozen=True, slots=True)
class CohortTotals:
    cohort_id: uuid.UUID | None  # None: the learners in no cohort
    learners: int
    active: int
    mean_progress: float
    mean_score: float | None
    completions: int
    dropped: int  # learners who dropped the course: in none of the figures above


def _items(rows: Sequence[Any]) -> list[ItemTotals]:
    """Rows of (assessment, question, period start, six sums) ordered by the first three."""
    grouped: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[date, ItemSums]]] = {}
    for row in rows:
        sums = ItemSums(int(row[3]), int(row[4]), *(float(value) for value in row[5:9]))
        grouped.setdefault((row[0], row[1]), []).append((row[2], sums))
    return [ItemTotals(a, q, tuple(periods)) for (a, q), periods in grouped.items()]


def _cohorts(rows: Sequence[Any]) -> list[CohortTotals]:
    """Rows of (cohort, learners, active, mean progress, scores, score sum, completions,
    dropped), the learners in no cohort last."""
    found = [
        CohortTotals(
            cohort_id=row[0],
            learners=int(row[1]),
            active=int(row[2]),
            mean_progress=round(float(row[3] or 0.0), 4),
            mean_score=round(float(row[5]) / int(row[4]), 4) if row[4] else None,
            completions=int(row[6]),
            dropped=int(row[7]),
        )
        for row in rows
    ]
    return sorted(found, key=lambda c: (c.cohort_id is None, str(c.cohort_id)))


ITEMS_FROM_STATEMENTS: Final = text("""
SELECT s.object_id, (item->>'question_id')::uuid,
       date_trunc(:period, (s.timestamp AT TIME ZONE 'UTC')::date)::date AS start,
       count(*), count(*) FILTER (WHERE (item->>'correct')::boolean),
       sum(CASE WHEN (item->>'max_points')::float > 0
                THEN greatest(0, least(1, (item->>'points')::float / (item->>'max_points')::float))
                ELSE ((item->>'correct')::boolean)::int END),
       sum(s.score_scaled), sum(s.score_scaled * s.score_scaled),
       coalesce(sum(s.score_scaled) FILTER (WHERE (item->>'correct')::boolean), 0)
FROM analytics.statements AS s, jsonb_array_elements(s.extensions->'items') AS item
WHERE s.course_id = :course AND s.verb IN ('passed', 'failed') AND s.timestamp >= :since
  AND (CAST(:assessment AS uuid) IS NULL OR s.object_id = :assessment)
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
""")

COHORTS_FROM_STATEMENTS: Final = text("""
WITH learners AS (
  SELECT actor_id,
         max(timestamp) AS last_seen,
         greatest(coalesce(max(progress) FILTER (WHERE verb = 'completed'
                                                 AND object_type = 'lesson'), 0),
                  CASE WHEN bool_or(verb = 'completed' AND object_type = 'course')
                       THEN 1 ELSE 0 END) AS progress,
         count(*) FILTER (WHERE verb IN ('passed', 'failed') AND score_scaled IS NOT NULL)
           AS scores,
         coalesce(sum(score_scaled) FILTER (WHERE verb IN ('passed', 'failed')), 0) AS score_sum,
         bool_or(verb = 'completed' AND object_type = 'course') AS completed,
         coalesce((array_agg(verb ORDER BY timestamp DESC, verb DESC)
                   FILTER (WHERE object_type = 'course'
                           AND verb IN ('registered', 'exited')))[1] = 'exited', false)
           AS dropped
  FROM analytics.statements WHERE course_id = :course GROUP BY actor_id
)
SELECT h.cohort_id, count(*) FILTER (WHERE NOT l.dropped),
       count(*) FILTER (WHERE NOT l.dropped AND l.last_seen >= :active_since),
       avg(l.progress) FILTER (WHERE NOT l.dropped), sum(l.scores) FILTER (WHERE NOT l.dropped),
       sum(l.score_sum) FILTER (WHERE NOT l.dropped),
       count(*) FILTER (WHERE NOT l.dropped AND l.completed), count(*) FILTER (WHERE l.dropped)
FROM learners AS l
LEFT JOIN analytics.learner_cohorts AS h ON h.user_id = l.actor_id AND h.course_id = :course
GROUP BY h.cohort_id
""")


class CourseStats:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- a learner -------------------------------------------------------------------

    async def progress_days(self, user_id: uuid.UUID, course_id: uuid.UUID) -> list[ProgressDay]:
        """Each day the learner completed lessons or had their progress reported, with the
        cumulative count of lessons completed and the progress known then."""
        row = LearnerDayRow
        query = (
            select(row.day, row.completions, row.progress)
            .where(
                row.user_id == user_id,
                row.course_id == course_id,
                (row.completions > 0) | row.progress.is_not(None),
            )
            .order_by(row.day)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        days, completed, progress = [], 0, None
        for day, completions, reported in rows:
            completed += int(completions)
            if reported is not None:
                progress = max(progress or 0.0, float(reported))
            days.append(ProgressDay(day, completed, progress))
        return days

    async def grades(
        self, user_id: uuid.UUID, course_id: uuid.UUID, since: datetime
    ) -> list[AttemptGrade]:
        """The learner's graded attempts in the course since then, in the order graded."""
        row = LearnerAttemptRow
        query = (
            select(row.attempt_id, row.assessment_id, row.graded_at, row.score_scaled, row.passed)
            .where(row.user_id == user_id, row.course_id == course_id, row.graded_at >= since)
            .order_by(row.graded_at, row.attempt_id)
            .limit(MAX_ATTEMPTS)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [AttemptGrade(*found) for found in rows]

    # --- a course --------------------------------------------------------------------

    async def items(
        self,
        course_id: uuid.UUID,
        assessment_id: uuid.UUID | None,
        since: date,
        period: Period,
    ) -> list[ItemTotals]:
        """Each question answered in the course (or one assessment of it) since the start
        of `since`'s period, with its sums per period."""
        since = period_start(since, period)
        d = ItemDayRow
        start = d.month if period is Period.MONTH else d.week
        query = select(
            d.assessment_id,
            d.question_id,
            start,
            func.sum(d.answers),
            func.sum(d.correct),
            func.sum(d.score_sum),
            func.sum(d.total_sum),
            func.sum(d.total_squares),
            func.sum(d.correct_total_sum),
        ).where(d.course_id == course_id, d.day >= since)
        if assessment_id is not None:
            query = query.where(d.assessment_id == assessment_id)
        query = query.group_by(d.assessment_id, d.question_id, start).order_by(
            d.assessment_id, d.question_id, start
        )
        async with self._sessions() as session:
            return _items((await session.execute(query)).all())

    async def items_from_statements(
        self,
        course_id: uuid.UUID,
        assessment_id: uuid.UUID | None,
        since: date,
        period: Period,
    ) -> list[ItemTotals]:
        moment = datetime.combine(period_start(since, period), time(), UTC)
        params = {
            "course": course_id,
            "assessment": assessment_id,
            "since": moment,
            "period": period.value,
        }
        async with self._sessions() as session:
            return _items((await session.execute(ITEMS_FROM_STATEMENTS, params)).all())

    async def cohorts(self, course_id: uuid.UUID, now: datetime) -> list[CohortTotals]:
        """The course's learners (those with any activity, enrolling included) per cohort:
        how many, active in the last week, mean progress, mean score of the graded
        attempts, completions; those who dropped the course counted apart only."""
        c, h = LearnerCourseRow, LearnerCohortRow
        kept = c.dropped_at.is_(None)
        query = (
            select(
                h.cohort_id,
                func.count().filter(kept),
                func.count().filter(kept, c.last_seen >= now - timedelta(days=ACTIVE_DAYS)),
                func.avg(c.progress).filter(kept),
                func.sum(c.scores).filter(kept),
                func.sum(c.score_sum).filter(kept),
                func.count(c.completed_at).filter(kept),
                func.count(c.dropped_at),
            )
            .select_from(c)
            .outerjoin(h, and_(h.user_id == c.user_id, h.course_id == c.course_id))
            .where(c.course_id == course_id)
            .group_by(h.cohort_id)
        )
        async with self._sessions() as session:
            return _cohorts((await session.execute(query)).all())

    async def cohorts_from_statements(
        self, course_id: uuid.UUID, now: datetime
    ) -> list[CohortTotals]:
        params = {"course": course_id, "active_since": now - timedelta(days=ACTIVE_DAYS)}
        async with self._sessions() as session:
            return _cohorts((await session.execute(COHORTS_FROM_STATEMENTS, params)).all())
