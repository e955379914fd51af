"""GraphQL surface of the question bank: questions, their answer keys, and their mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from common.errors import Forbidden
from common.graphql.access import scopes
from common.graphql.catalog import visible_course
from common.graphql.ids import graphql_id, parse_id
from common.graphql.relay import PAGED, Connection
from subgraphs.assessments import questions as kinds
from subgraphs.assessments.bank import QuestionMeta
from subgraphs.assessments.guards import managed_question
from subgraphs.assessments.loaders import AssessmentsInfo
from subgraphs.assessments.models import QuestionRow

if TYPE_CHECKING:
    from subgraphs.assessments.assessment_schema import Course

QuestionKind = strawberry.enum(kinds.QuestionKind, name="QuestionKind")


Difficulty = strawberry.enum(kinds.Difficulty, name="Difficulty")


MatchMode = strawberry.enum(
    kinds.MatchMode, name="MatchMode", description="How a short answer is compared."
)


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
    def course(
        self,
    ) -> Annotated[Course, strawberry.lazy("subgraphs.assessments.assessment_schema")] | None:
        from subgraphs.assessments.assessment_schema import Course

        return Course(id=graphql_id(self.row.course_id))

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
        id=graphql_id(row.id),
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


@strawberry.type
class QuestionPayload:
    question: Question


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


@strawberry.type
class QuestionQueries:
    @strawberry.field(description="A question of a bank you manage.")
    async def question(self, info: AssessmentsInfo, id: strawberry.ID) -> Question:
        row, _ = await managed_question(info, parse_id(id, field="id"))
        return question_of(row, key_visible=True)

    @strawberry.field(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="A course's question bank (its instructors and admins).",
        directives=[PAGED],
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
        course = await visible_course(
            info.context.loaders.course, parse_id(course_id, field="courseId")
        )
        page = await info.context.service.bank.listing(
            info.context.require_principal(),
            course,
            tag=tag,
            kind=kind,
            archived=archived,
            first=first,
            after=after,
        )
        return Connection.from_page(page, lambda row: question_of(row, key_visible=True))


@strawberry.type
class QuestionMutations:
    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Add a question to a course's bank (its instructors).",
    )
    async def create_question(self, info: AssessmentsInfo, input: QuestionInput) -> QuestionPayload:
        course = await visible_course(
            info.context.loaders.course, parse_id(input.course_id, field="courseId")
        )
        draft, meta = _draft(input)
        row = await info.context.service.bank.create(
            info.context.require_principal(), course, draft, meta
        )
        return QuestionPayload(question=question_of(row, key_visible=True))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Replace a question of the bank.",
    )
    async def update_question(
        self, info: AssessmentsInfo, input: UpdateQuestionInput
    ) -> QuestionPayload:
        question, course = await managed_question(info, parse_id(input.id, field="id"))
        if parse_id(input.question.course_id, field="courseId") != question.course_id:
            raise Forbidden("A question stays in its course's bank.")
        draft, meta = _draft(input.question)
        row = await info.context.service.bank.update(
            info.context.require_principal(), course, question, draft, meta
        )
        return QuestionPayload(question=question_of(row, key_visible=True))

    @strawberry.mutation(
        extensions=[scopes(["courses:write"], ["admin"])],
        description="Take a question out of draws and listings, or put it back.",
    )
    async def archive_question(
        self, info: AssessmentsInfo, input: ArchiveQuestionInput
    ) -> QuestionPayload:
        question, course = await managed_question(info, parse_id(input.id, field="id"))
        row = await info.context.service.bank.set_archived(
            info.context.require_principal(), course, question, input.archived
        )
        return QuestionPayload(question=question_of(row, key_visible=True))
