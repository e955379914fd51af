"""`CourseLearningAnalytics.cohorts`: the course's cohorts (enrollments' `Cohort`) side by
side, from the learners' per-course aggregates grouped by cohort (cohorts.py)."""

from __future__ import annotations

import strawberry

from common import clock
from common.graphql.ids import graphql_id
from subgraphs.analytics.course_items_schema import CourseScope
from subgraphs.analytics.course_stats import ACTIVE_DAYS, CohortTotals
from subgraphs.analytics.loaders import AnalyticsInfo


@strawberry.federation.type(
    keys=["id"], description="A group of a course's learners with start and end dates."
)
class Cohort:
    id: strawberry.ID


@strawberry.type(description="One cohort's learners compared (or those in no cohort).")
class CohortComparison:
    cohort: Cohort | None = strawberry.field(description="Null: the learners in no cohort.")
    learners: int = strawberry.field(description="Learners with any activity (enrolling too).")
    active_last_week: int = strawberry.field(
        description=f"Learners seen in the last {ACTIVE_DAYS} days."
    )
    mean_progress: float = strawberry.field(description="Mean enrollment progress, 0..1.")
    mean_score: float | None = strawberry.field(
        description="Mean scaled score (0..1) of the cohort's graded attempts."
    )
    completions: int = strawberry.field(description="Learners who completed the course.")
    dropped: int = strawberry.field(
        description="Learners who dropped the course (counted in none of the figures above)."
    )


def comparison_of(totals: CohortTotals) -> CohortComparison:
    return CohortComparison(
        cohort=None if totals.cohort_id is None else Cohort(id=graphql_id(totals.cohort_id)),
        learners=totals.learners,
        active_last_week=totals.active,
        mean_progress=totals.mean_progress,
        mean_score=totals.mean_score,
        completions=totals.completions,
        dropped=totals.dropped,
    )


async def course_cohorts(
    root: strawberry.Parent[CourseScope], info: AnalyticsInfo
) -> list[CohortComparison]:
    found = await info.context.service.course_stats.cohorts(root.course_id, clock.now())
    return [comparison_of(totals) for totals in found]


cohorts_field = strawberry.field(
    resolver=course_cohorts,
    description="The course's cohorts compared: learners, active in the last week, mean "
    "progress, mean score, completions (those in no cohort last, as a null cohort).",
)
