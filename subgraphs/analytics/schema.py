"""GraphQL surface of the analytics subgraph: `recordActivity`, and analytics on the User and
Course entities (a learner's activity; a course's engagement), read from the daily
aggregates; a learner's recommendations (recommendations_schema.py). Who may read what:
guards.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from common import clock
from common.errors import BadUserInput
from common.graphql.access import signed_in
from common.graphql.ids import graphql_id, parse_id
from common.graphql.schema import ServiceSchema
from subgraphs.analytics.arguments import MAX_DAYS, MAX_LEARNERS, MAX_WEEKS, bounded
from subgraphs.analytics.at_risk_schema import (
    AtRiskLearner,
    AtRiskLearners,
    at_risk_learners,
    learner_at_risk,
)
from subgraphs.analytics.cohorts_schema import cohorts_field
from subgraphs.analytics.course_items_schema import items_field
from subgraphs.analytics.durations import format_duration
from subgraphs.analytics.export_route import export_path
from subgraphs.analytics.guards import may_read_course, may_read_learner, may_record
from subgraphs.analytics.learner_progress_schema import learning_progress_field
from subgraphs.analytics.loaders import AnalyticsInfo
from subgraphs.analytics.models import StatementRow
from subgraphs.analytics.recommendations_schema import LearnerRecommendations
from subgraphs.analytics.service import GRADE_BUCKETS, Activity, DayTotals, streaks
from subgraphs.analytics.vocabulary import VERB_IRIS, Verb
from subgraphs.analytics.xapi import as_xapi


@strawberry.enum(description="What a client may report a learner did (xAPI verbs).")
class ActivityVerb(Enum):
    VIEWED = "viewed"
    LAUNCHED = "launched"
    PROGRESSED = "progressed"
    EXPERIENCED = "experienced"


@strawberry.federation.type(keys=["id"], description="A lesson of a course.")
class Lesson:
    id: strawberry.ID


@strawberry.type(description="One learning activity, in the shape of an xAPI statement.")
class Statement:
    id: strawberry.ID
    verb: str = strawberry.field(description="The verb's IRI (ADL vocabulary).")
    object_type: str
    timestamp: datetime
    stored: datetime
    duration: str | None = strawberry.field(description="ISO 8601, as xAPI writes it.")
    progress: float | None
    xapi: JSON = strawberry.field(description="The whole statement as xAPI 1.0.3 JSON.")


def statement_of(row: StatementRow, base: str) -> Statement:
    return Statement(
        id=graphql_id(row.id),
        verb=VERB_IRIS[Verb(row.verb)],
        object_type=row.object_type,
        timestamp=row.timestamp,
        stored=row.stored,
        duration=None if row.duration_seconds is None else format_duration(row.duration_seconds),
        progress=row.progress,
        xapi=JSON(as_xapi(row, base)),
    )


@strawberry.type(description="Activity summed over one day (or one week).")
class ActivityPeriod:
    start: date
    statements: int
    views: int
    completions: int = strawberry.field(description="Lessons completed.")
    attempts: int = strawberry.field(description="Assessment attempts submitted.")
    seconds_on_task: int
    average_score: float | None = strawberry.field(
        description="Mean scaled score (0..1) of the attempts graded then."
    )
    active_learners: int = strawberry.field(description="Learners active (courses only).")


def period_of(totals: DayTotals) -> ActivityPeriod:
    return ActivityPeriod(
        start=totals.day,
        statements=int(totals.statements),
        views=int(totals.views),
        completions=int(totals.completions),
        attempts=int(totals.attempts),
        seconds_on_task=int(totals.seconds),
        average_score=totals.score_sum / totals.scores if totals.scores else None,
        active_learners=int(totals.learners),
    )


@strawberry.type(description="A learner's activity: by day, time on task and streaks.")
class LearnerActivity:
    days: list[ActivityPeriod]
    seconds_on_task: int
    time_on_task: str = strawberry.field(description="The same as an ISO 8601 duration.")
    current_streak: int = strawberry.field(description="Active days in a row up to today.")
    longest_streak: int
    last_active_on: date | None


@strawberry.type(description="How far learners went with one lesson.")
class LessonEngagement:
    lesson: Lesson
    position: int = strawberry.field(description="Its place in the course, from 1.")
    views: int
    completions: int
    seconds_on_task: int
    learners_reached: int
    learners_completed: int
    drop_off: float = strawberry.field(
        description="Share of the learners who reached the lesson before (the course, for "
        "the first) and did not reach this one."
    )


@strawberry.type
class InactiveLearner:
    user: User
    last_seen_at: datetime


@strawberry.type(description="Learners whose mean score falls in [fromPercent, toPercent).")
class GradeBucket:
    from_percent: int
    to_percent: int
    learners: int


@strawberry.type(description="A course's analytics (its instructors and administrators).")
class CourseLearningAnalytics:
    course_id: strawberry.Private[uuid.UUID]
    lesson_ids: strawberry.Private[tuple[uuid.UUID, ...]]
    export_url: str = strawberry.field(
        description="GET it with the same bearer token: every statement as xAPI JSON lines."
    )

    @strawberry.field(description="Activity per week (Mondays), the last `weeks` weeks.")
    async def engagement(self, info: AnalyticsInfo, weeks: int = 12) -> list[ActivityPeriod]:
        since = clock.now().date() - timedelta(weeks=bounded(weeks, "weeks", MAX_WEEKS))
        found = await info.context.service.analytics.course_weeks(self.course_id, since)
        return [period_of(totals) for totals in found]

    @strawberry.field(description="Each lesson in course order: views, completions, drop-off.")
    async def lessons(self, info: AnalyticsInfo) -> list[LessonEngagement]:
        analytics = info.context.service.analytics
        found = await analytics.lessons(self.course_id)
        before = await analytics.learners_seen(self.course_id)
        result = []
        for position, lesson_id in enumerate(self.lesson_ids, start=1):
            totals = found.get(lesson_id)
            reached = totals.reached if totals else 0
            result.append(
                LessonEngagement(
                    lesson=Lesson(id=graphql_id(lesson_id)),
                    position=position,
                    views=totals.views if totals else 0,
                    completions=totals.completions if totals else 0,
                    seconds_on_task=totals.seconds if totals else 0,
                    learners_reached=reached,
                    learners_completed=totals.completed if totals else 0,
                    drop_off=max(0.0, (before - reached) / before) if before else 0.0,
                )
            )
            before = reached
        return result

    @strawberry.field(description="Learners who have not finished and were not seen for `days`.")
    async def inactive_learners(
        self, info: AnalyticsInfo, days: int, first: int = 50
    ) -> list[InactiveLearner]:
        found = await info.context.service.analytics.inactive_learners(
            self.course_id,
            bounded(days, "days", MAX_DAYS),
            bounded(first, "first", MAX_LEARNERS),
        )
        return [InactiveLearner(user=User(id=graphql_id(u)), last_seen_at=t) for u, t in found]

    items = items_field
    cohorts = cohorts_field

    @strawberry.field(description="Learners by the mean score of their graded attempts.")
    async def grade_distribution(self, info: AnalyticsInfo) -> list[GradeBucket]:
        counts = await info.context.service.analytics.grade_distribution(self.course_id)
        step = 100 // GRADE_BUCKETS
        return [
            GradeBucket(from_percent=index * step, to_percent=(index + 1) * step, learners=count)
            for index, count in enumerate(counts)
        ]


@strawberry.federation.type(keys=["id"], description="A course of the catalogue.")
class Course:
    id: strawberry.ID

    @strawberry.field(
        extensions=[signed_in()],
        description="Engagement, lessons, inactive learners, grades (instructors, admins).",
    )
    async def learning_analytics(self, info: AnalyticsInfo) -> CourseLearningAnalytics:
        course = await may_read_course(info, parse_id(self.id))
        return CourseLearningAnalytics(
            course_id=course.id,
            lesson_ids=course.lesson_ids,
            export_url=info.context.service.activity_base + export_path(course.id),
        )

    at_risk_learners: AtRiskLearners = strawberry.field(
        resolver=at_risk_learners,
        extensions=[signed_in()],
        description="Its active learners' at-risk predictions from `minProbability` up, "
        "riskiest first, with the reasons in words (instructors, admins).",
    )


@strawberry.federation.type(keys=["id"], description="A person using the platform.")
class User(LearnerRecommendations):
    id: strawberry.ID

    @strawberry.field(
        extensions=[signed_in()],
        description="This learner's activity over the last `days` (in one course, or all): "
        "themself, administrators, and the course's instructors when `courseId` is given.",
    )
    async def learning_activity(
        self, info: AnalyticsInfo, course_id: strawberry.ID | None = None, days: int = 90
    ) -> LearnerActivity:
        user_id = parse_id(self.id)
        course = None if course_id is None else parse_id(course_id, field="courseId")
        await may_read_learner(info, user_id, course)
        analytics = info.context.service.analytics
        today = clock.now().date()
        since = today - timedelta(days=bounded(days, "days", MAX_DAYS) - 1)
        found = await analytics.learner_days(user_id, course, since)
        active = await analytics.active_days(user_id, course)
        runs = streaks(active, today)
        seconds = sum(int(totals.seconds) for totals in found)
        return LearnerActivity(
            days=[period_of(totals) for totals in found],
            seconds_on_task=seconds,
            time_on_task=format_duration(seconds),
            current_streak=runs.current,
            longest_streak=runs.longest,
            last_active_on=max(active) if active else None,
        )

    at_risk: AtRiskLearner | None = strawberry.field(
        resolver=learner_at_risk,
        extensions=[signed_in()],
        description="This learner's at-risk prediction in a course (null when not scored): "
        "the course's instructors and administrators; the learner themself only where "
        "LMS_AT_RISK_VISIBLE_TO_LEARNERS is true.",
    )
    learning_progress = learning_progress_field


@strawberry.input(description="What the learner did, as only the client knows it.")
class RecordActivityInput:
    verb: ActivityVerb
    course_id: strawberry.ID
    lesson_id: strawberry.ID | None = strawberry.field(
        default=None, description="The lesson, when the activity was in one (else the course)."
    )
    duration: str | None = strawberry.field(
        default=None, description="Time spent, ISO 8601 (PT5M30S), at most 4 hours."
    )
    progress: float | None = strawberry.field(
        default=None, description="How far, 0..1 (a video watched to 80 %: 0.8)."
    )
    timestamp: datetime | None = strawberry.field(
        default=None, description="When (default now): not in the future, at most 7 days ago."
    )
    id: strawberry.ID | None = strawberry.field(
        default=None, description="The statement's id, chosen by the client: sent again, no-op."
    )


@strawberry.type
class RecordActivityPayload:
    statement: Statement
    duplicate: bool = strawberry.field(description="True when this id was recorded before.")


@strawberry.type
class Query:
    @strawberry.field(description="The xAPI verbs a client may record.")
    def activity_verbs(self) -> list[str]:
        return [VERB_IRIS[Verb(verb.value)] for verb in ActivityVerb]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[signed_in()],
        description="Record what only the client knows (a lesson viewed, time spent, a video "
        "watched), in a course the caller is enrolled in or teaches. Rate-limited per user.",
    )
    async def record_activity(
        self, info: AnalyticsInfo, input: RecordActivityInput
    ) -> RecordActivityPayload:
        course_id = parse_id(input.course_id, field="courseId")
        lesson_id = None if input.lesson_id is None else parse_id(input.lesson_id, field="lessonId")
        principal, course = await may_record(info, course_id)
        if lesson_id is not None and lesson_id not in course.lesson_ids:
            raise BadUserInput("The course has no lesson with this id.", field="lessonId")
        services = info.context.service
        row, new = await services.analytics.record_activity(
            Activity(
                statement_id=None if input.id is None else parse_id(input.id),
                user_id=principal.user_id,
                verb=Verb(input.verb.value),
                course_id=course_id,
                lesson_id=lesson_id,
                registration=None,
                duration=input.duration,
                progress=input.progress,
                timestamp=input.timestamp,
            )
        )
        return RecordActivityPayload(
            statement=statement_of(row, services.activity_base), duplicate=not new
        )


schema = ServiceSchema(query=Query, mutation=Mutation, types=[User, Course, Lesson])
