"""A graded attempt counted once per attempt: the learner's grade (their grades trend) and
each question's result in it (item analysis per question and day).

An attempt graded again (an instructor overrides a grade) replaces its first grade: what it
added to its questions' days is taken back before the new results are added, so a
question's counts hold each attempt once, with its last grade. A grade older than the one
counted (events out of order) changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.analytics.models import ItemDayRow, LearnerAttemptRow
from subgraphs.analytics.upserts import add_counts


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One question's result in a graded attempt (submission.graded's `items`)."""

    question_id: uuid.UUID
    points: float
    max_points: float
    correct: bool

    @property
    def scaled(self) -> float:
        if self.max_points <= 0:
            return float(self.correct)
        return max(0.0, min(1.0, self.points / self.max_points))

    def as_json(self) -> dict[str, Any]:
        return {
            "question_id": str(self.question_id),
            "points": self.points,
            "max_points": self.max_points,
            "correct": self.correct,
        }

    @classmethod
    def from_json(cls, item: Any) -> ItemResult:
        """From the event (or the stored attempt); ValueError/KeyError/TypeError if malformed."""
        return cls(
            question_id=uuid.UUID(str(item["question_id"])),
            points=float(item["points"]),
            max_points=float(item["max_points"]),
            correct=bool(item["correct"]),
        )


@dataclass(frozen=True, slots=True)
class GradedAttempt:
    attempt_id: uuid.UUID
    user_id: uuid.UUID
    course_id: uuid.UUID
    assessment_id: uuid.UUID
    graded_at: datetime
    score: float  # scaled, 0..1
    passed: bool
    items: tuple[ItemResult, ...]


async def _count_items(
    session: AsyncSession,
    course_id: uuid.UUID,
    assessment_id: uuid.UUID,
    day: date,
    total: float,
    items: tuple[ItemResult, ...],
    sign: int,
) -> None:
    for item in items:
        right = int(item.correct)
        await add_counts(
            session,
            ItemDayRow,
            {"question_id": item.question_id, "assessment_id": assessment_id, "day": day},
            {
                "answers": sign,
                "correct": sign * right,
                "score_sum": sign * item.scaled,
                "total_sum": sign * total,
                "total_squares": sign * total * total,
                "correct_total_sum": sign * right * total,
            },
            {
                "course_id": course_id,
                "week": day - timedelta(days=day.weekday()),
                "month": day.replace(day=1),
            },
        )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


async def count_graded_attempt(session: AsyncSession, attempt: GradedAttempt) -> None:
    """Record the attempt's grade and count its questions (see the module's docstring), in
    the statement's transaction."""
    inserted = await session.execute(
        insert(LearnerAttemptRow)
        .values(
            attempt_id=attempt.attempt_id,
            user_id=attempt.user_id,
            course_id=attempt.course_id,
            assessment_id=attempt.assessment_id,
            graded_at=attempt.graded_at,
            score_scaled=attempt.score,
            passed=attempt.passed,
            items=[],
        )
        .on_conflict_do_nothing(index_elements=["attempt_id"])
        .returning(LearnerAttemptRow.attempt_id)
    )
    new = inserted.scalar_one_or_none() is not None
    row = await session.get(
        LearnerAttemptRow, attempt.attempt_id, with_for_update=True, populate_existing=True
    )
    assert row is not None
    if not new:  # counted before: a regrade, or an older grade arriving late
        if row.graded_at > attempt.graded_at:
            return
        old = tuple(ItemResult.from_json(item) for item in row.items)
        day = _day(row.graded_at)
        await _count_items(
            session, row.course_id, row.assessment_id, day, row.score_scaled, old, -1
        )
    await _count_items(
        session,
        attempt.course_id,
        attempt.assessment_id,
        _day(attempt.graded_at),
        attempt.score,
        attempt.items,
        1,
    )
    row.graded_at = attempt.graded_at
    row.score_scaled = attempt.score
    row.passed = attempt.passed
    row.items = [item.as_json() for item in attempt.items]
    await session.flush()
