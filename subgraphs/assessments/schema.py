"""GraphQL surface of the assessments subgraph: thin resolvers over the bank and the service.

Who sees what: a course's instructors and administrators see everything of its assessments
(answer keys, every attempt, analytics); an enrolled learner sees published assessments,
their own attempts, and their scores, feedback and the correct answers only once grades are
released. Anything else answers NOT_FOUND (it is not acknowledged) or FORBIDDEN.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeAlias

import strawberry
from strawberry.types import Info

from common.auth import Principal
from common.errors import Forbidden, NotFound
from common.graphql.access import scopes, signed_in
from common.graphql.catalog import CourseFacts
from common.graphql.context import RequestContext
from common.graphql.ids import parse_id
from common.graphql.relay import Connection
from common.graphql.schema import ServiceSchema
from subgraphs.assessments import questions as kinds
from subgraphs.assessments.analytics import BUCKETS, AssessmentStats, QuestionStats
from subgraphs.assessments.bank import QuestionMeta, can_manage
from subgraphs.assessments.loaders import AssessmentsLoaders, AssessmentsServices
from subgraphs.assessments.models import AnswerRow, AssessmentRow, AttemptRow, QuestionRow, SlotRow
from subgraphs.assessments.service import (
    AnswerDraft,
    AssessmentDraft,
    ManualGrade,
    Slot,
    can_see_assessment,
    percent,
    results_released,
)
from subgraphs.assessments.service import AssessmentKind as AssessmentKindValue
from subgraphs.assessments.service import AttemptStatus as AttemptStatusValue

AssessmentsInfo: TypeAlias = Info[RequestContext[AssessmentsServices, AssessmentsLoaders], None]

QuestionKind = strawberry.enum(kinds.QuestionKind, name="QuestionKind")
Difficulty = strawberry.enum(kinds.Difficulty, name="Difficulty")
MatchMode = strawberry.enum(
    kinds.MatchMode, name="MatchMode", description="How a short answer is compared."
)
AssessmentKind = strawberry.enum(AssessmentKindValue, name="AssessmentKind")
AttemptStatus = strawberry.enum(AttemptStatusValue, name="AttemptStatus")


def _id(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


def _principal(info: AssessmentsInfo) -> Principal:
    return info.context.require_principal()


async def _course(
    info: AssessmentsInfo, course_id: uuid.UUID, field: str = "courseId"
) -> CourseFacts:
    """The course as the caller may see it, or NOT_FOUND (drafts are not acknowledged)."""
    facts = await info.context.loaders.course.load(course_id)
    if facts is None:
        raise NotFound(f"No course has id {course_id}.", field=field)
    return facts


async def _visible_assessment(
    info: AssessmentsInfo, assessment_id: uuid.UUID, field: str = "assessmentId"
) -> tuple[AssessmentRow, CourseFacts]:
    principal = _principal(info)
    row = await info.context.loaders.assessment.load(assessment_id)
    course = None if row is None else await info.context.loaders.course.load(row.course_id)
    if row is not None and course is not None:
        enrolled = await info.context.loaders.enrolled.load(row.course_id)
        if can_see_assessment(principal, course, enrolled, row):
            return row, course
    raise NotFound(f"No assessment has id {assessment_id}.", field=field)


async def _visible_attempt(
    info: AssessmentsInfo, attempt_id: uuid.UUID, field: str = "attemptId"
) -> tuple[AttemptRow, AssessmentRow, CourseFacts]:
    """An attempt its learner, the course's instructors or an administrator may see."""
    principal = _principal(info)
    attempt = await info.context.loaders.attempt.load(attempt_id)
    if attempt is not None:
        assessment = await info.context.loaders.assessment.load(attempt.assessment_id)
        assert assessment is not None
        course = await info.context.loaders.course.load(assessment.course_id)
        if course is not None and (
            attempt.user_id == principal.user_id or can_manage(principal, course)
        ):
            return attempt, assessment, course
    raise NotFound(f"No attempt has id {attempt_id}.", field=field)


async def _managed_question(
    info: AssessmentsInfo, question_id: uuid.UUID
) -> tuple[QuestionRow, CourseFacts]:
    question = await info.context.loaders.question.load(question_id)
    course = (
        None if question is None else await info.context.loaders.course.load(question.course_id)
    )
    if question is None or course is None or not can_manage(_principal(info), course):
        raise NotFound(f"No question of yours has id {question_id}.", field="id")
    return question, course


# Federated references


@strawberry.federation.type(keys=["id"], description="A person using the platform.")
class User:
    id: strawberry.ID

    @strawberry.field(description="This user's attempts, oldest first (themself and admins).")
    async def submissions(
        self, info: AssessmentsInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Attempt]:
        page = await info.context.service.assessments.attempts_of_user(
            _principal(info), parse_id(self.id), first=first, after=after
        )
        return Connection.from_page(page, attempt_of)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="A course of the catalogue.")
class Course:
    id: strawberry.ID

    @strawberry.field(
        description="The course's assessments: all for its instructors, the published ones "
        "for enrolled learners, none for anyone else."
    )
    async def assessments(self, info: AssessmentsInfo) -> list[Assessment]:
        principal = info.context.principal
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


# Questions


@strawberry.type
class Choice:
    id: strawberry.ID
    text: str


@strawberry.type
class RubricCriterion:
    criterion: str
    points: float


@strawberry.type(description="A test the learner's code runs against.")
class CodeTestCase:
    name: str
    code: str
    hidden: bool


@strawberry.type
class AcceptedAnswer:
    value: str
    match: MatchMode  # type: ignore[valid-type]
    case_sensitive: bool


@strawberry.type(description="The correct answer of a question.")
class AnswerKey:
    choice_ids: list[strawberry.ID] | None = None
    boolean_value: bool | None = None
    accepted_answers: list[AcceptedAnswer] | None = None
    numeric_answer: float | None = None
    tolerance: float | None = None
    tests: list[CodeTestCase] | None = None


def _key_of(kind: kinds.QuestionKind, spec: dict[str, Any]) -> AnswerKey:
    key = kinds.answer_key(kind, spec)
    return AnswerKey(
        choice_ids=[strawberry.ID(item) for item in key["choiceIds"]]
        if "choiceIds" in key
        else None,
        boolean_value=key.get("boolean"),
        accepted_answers=[
            AcceptedAnswer(
                value=item["value"],
                match=kinds.MatchMode(item["match"]),
                case_sensitive=item["caseSensitive"],
            )
            for item in key.get("accepted", [])
        ]
        or None,
        numeric_answer=key.get("number"),
        tolerance=key.get("tolerance"),
        tests=[
            CodeTestCase(name=t["name"], code=t["code"], hidden=t["hidden"])
            for t in key.get("tests", [])
        ]
        or None,
    )


@strawberry.type(description="A question of a course's bank.")
class Question:
    id: strawberry.ID
    kind: QuestionKind  # type: ignore[valid-type]
    prompt: str
    points: float
    difficulty: Difficulty  # type: ignore[valid-type]
    tags: list[str]
    archived: bool
    created_at: datetime
    row: strawberry.Private[QuestionRow]
    key_visible: strawberry.Private[bool]

    @strawberry.field
    def course(self) -> Course:
        return Course(id=_id(self.row.course_id))

    @strawberry.field(description="The choices of a choice question (without the key).")
    def choices(self) -> list[Choice]:
        spec = kinds.public_spec(kinds.QuestionKind(self.row.kind), self.row.spec)
        return [Choice(id=strawberry.ID(c["id"]), text=c["text"]) for c in spec.get("choices", [])]

    @strawberry.field(description="How an essay is marked.")
    def rubric(self) -> list[RubricCriterion]:
        return [
            RubricCriterion(criterion=c["criterion"], points=c["points"])
            for c in self.row.spec.get("rubric", [])
        ]

    @strawberry.field(description="The code a code question starts from.")
    def starter_code(self) -> str | None:
        return self.row.spec.get("starter") if self.row.kind == kinds.QuestionKind.CODE else None

    @strawberry.field(description="The test cases learners may see (hidden ones are not listed).")
    def visible_tests(self) -> list[CodeTestCase]:
        spec = kinds.public_spec(kinds.QuestionKind(self.row.kind), self.row.spec)
        return [
            CodeTestCase(name=t["name"], code=t["code"], hidden=False)
            for t in spec.get("tests", [])
        ]

    @strawberry.field(
        description="The correct answer: for the course's instructors, and for a learner "
        "reviewing an attempt whose grades are released. FORBIDDEN otherwise."
    )
    def answer_key(self) -> AnswerKey:
        if not self.key_visible:
            raise Forbidden("Correct answers are shown once grades are released.")
        return _key_of(kinds.QuestionKind(self.row.kind), self.row.spec)


def question_of(row: QuestionRow, *, key_visible: bool) -> Question:
    return Question(
        id=_id(row.id),
        kind=kinds.QuestionKind(row.kind),
        prompt=row.prompt,
        points=row.points,
        difficulty=kinds.Difficulty(row.difficulty),
        tags=list(row.tags),
        archived=row.archived,
        created_at=row.created_at,
        row=row,
        key_visible=key_visible,
    )


# Assessments


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
    def course(self) -> Course:
        return Course(id=_id(self.row.course_id))

    @strawberry.field(description="How many questions an attempt has.")
    async def question_count(self, info: AssessmentsInfo) -> int:
        slots = await info.context.loaders.slots.load(self.row.id)
        return sum(1 if slot.question_id else slot.draw_count for slot in slots)

    @strawberry.field(description="The questions and draws, in order (the course's instructors).")
    async def slots(self, info: AssessmentsInfo) -> list[AssessmentSlot]:
        course = await _course(info, self.row.course_id)
        if not can_manage(_principal(info), course):
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
            (self.row.id, _principal(info).user_id)
        )
        return max(0, self.row.attempts_allowed - (used or 0))

    @strawberry.field(description="Every attempt for the course's instructors; your own otherwise.")
    async def attempts(
        self, info: AssessmentsInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Attempt]:
        course = await _course(info, self.row.course_id)
        page = await info.context.service.assessments.attempts_of_assessment(
            _principal(info), course, self.row, first=first, after=after
        )
        return Connection.from_page(page, attempt_of)

    @strawberry.field(description="Score statistics and item analysis (the course's instructors).")
    async def statistics(self, info: AssessmentsInfo) -> AssessmentStatistics:
        course = await _course(info, self.row.course_id)
        stats = await info.context.service.assessments.statistics(
            _principal(info), course, self.row
        )
        return statistics_of(stats)

    @classmethod
    async def resolve_reference(cls, info: AssessmentsInfo, id: strawberry.ID) -> Assessment | None:
        try:
            row, _ = await _visible_assessment(info, parse_id(id))
        except NotFound:
            return None
        return assessment_of(row)


def assessment_of(row: AssessmentRow) -> Assessment:
    return Assessment(
        id=_id(row.id),
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


# Attempts


@strawberry.type(description="What a learner answered (the fields their question takes).")
class Response:
    choice_ids: list[strawberry.ID] | None = None
    boolean_value: bool | None = None
    text: str | None = None
    number: float | None = None
    code: str | None = None


def response_of(data: dict[str, Any]) -> Response:
    return Response(
        choice_ids=[strawberry.ID(c) for c in data["choiceIds"]] if "choiceIds" in data else None,
        boolean_value=data.get("boolean"),
        text=data.get("text"),
        number=data.get("number"),
        code=data.get("code"),
    )


@strawberry.type
class CodeTestResult:
    name: str
    verdict: str = strawberry.field(
        description="PASSED, FAILED, ERROR, TIMEOUT, MEMORY_LIMIT or REFUSED."
    )
    message: str | None = strawberry.field(description="null for hidden tests.")


@strawberry.type(
    description="One question of an attempt with its answer and, once released, its grade."
)
class AttemptAnswer:
    question: Question
    response: Response | None
    saved_at: datetime | None
    released: strawberry.Private[bool]
    row: strawberry.Private[AnswerRow | None]

    def _graded(self) -> AnswerRow | None:
        return self.row if self.released and self.row is not None else None

    @strawberry.field(description="null until graded and released.")
    def points(self) -> float | None:
        row = self._graded()
        return None if row is None or row.graded_at is None else row.points

    @strawberry.field
    def max_points(self) -> float:
        return self.question.points

    @strawberry.field(description="null until graded and released.")
    def correct(self) -> bool | None:
        row = self._graded()
        return None if row is None or row.graded_at is None else row.correct

    @strawberry.field
    def feedback(self) -> str | None:
        row = self._graded()
        return None if row is None else row.feedback

    @strawberry.field(description="Scores per rubric criterion, in the rubric's order.")
    def rubric_scores(self) -> list[float] | None:
        row = self._graded()
        if row is None or row.rubric_scores is None:
            return None
        return [float(item["score"]) for item in row.rubric_scores]

    @strawberry.field(description="Each test case's verdict for a code question.")
    def code_results(self) -> list[CodeTestResult] | None:
        row = self._graded()
        if row is None or not row.details:
            return None
        return [
            CodeTestResult(
                name=t["name"], verdict=t["verdict"], message=None if t["hidden"] else t["message"]
            )
            for t in row.details.get("tests", [])
        ]

    @strawberry.field(description="Submitted, and waiting for an instructor's grade.")
    def awaiting_grading(self) -> bool:
        return self.row is not None and self.row.graded_at is None and self.response is not None


@strawberry.federation.type(keys=["id"], description="A learner's go at an assessment.")
class Attempt:
    id: strawberry.ID
    number: int
    status: AttemptStatus  # type: ignore[valid-type]
    started_at: datetime
    deadline: datetime | None
    submitted_at: datetime | None
    auto_submitted: bool = strawberry.field(description="Submitted when time ran out.")
    max_score: float
    row: strawberry.Private[AttemptRow]

    @strawberry.field
    async def assessment(self, info: AssessmentsInfo) -> Assessment:
        row = await info.context.loaders.assessment.load(self.row.assessment_id)
        assert row is not None
        return assessment_of(row)

    @strawberry.field
    def user(self) -> User:
        return User(id=_id(self.row.user_id))

    async def _released(self, info: AssessmentsInfo) -> bool:
        """Whether the caller sees grades and keys: the instructors always, the learner once
        grades are released."""
        assessment = await info.context.loaders.assessment.load(self.row.assessment_id)
        assert assessment is not None
        course = await info.context.loaders.course.load(assessment.course_id)
        if course is not None and can_manage(_principal(info), course):
            return True
        return results_released(assessment, self.row)

    @strawberry.field(description="Whether scores, feedback and correct answers are visible.")
    async def grades_released(self, info: AssessmentsInfo) -> bool:
        return await self._released(info)

    @strawberry.field(description="null until graded and released.")
    async def score(self, info: AssessmentsInfo) -> float | None:
        return self.row.score if await self._released(info) else None

    @strawberry.field(description="Score as a percentage; null until graded and released.")
    async def percent(self, info: AssessmentsInfo) -> float | None:
        return percent(self.row) if await self._released(info) else None

    @strawberry.field(description="null until graded and released.")
    async def passed(self, info: AssessmentsInfo) -> bool | None:
        value = percent(self.row)
        if value is None or not await self._released(info):
            return None
        assessment = await info.context.loaders.assessment.load(self.row.assessment_id)
        assert assessment is not None
        return value >= assessment.passing_score

    @strawberry.field(description="The attempt's questions in order, with answers and grades.")
    async def answers(self, info: AssessmentsInfo) -> list[AttemptAnswer]:
        released = await self._released(info)
        reviewing = released and self.row.status != AttemptStatusValue.IN_PROGRESS
        rows = {
            row.question_id: row for row in await info.context.loaders.answers.load(self.row.id)
        }
        questions = await info.context.loaders.question.load_many(self.row.question_ids)
        result = []
        for question in questions:
            assert question is not None
            answer = rows.get(question.id)
            response = answer.response if answer is not None and answer.response else None
            result.append(
                AttemptAnswer(
                    question=question_of(question, key_visible=reviewing),
                    response=None if response is None else response_of(response),
                    saved_at=None if answer is None else answer.saved_at,
                    released=released,
                    row=answer,
                )
            )
        return result

    @classmethod
    async def resolve_reference(cls, info: AssessmentsInfo, id: strawberry.ID) -> Attempt | None:
        try:
            attempt, _, _ = await _visible_attempt(info, parse_id(id))
        except NotFound:
            return None
        return attempt_of(attempt)


def attempt_of(row: AttemptRow) -> Attempt:
    return Attempt(
        id=_id(row.id),
        number=row.number,
        status=AttemptStatusValue(row.status),
        started_at=row.created_at,
        deadline=row.deadline,
        submitted_at=row.submitted_at,
        auto_submitted=row.auto_submitted,
        max_score=row.max_score,
        row=row,
    )


# Queries


@strawberry.type
class Query:
    @strawberry.field(description="An assessment you may see; NOT_FOUND otherwise.")
    async def assessment(self, info: AssessmentsInfo, id: strawberry.ID) -> Assessment:
        row, _ = await _visible_assessment(info, parse_id(id, field="id"), field="id")
        return assessment_of(row)

    @strawberry.field(
        extensions=[signed_in()],
        description="An attempt: its learner's, or one of your course's.",
    )
    async def attempt(self, info: AssessmentsInfo, id: strawberry.ID) -> Attempt:
        row, _, _ = await _visible_attempt(info, parse_id(id, field="id"), field="id")
        return attempt_of(row)

    @strawberry.field(description="A question of a bank you manage.")
    async def question(self, info: AssessmentsInfo, id: strawberry.ID) -> Question:
        row, _ = await _managed_question(info, parse_id(id, field="id"))
        return question_of(row, key_visible=True)

    @strawberry.field(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A course's question bank (its instructors and admins).",
    )
    async def question_bank(
        self,
        info: AssessmentsInfo,
        course_id: strawberry.ID,
        tag: str | None = None,
        kind: QuestionKind | None = None,  # type: ignore[valid-type]
        archived: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Question]:
        course = await _course(info, parse_id(course_id, field="courseId"))
        page = await info.context.service.bank.listing(
            _principal(info),
            course,
            tag=tag,
            kind=kind,
            archived=archived,
            first=first,
            after=after,
        )
        return Connection.from_page(page, lambda row: question_of(row, key_visible=True))


# Mutations


@strawberry.input
class ChoiceInput:
    text: str
    correct: bool = False


@strawberry.input
class AcceptedAnswerInput:
    value: str
    match: MatchMode = kinds.MatchMode.EXACT  # type: ignore[valid-type]
    case_sensitive: bool = False


@strawberry.input
class RubricCriterionInput:
    criterion: str
    points: float


@strawberry.input
class CodeTestInput:
    name: str
    code: str = strawberry.field(
        description='Python run after the learner\'s code: "assert f(2) == 4".'
    )
    hidden: bool = True


@strawberry.input(description="A question; give the fields its kind takes.")
class QuestionInput:
    course_id: strawberry.ID
    kind: QuestionKind  # type: ignore[valid-type]
    prompt: str
    points: float = 1.0
    difficulty: Difficulty = kinds.Difficulty.MEDIUM  # type: ignore[valid-type]
    tags: list[str] = strawberry.field(default_factory=list)
    choices: list[ChoiceInput] = strawberry.field(default_factory=list)
    boolean_answer: bool | None = None
    accepted_answers: list[AcceptedAnswerInput] = strawberry.field(default_factory=list)
    numeric_answer: float | None = None
    tolerance: float = 0.0
    rubric: list[RubricCriterionInput] = strawberry.field(default_factory=list)
    starter_code: str = ""
    tests: list[CodeTestInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateQuestionInput:
    id: strawberry.ID
    question: QuestionInput = strawberry.field(
        description="The whole new question (courseId must not change)."
    )


@strawberry.input
class ArchiveQuestionInput:
    id: strawberry.ID
    archived: bool = True


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


@strawberry.input
class StartAttemptInput:
    assessment_id: strawberry.ID


@strawberry.input(description="An answer; give the field its question's kind takes.")
class AnswerInput:
    question_id: strawberry.ID
    choice_ids: list[strawberry.ID] | None = None
    boolean_value: bool | None = None
    text: str | None = None
    number: float | None = None
    code: str | None = None


@strawberry.input
class SaveAnswersInput:
    attempt_id: strawberry.ID
    answers: list[AnswerInput]


@strawberry.input
class SubmitAttemptInput:
    attempt_id: strawberry.ID
    answers: list[AnswerInput] = strawberry.field(
        default_factory=list, description="Last answers, saved before submitting."
    )


@strawberry.input
class GradeAnswerInput:
    attempt_id: strawberry.ID
    question_id: strawberry.ID
    points: float | None = None
    rubric_scores: list[float] | None = strawberry.field(
        default=None, description="One score per rubric criterion, instead of points."
    )
    feedback: str | None = None


@strawberry.type
class QuestionPayload:
    question: Question


@strawberry.type
class AssessmentPayload:
    assessment: Assessment


@strawberry.type
class AttemptPayload:
    attempt: Attempt


def _draft(data: QuestionInput) -> tuple[kinds.QuestionDraft, QuestionMeta]:
    draft = kinds.QuestionDraft(
        kind=kinds.QuestionKind(data.kind),
        prompt=data.prompt,
        points=data.points,
        choices=tuple(kinds.Choice(c.text, c.correct) for c in data.choices),
        boolean_answer=data.boolean_answer,
        accepted=tuple(
            kinds.Accepted(a.value, kinds.MatchMode(a.match), a.case_sensitive)
            for a in data.accepted_answers
        ),
        numeric_answer=data.numeric_answer,
        tolerance=data.tolerance,
        rubric=tuple(kinds.Criterion(r.criterion, r.points) for r in data.rubric),
        starter_code=data.starter_code,
        tests=tuple(kinds.TestSpec(t.name, t.code, t.hidden) for t in data.tests),
    )
    return draft, QuestionMeta(kinds.Difficulty(data.difficulty), data.tags)


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


def _answers(items: list[AnswerInput]) -> list[AnswerDraft]:
    drafts = []
    for item in items:
        response: dict[str, Any] = {}
        if item.choice_ids is not None:
            response["choiceIds"] = [str(c) for c in item.choice_ids]
        if item.boolean_value is not None:
            response["boolean"] = item.boolean_value
        if item.text is not None:
            response["text"] = item.text
        if item.number is not None:
            response["number"] = item.number
        if item.code is not None:
            response["code"] = item.code
        drafts.append(AnswerDraft(parse_id(item.question_id, field="questionId"), response))
    return drafts


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Add a question to a course's bank (its instructors).",
    )
    async def create_question(self, info: AssessmentsInfo, input: QuestionInput) -> QuestionPayload:
        course = await _course(info, parse_id(input.course_id, field="courseId"))
        draft, meta = _draft(input)
        row = await info.context.service.bank.create(_principal(info), course, draft, meta)
        return QuestionPayload(question=question_of(row, key_visible=True))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Replace a question of the bank.",
    )
    async def update_question(
        self, info: AssessmentsInfo, input: UpdateQuestionInput
    ) -> QuestionPayload:
        question, course = await _managed_question(info, parse_id(input.id, field="id"))
        if parse_id(input.question.course_id, field="courseId") != question.course_id:
            raise Forbidden("A question stays in its course's bank.")
        draft, meta = _draft(input.question)
        row = await info.context.service.bank.update(
            _principal(info), course, question, draft, meta
        )
        return QuestionPayload(question=question_of(row, key_visible=True))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Take a question out of draws and listings, or put it back.",
    )
    async def archive_question(
        self, info: AssessmentsInfo, input: ArchiveQuestionInput
    ) -> QuestionPayload:
        question, course = await _managed_question(info, parse_id(input.id, field="id"))
        row = await info.context.service.bank.set_archived(
            _principal(info), course, question, input.archived
        )
        return QuestionPayload(question=question_of(row, key_visible=True))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Create an assessment, unpublished (the course's instructors).",
    )
    async def create_assessment(
        self, info: AssessmentsInfo, input: AssessmentInput
    ) -> AssessmentPayload:
        course = await _course(info, parse_id(input.course_id, field="courseId"))
        row = await info.context.service.assessments.create(
            _principal(info), course, _assessment_draft(input)
        )
        return AssessmentPayload(assessment=assessment_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Change an assessment's settings (and questions, before any attempt).",
    )
    async def update_assessment(
        self, info: AssessmentsInfo, input: UpdateAssessmentInput
    ) -> AssessmentPayload:
        assessment, course = await _visible_assessment(info, parse_id(input.id, field="id"), "id")
        if parse_id(input.assessment.course_id, field="courseId") != assessment.course_id:
            raise Forbidden("An assessment stays in its course.")
        row = await info.context.service.assessments.update(
            _principal(info),
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
        assessment, course = await _visible_assessment(info, parse_id(input.id, field="id"), "id")
        row = await info.context.service.assessments.set_published(
            _principal(info), course, assessment, input.published
        )
        return AssessmentPayload(assessment=assessment_of(row))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Show learners their scores, feedback and the correct answers.",
    )
    async def release_grades(
        self, info: AssessmentsInfo, input: ReleaseGradesInput
    ) -> AssessmentPayload:
        assessment, course = await _visible_assessment(info, parse_id(input.assessment_id))
        row = await info.context.service.assessments.release_grades(
            _principal(info), course, assessment
        )
        return AssessmentPayload(assessment=assessment_of(row))

    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Start an attempt; the timer starts. Resumes one in progress.",
    )
    async def start_attempt(
        self, info: AssessmentsInfo, input: StartAttemptInput
    ) -> AttemptPayload:
        assessment, course = await _visible_assessment(info, parse_id(input.assessment_id))
        enrolled = await info.context.loaders.enrolled.load(assessment.course_id)
        row = await info.context.service.assessments.start(
            _principal(info), course, enrolled, assessment
        )
        return AttemptPayload(attempt=attempt_of(row))

    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Save answers of your attempt in progress (before its deadline).",
    )
    async def save_answers(self, info: AssessmentsInfo, input: SaveAnswersInput) -> AttemptPayload:
        row = await info.context.service.assessments.save_answers(
            _principal(info), parse_id(input.attempt_id, field="attemptId"), _answers(input.answers)
        )
        return AttemptPayload(attempt=attempt_of(row))

    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Submit your attempt; objective and code questions are graded.",
    )
    async def submit_attempt(
        self, info: AssessmentsInfo, input: SubmitAttemptInput
    ) -> AttemptPayload:
        row = await info.context.service.assessments.submit(
            _principal(info), parse_id(input.attempt_id, field="attemptId"), _answers(input.answers)
        )
        return AttemptPayload(attempt=attempt_of(row))

    @strawberry.mutation(
        extensions=[scopes(["grading:write"], ["admin"])],
        description="Grade one answer, with feedback (the course's instructors).",
    )
    async def grade_answer(self, info: AssessmentsInfo, input: GradeAnswerInput) -> AttemptPayload:
        attempt, _, course = await _visible_attempt(
            info, parse_id(input.attempt_id, field="attemptId")
        )
        row = await info.context.service.assessments.grade_answer(
            _principal(info),
            course,
            attempt,
            parse_id(input.question_id, field="questionId"),
            ManualGrade(
                points=input.points, rubric_scores=input.rubric_scores, feedback=input.feedback
            ),
        )
        return AttemptPayload(attempt=attempt_of(row))


schema = ServiceSchema(query=Query, mutation=Mutation, types=[User, Course, Assessment, Attempt])
