"""`CourseLearningAnalytics.items`: how each question of a course's assessments performed,
per week or month (answers, mean score, share correct) with its difficulty and
discrimination over the span, from the questions' daily sums (attempts.py)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from enum import Enum
from typing import Protocol

import strawberry

from common import clock
from common.graphql.ids import graphql_id, parse_id
from subgraphs.analytics.arguments import MAX_WEEKS, bounded
from subgraphs.analytics.course_stats import ItemTotals, Period
from subgraphs.analytics.item_stats import ItemSums
from subgraphs.analytics.loaders import AnalyticsInfo


class CourseScope(Protocol):
    """What the course's analytics object carries once the caller was allowed."""

    course_id: uuid.UUID


@strawberry.enum(description="How analytics over time are grouped.")
class AnalyticsPeriod(Enum):
    WEEK = "week"
    MONTH = "month"


@strawberry.federation.type(keys=["id"], description="A quiz, exam or assignment of a course.")
class Assessment:
    id: strawberry.ID


@strawberry.type(description="A question's graded answers in one week (from Monday) or month.")
class ItemPeriod:
    start: date
    answers: int
    mean_score: float | None = strawberry.field(description="Mean scaled points, 0..1.")
    share_correct: float | None


@strawberry.type(description="How one question of an assessment performed.")
class ItemAnalysis:
    assessment: Assessment
    question_id: strawberry.ID
    answers: int = strawberry.field(description="Graded answers (one per attempt).")
    mean_score: float | None = strawberry.field(description="Mean scaled points, 0..1.")
    share_correct: float | None
    difficulty: float | None = strawberry.field(
        description="The classical difficulty index (p-value): the share of correct answers "
        "over the span; lower is harder."
    )
    discrimination: float | None = strawberry.field(
        description="Point-biserial correlation (-1..1) of answering correctly with the "
        "attempt's total score: how well the question separates stronger from weaker "
        "learners (below 0.2 is weak, negative suspect). Null under two answers, when all "
        "or none answered correctly, or when every total is equal."
    )
    periods: list[ItemPeriod]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _period(start: date, sums: ItemSums) -> ItemPeriod:
    return ItemPeriod(
        start=start,
        answers=sums.answers,
        mean_score=_rounded(sums.mean_score),
        share_correct=_rounded(sums.share_correct),
    )


def item_analysis(totals: ItemTotals) -> ItemAnalysis:
    overall = totals.overall
    return ItemAnalysis(
        assessment=Assessment(id=graphql_id(totals.assessment_id)),
        question_id=graphql_id(totals.question_id),
        answers=overall.answers,
        mean_score=_rounded(overall.mean_score),
        share_correct=_rounded(overall.share_correct),
        difficulty=_rounded(overall.share_correct),
        discrimination=_rounded(overall.discrimination),
        periods=[_period(start, sums) for start, sums in totals.periods],
    )


async def course_items(
    root: strawberry.Parent[CourseScope],
    info: AnalyticsInfo,
    assessment_id: strawberry.ID | None = None,
    weeks: int = 12,
    period: AnalyticsPeriod = AnalyticsPeriod.WEEK,
) -> list[ItemAnalysis]:
    since = clock.now().date() - timedelta(weeks=bounded(weeks, "weeks", MAX_WEEKS))
    assessment = None if assessment_id is None else parse_id(assessment_id, field="assessmentId")
    found = await info.context.service.course_stats.items(
        root.course_id, assessment, since, Period(period.value)
    )
    return [item_analysis(totals) for totals in found]


items_field = strawberry.field(
    resolver=course_items,
    description="Each question answered in the course's assessments (or in `assessmentId`) "
    "over the last `weeks`, per `period`, with its difficulty and discrimination.",
)
