"""The analytics subgraph's service: recording what a client reports, and reading the daily
aggregates for a learner or a course. Callers' rights are checked by the resolvers
(`guards.py`); this layer validates input and reads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth.quota import Quota
from common.errors import BadUserInput, Conflict
from subgraphs.analytics.durations import parse_duration
from subgraphs.analytics.models import (
    CourseDayRow,
    CourseWeekRow,
    LearnerCourseRow,
    LearnerDayRow,
    LearnerLessonRow,
    LessonDayRow,
    StatementRow,
)
from subgraphs.analytics.partitions import Partitions
from subgraphs.analytics.statements import NewStatement, record, stored
from subgraphs.analytics.vocabulary import CLIENT_VERBS, ActivityType, Verb

MAX_DURATION_SECONDS: Final = 4 * 3600  # one reported stretch of activity
MAX_AGE: Final = timedelta(days=7)  # how late a client may report activity
FUTURE_LEEWAY: Final = timedelta(minutes=1)  # clocks disagree a little
GRADE_BUCKETS: Final = 10


@dataclass(frozen=True, slots=True)
class Activity:
    """What a client reports (recordActivity), its object already checked against the course."""

    statement_id: uuid.UUID | None
    user_id: uuid.UUID
    verb: Verb
    course_id: uuid.UUID
    lesson_id: uuid.UUID | None
    registration: uuid.UUID | None
    duration: str | None
    progress: float | None
    timestamp: datetime | None


@dataclass(frozen=True, slots=True)
class DayTotals:
    day: date
    statements: int
    views: int
    completions: int
    attempts: int
    seconds: int
    scores: int
    score_sum: float
    learners: int = 0


@dataclass(frozen=True, slots=True)
class LessonTotals:
    lesson_id: uuid.UUID
    views: int
    completions: int
    seconds: int
    reached: int
    completed: int


@dataclass(frozen=True, slots=True)
class Streaks:
    current: int
    longest: int


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def streaks(days: list[date], today: date) -> Streaks:
    """Runs of consecutive active days: the longest, and the one that reaches today (or
    yesterday: today is not over)."""
    longest = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = run if previous is not None and today - previous <= timedelta(days=1) else 0
    return Streaks(current, longest)


def _totals(row: Sequence[Any], learners: int = 0) -> DayTotals:
    """A row of (day, the seven sums of `_sums`[, learners]) as DayTotals; a sum over no
    rows (NULL) as zero."""
    statements, views, completions, attempts, seconds, scores = (int(v or 0) for v in row[1:7])
    return DayTotals(
        day=row[0],
        statements=statements,
        views=views,
        completions=completions,
        attempts=attempts,
        seconds=seconds,
        scores=scores,
        score_sum=float(row[7] or 0.0),
        learners=int(row[8]) if len(row) > 8 else learners,
    )


def _sums(model: type[CourseDayRow] | type[LearnerDayRow]) -> list[Any]:
    return [
        func.sum(model.statements),
        func.sum(model.views),
        func.sum(model.completions),
        func.sum(model.attempts),
        func.sum(model.seconds),
        func.sum(model.scores),
        func.sum(model.score_sum),
    ]


class AnalyticsService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        partitions: Partitions,
        quota: Quota,
    ) -> None:
        self._sessions = sessions
        self.partitions = partitions
        self._quota = quota

    # --- recording -------------------------------------------------------------------------

    def _checked(self, activity: Activity) -> NewStatement:
        if activity.verb not in CLIENT_VERBS:
            allowed = ", ".join(sorted(verb.name for verb in CLIENT_VERBS))
            raise BadUserInput(f"A client may record only {allowed}.", field="verb")
        seconds = None
        if activity.duration is not None:
            seconds = parse_duration(activity.duration)
            if seconds is None:
                raise BadUserInput(
                    "The duration must be an ISO 8601 duration such as PT5M30S.",
                    field="duration",
                )
            if not 0 <= seconds <= MAX_DURATION_SECONDS:
                raise BadUserInput(
                    f"The duration must be at most {MAX_DURATION_SECONDS // 3600} hours.",
                    field="duration",
                )
        if activity.progress is not None and not 0.0 <= activity.progress <= 1.0:
            raise BadUserInput("The progress must be from 0 to 1.", field="progress")
        now = clock.now()
        moment = activity.timestamp or now
        if moment.tzinfo is None:
            raise BadUserInput("The timestamp must carry its time zone.", field="timestamp")
        if moment > now + FUTURE_LEEWAY:
            raise BadUserInput("The timestamp is in the future.", field="timestamp")
        if moment < now - MAX_AGE:
            raise BadUserInput(
                f"Activity older than {MAX_AGE.days} days cannot be recorded.", field="timestamp"
            )
        lesson = activity.lesson_id
        return NewStatement(
            id=activity.statement_id or uuid.uuid4(),
            actor_id=activity.user_id,
            verb=activity.verb,
            object_type=ActivityType.COURSE if lesson is None else ActivityType.LESSON,
            object_id=activity.course_id if lesson is None else lesson,
            timestamp=moment,
            course_id=activity.course_id,
            registration=activity.registration,
            duration_seconds=seconds,
            progress=activity.progress,
        )

    async def record_activity(self, activity: Activity) -> tuple[StatementRow, bool]:
        """The stored statement, and whether it was new (a statement id sent again is a
        no-op that answers the first one; another user's id is a CONFLICT)."""
        statement = self._checked(activity)
        await self._quota.take(str(activity.user_id), "Too much activity recorded")
        async with self._sessions() as session, session.begin():
            new = await record(session, self.partitions, statement)
            row = await stored(session, statement.id)
        if row is None or row.actor_id != activity.user_id:
            raise Conflict("A statement with this id exists already.", field="id")
        return row, new

    # --- a learner ---------------------------------------------------------------------

    async def learner_days(
        self, user_id: uuid.UUID, course_id: uuid.UUID | None, since: date
    ) -> list[DayTotals]:
        query = select(LearnerDayRow.day, *_sums(LearnerDayRow)).where(
            LearnerDayRow.user_id == user_id, LearnerDayRow.day >= since
        )
        if course_id is not None:
            query = query.where(LearnerDayRow.course_id == course_id)
        query = query.group_by(LearnerDayRow.day).order_by(LearnerDayRow.day)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_totals(row) for row in rows]

    async def active_days(self, user_id: uuid.UUID, course_id: uuid.UUID | None) -> list[date]:
        query = select(LearnerDayRow.day).where(LearnerDayRow.user_id == user_id).distinct()
        if course_id is not None:
            query = query.where(LearnerDayRow.course_id == course_id)
        async with self._sessions() as session:
            return list((await session.scalars(query)).all())

    # --- a course ----------------------------------------------------------------------

    async def course_weeks(self, course_id: uuid.UUID, since: date) -> list[DayTotals]:
        """Per week (from its Monday; from the Monday of `since`'s week), summed from the
        course's days, with the week's active learners."""
        since = monday_of(since)
        week = cast(func.date_trunc("week", CourseDayRow.day), Date).label("week")
        totals = (
            select(week, *_sums(CourseDayRow))
            .where(CourseDayRow.course_id == course_id, CourseDayRow.day >= since)
            .group_by(week)
            .order_by(week)
        )
        learners = select(CourseWeekRow.week, CourseWeekRow.learners).where(
            CourseWeekRow.course_id == course_id, CourseWeekRow.week >= since
        )
        async with self._sessions() as session:
            rows = (await session.execute(totals)).all()
            active = {row[0]: int(row[1]) for row in (await session.execute(learners)).all()}
        return [_totals(row, active.get(row[0], 0)) for row in rows]

    async def course_weeks_from_statements(
        self, course_id: uuid.UUID, since: date
    ) -> list[DayTotals]:
        """The same as course_weeks, computed from the raw statements (the benchmark's
        baseline, and the check that the aggregates agree with them)."""
        s = StatementRow
        week = cast(func.date_trunc("week", func.timezone("UTC", s.timestamp)), Date).label("week")
        scored = s.verb.in_([Verb.PASSED.value, Verb.FAILED.value]) & s.score_scaled.is_not(None)
        lesson_done = (s.verb == Verb.COMPLETED.value) & (s.object_type == "lesson")
        views = s.verb.in_([Verb.VIEWED.value, Verb.LAUNCHED.value])
        query = (
            select(
                week,
                func.count(),
                func.count().filter(views),
                func.count().filter(lesson_done),
                func.count().filter(s.verb == Verb.ATTEMPTED.value),
                func.coalesce(func.sum(s.duration_seconds), 0),
                func.count().filter(scored),
                func.coalesce(func.sum(s.score_scaled).filter(scored), 0.0),
                func.count(func.distinct(s.actor_id)),
            )
            .where(
                s.course_id == course_id,
                s.timestamp >= datetime.combine(monday_of(since), time(), UTC),
            )
            .group_by(week)
            .order_by(week)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_totals(row) for row in rows]

    async def lessons(self, course_id: uuid.UUID) -> dict[uuid.UUID, LessonTotals]:
        days = (
            select(
                LessonDayRow.lesson_id,
                func.sum(LessonDayRow.views),
                func.sum(LessonDayRow.completions),
                func.sum(LessonDayRow.seconds),
            )
            .where(LessonDayRow.course_id == course_id)
            .group_by(LessonDayRow.lesson_id)
        )
        reach = (
            select(
                LearnerLessonRow.lesson_id,
                func.count(),
                func.count(LearnerLessonRow.completed_at),
            )
            .where(LearnerLessonRow.course_id == course_id)
            .group_by(LearnerLessonRow.lesson_id)
        )
        async with self._sessions() as session:
            counted = {row[0]: row[1:] for row in (await session.execute(days)).all()}
            reached = {row[0]: row[1:] for row in (await session.execute(reach)).all()}
        return {
            lesson: LessonTotals(
                lesson, *counted.get(lesson, (0, 0, 0)), *reached.get(lesson, (0, 0))
            )
            for lesson in counted.keys() | reached.keys()
        }

    async def learners_seen(self, course_id: uuid.UUID) -> int:
        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count()).where(LearnerCourseRow.course_id == course_id)
            )
        return int(found or 0)

    async def inactive_learners(
        self, course_id: uuid.UUID, days: int, limit: int
    ) -> list[tuple[uuid.UUID, datetime]]:
        """Learners of the course who have neither completed nor dropped it and were last
        seen more than `days` ago, longest absent first."""
        before = clock.now() - timedelta(days=days)
        query = (
            select(LearnerCourseRow.user_id, LearnerCourseRow.last_seen)
            .where(
                LearnerCourseRow.course_id == course_id,
                LearnerCourseRow.completed_at.is_(None),
                LearnerCourseRow.dropped_at.is_(None),
                LearnerCourseRow.last_seen < before,
            )
            .order_by(LearnerCourseRow.last_seen, LearnerCourseRow.user_id)
            .limit(limit)
        )
        async with self._sessions() as session:
            return [(row[0], row[1]) for row in (await session.execute(query)).all()]

    async def grade_distribution(self, course_id: uuid.UUID) -> list[int]:
        """Learners per tenth of the mean scaled score of their graded attempts (the last
        bucket includes 100 %)."""
        mean = LearnerCourseRow.score_sum / LearnerCourseRow.scores
        bucket = func.least(func.floor(mean * GRADE_BUCKETS), GRADE_BUCKETS - 1).label("bucket")
        query = (
            select(bucket, func.count())
            .where(LearnerCourseRow.course_id == course_id, LearnerCourseRow.scores > 0)
            .group_by(bucket)
        )
        async with self._sessions() as session:
            counts = {int(row[0]): int(row[1]) for row in (await session.execute(query)).all()}
        return [counts.get(index, 0) for index in range(GRADE_BUCKETS)]

    async def course_statements(self, course_id: uuid.UUID) -> AsyncIterator[StatementRow]:
        """Every statement of the course, oldest first, streamed from the database."""
        query = (
            select(StatementRow)
            .where(StatementRow.course_id == course_id)
            .order_by(StatementRow.timestamp, StatementRow.id)
            .execution_options(yield_per=500)
        )
        async with self._sessions() as session:
            async for row in await session.stream_scalars(query):
                yield row
