"""GraphQL surface of attempts: taking an assessment, the answers, grading by a person, and
each user's submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from common.errors import NotFound
from common.graphql.access import scopes, signed_in
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from subgraphs.assessments.adaptive.views import AbilityEstimate, ability_of, current_question_of
from subgraphs.assessments.assessment_schema import Assessment, assessment_of
from subgraphs.assessments.bank import can_manage
from subgraphs.assessments.guards import visible_assessment, visible_attempt
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import AnswerRow, AttemptRow
from subgraphs.assessments.question_schema import Question, question_of
from subgraphs.assessments.service import AnswerDraft, ManualGrade, percent, results_released
from subgraphs.assessments.service import AttemptStatus as AttemptStatusValue

AttemptStatus = strawberry.enum(AttemptStatusValue, name="AttemptStatus")


@strawberry.federation.type(keys=["id"], description="A person using the platform.")
class User:
    id: strawberry.ID

    @strawberry.field(
        description="This user's attempts, oldest first (themself and admins).", directives=[PAGED]
    )
    async def submissions(
        self, info: AssessmentsInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Attempt] | None:
        page = await info.context.service.assessments.attempts_of_user(
            info.context.require_principal(), parse_id(self.id), first=first, after=after
        )
        return Connection.from_page(page, attempt_of)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


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
    def user(self) -> User | None:
        return User(id=graphql_id(self.row.user_id))

    async def _released(self, info: AssessmentsInfo) -> bool:
        """Whether the caller sees grades and keys: the instructors always, the learner once
        grades are released."""
        assessment = await info.context.loaders.assessment.load(self.row.assessment_id)
        assert assessment is not None
        course = await info.context.loaders.course.load(assessment.course_id)
        if course is not None and can_manage(info.context.require_principal(), course):
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

    @strawberry.field(
        description="An adaptive attempt in progress: the one question to answer now (null "
        "once the test has ended, and for fixed tests)."
    )
    async def current_question(self, info: AssessmentsInfo) -> Question | None:
        return await current_question_of(info, self.row)

    @strawberry.field(
        description="An adaptive attempt's ability on the assessment's scale, with its error; "
        "null for fixed tests and until released."
    )
    async def ability(self, info: AssessmentsInfo) -> AbilityEstimate | None:
        return await ability_of(info, self.row) if await self._released(info) else None

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
            attempt, _, _ = await visible_attempt(info, parse_id(id))
        except NotFound:
            return None
        return attempt_of(attempt)


def attempt_of(row: AttemptRow) -> Attempt:
    return Attempt(
        id=graphql_id(row.id),
        number=row.number,
        status=AttemptStatusValue(row.status),
        started_at=row.created_at,
        deadline=row.deadline,
        submitted_at=row.submitted_at,
        auto_submitted=row.auto_submitted,
        max_score=row.max_score,
        row=row,
    )


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
class AttemptPayload:
    attempt: Attempt


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
class AttemptQueries:
    @strawberry.field(
        extensions=[signed_in()],
        description="An attempt: its learner's, or one of your course's.",
    )
    async def attempt(self, info: AssessmentsInfo, id: strawberry.ID) -> Attempt:
        row, _, _ = await visible_attempt(info, parse_id(id, field="id"), field="id")
        return attempt_of(row)


@strawberry.type
class AttemptMutations:
    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Start an attempt; the timer starts. Resumes one in progress.",
    )
    async def start_attempt(
        self, info: AssessmentsInfo, input: StartAttemptInput
    ) -> AttemptPayload:
        assessment, course = await visible_assessment(info, parse_id(input.assessment_id))
        enrolled = await info.context.loaders.enrolled.load(assessment.course_id)
        row = await info.context.service.assessments.start(
            info.context.require_principal(), course, enrolled, assessment
        )
        return AttemptPayload(attempt=attempt_of(row))

    @strawberry.mutation(
        extensions=[scopes(["learning:write"])],
        description="Save answers of your attempt in progress (before its deadline).",
    )
    async def save_answers(self, info: AssessmentsInfo, input: SaveAnswersInput) -> AttemptPayload:
        row = await info.context.service.assessments.save_answers(
            info.context.require_principal(),
            parse_id(input.attempt_id, field="attemptId"),
            _answers(input.answers),
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
            info.context.require_principal(),
            parse_id(input.attempt_id, field="attemptId"),
            _answers(input.answers),
        )
        return AttemptPayload(attempt=attempt_of(row))

    @strawberry.mutation(
        extensions=[scopes(["grading:write"], ["admin"])],
        description="Grade one answer, with feedback (the course's instructors).",
    )
    async def grade_answer(self, info: AssessmentsInfo, input: GradeAnswerInput) -> AttemptPayload:
        attempt, _, course = await visible_attempt(
            info, parse_id(input.attempt_id, field="attemptId")
        )
        row = await info.context.service.assessments.grade_answer(
            info.context.require_principal(),
            course,
            attempt,
            parse_id(input.question_id, field="questionId"),
            ManualGrade(
                points=input.points, rubric_scores=input.rubric_scores, feedback=input.feedback
            ),
        )
        return AttemptPayload(attempt=attempt_of(row))
