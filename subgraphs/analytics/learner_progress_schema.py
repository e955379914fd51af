"""`User.learningProgress(courseId)`: a learner's progress through a course over time
(lessons completed, cumulative, and the share of the course's lessons) and their grades
over time (each graded attempt), from the learner's daily aggregates and graded attempts.
Who may read it: the same as `learningActivity` (guards.may_read_learner)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

import strawberry

from common import clock
from common.graphql.access import signed_in
from common.graphql.catalog import visible_course
from common.graphql.ids import graphql_id, parse_id
from subgraphs.analytics.arguments import MAX_DAYS, bounded
from subgraphs.analytics.course_items_schema import Assessment
from subgraphs.analytics.guards import may_read_learner
from subgraphs.analytics.loaders import AnalyticsInfo


class LearnerScope(Protocol):
    id: strawberry.ID


@strawberry.type(description="Where a learner stood in a course at the end of a day.")
class ProgressPoint:
    day: date
    lessons_completed: int = strawberry.field(description="Cumulative, up to that day.")
    share_of_lessons: float = strawberry.field(
        description="lessonsCompleted over the course's lessons now (0..1)."
    )
    progress: float | None = strawberry.field(
        description="The enrollment's progress (lessons and assessments), 0..1, as last reported."
    )


@strawberry.type(description="One graded attempt.")
class GradedAttempt:
    attempt_id: strawberry.ID
    assessment: Assessment
    graded_at: datetime
    score: float = strawberry.field(description="Scaled, 0..1 (its last grade).")
    passed: bool


@strawberry.type(description="A learner's progress and grades in one course over time.")
class LearnerProgress:
    lessons: int = strawberry.field(description="The course's lessons now.")
    days: list[ProgressPoint] = strawberry.field(
        description="The days in the span on which lessons were completed or progress reported."
    )
    grades: list[GradedAttempt] = strawberry.field(description="In the order graded.")


async def learning_progress(
    root: strawberry.Parent[LearnerScope],
    info: AnalyticsInfo,
    course_id: strawberry.ID,
    days: int = 365,
) -> LearnerProgress:
    user_id = parse_id(root.id)
    course_uuid = parse_id(course_id, field="courseId")
    span = bounded(days, "days", MAX_DAYS)
    await may_read_learner(info, user_id, course_uuid)
    course = await visible_course(info.context.loaders.course_to_read, course_uuid)
    since = clock.now().date() - timedelta(days=span - 1)
    stats = info.context.service.course_stats
    lessons = len(course.lesson_ids)
    points = [
        ProgressPoint(
            day=found.day,
            lessons_completed=found.lessons_completed,
            share_of_lessons=round(min(1.0, found.lessons_completed / lessons), 4)
            if lessons
            else 0.0,
            progress=found.progress,
        )
        for found in await stats.progress_days(user_id, course_uuid)
        if found.day >= since
    ]
    grades = await stats.grades(user_id, course_uuid, datetime.combine(since, time(), UTC))
    return LearnerProgress(
        lessons=lessons,
        days=points,
        grades=[
            GradedAttempt(
                attempt_id=graphql_id(grade.attempt_id),
                assessment=Assessment(id=graphql_id(grade.assessment_id)),
                graded_at=grade.graded_at,
                score=round(grade.score, 4),
                passed=grade.passed,
            )
            for grade in grades
        ],
    )


learning_progress_field = strawberry.field(
    resolver=learning_progress,
    extensions=[signed_in()],
    description="This learner's progress (lessons completed, cumulative) and grades (each "
    "graded attempt) in a course over the last `days`: themself, administrators and the "
    "course's instructors.",
)
