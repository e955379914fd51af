"""GraphQL surface of assessments: the assessment, its slots and statistics, the courses' list
of assessments, and the authoring mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from common.errors import Forbidden, NotFound
from common.graphql.access import scopes
from common.graphql.catalog import visible_course
from common.graphql.costs import ANALYTICS
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from subgraphs.assessments.adaptive.views import AdaptiveSettings, adaptive_settings_of
from subgraphs.assessments.analytics import BUCKETS, AssessmentStats, QuestionStats
from subgraphs.assessments.bank import can_manage
from subgraphs.assessments.guards import visible_assessment
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import AssessmentRow, SlotRow
from subgraphs.assessments.question_schema import Question, question_of
from subgraphs.assessments.service import AssessmentDraft, Slot, can_see_assessment
from subgraphs.assessments.service import AssessmentKind as AssessmentKindValue

if TYPE_CHECKING:
    from subgraphs.assessments.attempt_schema import Attempt

AssessmentKind = strawberry.enum(AssessmentKindValue, name="AssessmentKind")


@strawberry.federation.type(keys=["id"], description="A course of the catalogue.")
class Course:
    id: strawberry.ID

    @strawberry.field(
        description="The course's assessments: all for its instructors, the published ones "
        "for enrolled learners, none for anyone else."
    )
    async def assessments(self, info: AssessmentsInfo) -> list[Assessment] | None:
        principal = info.context.caller()
        if principal is None:
            return []
        course_id = parse_id(self.id)
        course = await info.context.loaders.course.load(course_id)
        if course is None:
            return []
        enrolled = await info.context.loaders.enrolled.load(course_id)
        rows = await info.context.loaders.course_assessments.load(course_id)
        return [
            assessment_of(row)
            for row in rows
            if can_see_assessment(principal, course, enrolled, row)
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Course:
        return cls(id=id)


@strawberry.type(description="A position of an assessment: a fixed question or a random draw.")
class AssessmentSlot:
    position: int
    draw_tag: str | None
    draw_count: int
    row: strawberry.Private[SlotRow]

    @strawberry.field
    async def question(self, info: AssessmentsInfo) -> Question | None:
        if self.row.question_id is None:
            return None
        row = await info.context.loaders.question.load(self.row.question_id)
        return None if row is None else question_of(row, key_visible=True)


@strawberry.type
class ScoreBand:
    from_percent: float
    to_percent: float
    learners: int


@strawberry.type
class QuestionStatistics:
    answered: int
    difficulty: float = strawberry.field(description="Share of the points earned (1: all right).")
    discrimination: float | None = strawberry.field(
        description="Point-biserial correlation of getting it right with the total score."
    )
    stats: strawberry.Private[QuestionStats]

    @strawberry.field
    async def question(self, info: AssessmentsInfo) -> Question | None:
        row = await info.context.loaders.question.load(self.stats.question_id)
        return None if row is None else question_of(row, key_visible=True)


@strawberry.type(
    description="Results of an assessment; each learner counts with their best attempt."
)
class AssessmentStatistics:
    learners: int
    mean: float | None
    median: float | None
    standard_deviation: float | None
    pass_rate: float | None
    distribution: list[ScoreBand]
    questions: list[QuestionStatistics]


def statistics_of(stats: AssessmentStats) -> AssessmentStatistics:
    width = 100 / BUCKETS
    return AssessmentStatistics(
        learners=stats.learners,
        mean=stats.mean,
        median=stats.median,
        standard_deviation=stats.standard_deviation,
        pass_rate=stats.pass_rate,
        distribution=[
            ScoreBand(from_percent=i * width, to_percent=(i + 1) * width, learners=count)
            for i, count in enumerate(stats.distribution)
        ],
        questions=[
            QuestionStatistics(
                answered=q.answered,
                difficulty=q.difficulty,
                discrimination=q.discrimination,
                stats=q,
            )
            for q in stats.questions
        ],
    )


@strawberry.federation.type(keys=["id"], description="A quiz, exam or assignment of a course.")
class Assessment:
    id: strawberry.ID
    title: str
    description: str
    kind: AssessmentKind  # type: ignore[valid-type]
    time_limit_minutes: int | None
    attempts_allowed: int | None = strawberry.field(description="null: unlimited.")
    available_from: datetime | None
    available_until: datetime | None
    passing_score: float = strawberry.field(description="Percentage needed to pass.")
    published: bool
    release_grades_immediately: bool
    grades_released_at: datetime | None
    row: strawberry.Private[AssessmentRow]

    @strawberry.field
    def course(self) -> Course | None:
        return Course(id=graphql_id(self.row.course_id))

    @strawberry.field(description="Its adaptive settings when ADAPTIVE; null for a fixed test.")
    async def adaptive(self, info: AssessmentsInfo) -> AdaptiveSettings | None:
        return await adaptive_settings_of(info, self.row.id)

    @strawberry.field(description="How many questions an attempt has.")
    async def question_count(self, info: AssessmentsInfo) -> int:
        slots = await info.context.loaders.slots.load(self.row.id)
        return sum(1 if slot.question_id else slot.draw_count for slot in slots)

    @strawberry.field(description="The questions and draws, in order (the course's instructors).")
    async def slots(self, info: AssessmentsInfo) -> list[AssessmentSlot]:
        course = await visible_course(info.context.loaders.course, self.row.course_id)
        if not can_manage(info.context.require_principal(), course):
            raise Forbidden("Only the course's instructors see how an assessment is built.")
        return [
            AssessmentSlot(position=s.position, draw_tag=s.draw_tag, draw_count=s.draw_count, row=s)
            for s in await info.context.loaders.slots.load(self.row.id)
        ]

    @strawberry.field(description="Attempts the caller has left; null when unlimited.")
    async def attempts_remaining(self, info: AssessmentsInfo) -> int | None:
        if self.row.attempts_allowed is None:
            return None
        used = await info.context.loaders.attempt_count.load(
            (self.row.id, info.context.require_principal().user_id)
        )
        return max(0, self.row.attempts_allowed - (used or 0))

    @strawberry.field(
        description="Every attempt for the course's instructors; your own otherwise.",
        directives=[PAGED],
    )
    async def attempts(
        self, info: AssessmentsInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Attempt, strawberry.lazy("subgraphs.assessments.attempt_schema")]]:
        from subgraphs.assessments.attempt_schema import (
            attempt_of,
        )

        course = await visible_course(info.context.loaders.course, self.row.course_id)
        page = await info.context.service.assessments.attempts_of_assessment(
            info.context.require_principal(), course, self.row, first=first, after=after
        )
        return Connection.from_page(page, attempt_of)

    @strawberry.field(
        description="Score statistics and item analysis (the course's instructors).",
        directives=[ANALYTICS],
    )
    async def statistics(self, info: AssessmentsInfo) -> AssessmentStatistics:
        course = await visible_course(info.context.loaders.course, self.row.course_id)
        stats = await info.context.service.assessments.statistics(
            info.context.require_principal(), course, self.row
        )
        return statistics_of(stats)

    @classmethod
    async def resolve_reference(cls, info: AssessmentsInfo, id: strawberry.ID) -> Assessment | None:
        try:
            row, _ = await visible_assessment(info, parse_id(id))
        except NotFound:
            return None
        return assessment_of(row)


def assessment_of(row: AssessmentRow) -> Assessment:
    return Assessment(
        id=graphql_id(row.id),
        title=row.title,
        description=row.description,
        kind=AssessmentKindValue(row.kind),
        time_limit_minutes=row.time_limit_minutes,
        attempts_allowed=row.attempts_allowed,
        available_from=row.available_from,
        available_until=row.available_until,
        passing_score=row.passing_score,
        published=row.published,
        release_grades_immediately=row.release_immediately,
        grades_released_at=row.grades_released_at,
        row=row,
    )


@strawberry.input(description="A fixed question, or drawCount random questions tagged drawTag.")
class SlotInput:
    question_id: strawberry.ID | None = None
    draw_tag: str | None = None
    draw_count: int = 1


@strawberry.input
class AssessmentInput:
    course_id: strawberry.ID
    title: str
    kind: AssessmentKind  # type: ignore[valid-type]
    description: str = ""
    time_limit_minutes: int | None = None
    attempts_allowed: int | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    passing_score: float = 50.0
    release_grades_immediately: bool = False
    questions: list[SlotInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateAssessmentInput:
    id: strawberry.ID
    assessment: AssessmentInput
    replace_questions: bool = strawberry.field(
        default=False, description="Also replace the questions (only before any attempt)."
    )


@strawberry.input
class PublishAssessmentInput:
    id: strawberry.ID
    published: bool = True


@strawberry.input
class ReleaseGradesInput:
    assessment_id: strawberry.ID


@strawberry.type
class AssessmentPayload:
    assessment: Assessment


def _assessment_draft(data: AssessmentInput) -> AssessmentDraft:
    return AssessmentDraft(
        title=data.title,
        kind=AssessmentKindValue(data.kind),
        description=data.description,
        time_limit_minutes=data.time_limit_minutes,
        attempts_allowed=data.attempts_allowed,
        available_from=data.available_from,
        available_until=data.available_until,
        passing_score=data.passing_score,
        release_immediately=data.release_grades_immediately,
        slots=[
            Slot(
                question_id=None
                if slot.question_id is None
                else parse_id(slot.question_id, field="questions"),
                draw_tag=slot.draw_tag,
                draw_count=slot.draw_count,
            )
            for slot in data.questions
        ],
    )


@strawberry.type
class AssessmentQueries:
    @strawberry.field(description="An assessment you may see; NOT_FOUND otherwise.")
    async def assessment(self, info: AssessmentsInfo, id: strawberry.ID) -> Assessment:
        row, _ = await visible_assessment(info, parse_id(id, field="id"), field="id")
        return assessment_of(row)


@strawberry.type
class AssessmentMutations:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Create an assessment, unpublished (the course's instructors).",
    )
    async def create_assessment(
        self, info: AssessmentsInfo, input: AssessmentInput
    ) -> AssessmentPayload:
        course = await visible_course(
            info.context.loaders.course, parse_id(input.course_id, field="courseId")
        )
        row = await info.context.service.assessments.create(
            info.context.require_principal(), course, _assessment_draft(input)
        )
        return AssessmentPayload(assessment=assessment_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Change an assessment's settings (and questions, before any attempt).",
    )
    async def update_assessment(
        self, info: AssessmentsInfo, input: UpdateAssessmentInput
    ) -> AssessmentPayload:
        assessment, course = await visible_assessment(info, parse_id(input.id, field="id"), "id")
        if parse_id(input.assessment.course_id, field="courseId") != assessment.course_id:
            raise Forbidden("An assessment stays in its course.")
        row = await info.context.service.assessments.update(
            info.context.require_principal(),
            course,
            assessment,
            _assessment_draft(input.assessment),
            input.replace_questions,
        )
        return AssessmentPayload(assessment=assessment_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Open an assessment to enrolled learners, or close it.",
    )
    async def publish_assessment(
        self, info: AssessmentsInfo, input: PublishAssessmentInput
    ) -> AssessmentPayload:
        assessment, course = await visible_assessment(info, parse_id(input.id, field="id"), "id")
        row = await info.context.service.assessments.set_published(
            info.context.require_principal(), course, assessment, input.published
        )
        return AssessmentPayload(assessment=assessment_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Show learners their scores, feedback and the correct answers.",
    )
    async def release_grades(
        self, info: AssessmentsInfo, input: ReleaseGradesInput
    ) -> AssessmentPayload:
        assessment, course = await visible_assessment(info, parse_id(input.assessment_id))
        row = await info.context.service.assessments.release_grades(
            info.context.require_principal(), course, assessment
        )
        return AssessmentPayload(assessment=assessment_of(row))
