"""Assessments and their attempts: authoring, availability, timing, grading, release.

Rules a learner meets:
- an assessment is seen and taken only when published, by learners enrolled in its course;
- an attempt starts within the availability window and while attempts remain; its deadline
  is the time limit from the start, or the window's end, whichever comes first;
- answers are saved and submitted only before the deadline (plus a few seconds for the
  network: LMS_SUBMISSION_GRACE_SECONDS). Past it, the attempt is submitted with what was
  saved before, and the late request gets a FORBIDDEN error that says so;
- choice, true/false, short answer and numeric questions are graded at submission, code
  questions by the grader worker (over RabbitMQ, common/grading.py), essays by an
  instructor against the rubric;
- scores, feedback and correct answers reach the learner only once grades are released
  (by an instructor, or at once when the assessment says so and nothing waits for a person).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock, validation
from common.auth import Principal
from common.db.batches import rows_by_id, rows_grouped
from common.db.pagination import Page, fetch_page
from common.errors import BadUserInput, Conflict, Forbidden, NotFound
from common.events.envelope import Event
from common.events.outbox import emit
from common.grading import CodeTest, GraderClient, SandboxLimits, Verdict
from common.graphql.catalog import CourseFacts
from common.telemetry import tracing
from common.telemetry.metrics import business_event
from subgraphs.assessments import analytics
from subgraphs.assessments.adaptive.testing import AdaptiveTesting
from subgraphs.assessments.bank import can_manage, require_manager
from subgraphs.assessments.models import (
    EVENTS,
    AnswerRow,
    AssessmentRow,
    AttemptRow,
    QuestionRow,
    SlotRow,
)
from subgraphs.assessments.questions import (
    MANUAL_KINDS,
    QuestionKind,
    grade_objective,
    normalise_response,
)

MAX_SLOTS = 200
MAX_DRAW = 50
MAX_ANSWERS_PER_SAVE = 200
MAX_FEEDBACK = 10_000


class AssessmentKind(StrEnum):
    QUIZ = "QUIZ"
    EXAM = "EXAM"
    ASSIGNMENT = "ASSIGNMENT"


class AttemptStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUBMITTED = "SUBMITTED"  # waiting for an instructor to grade essays
    GRADED = "GRADED"


@dataclass(frozen=True, slots=True)
class Slot:
    question_id: uuid.UUID | None = None
    draw_tag: str | None = None
    draw_count: int = 1


@dataclass(frozen=True, slots=True)
class AssessmentDraft:
    title: str
    kind: AssessmentKind
    description: str = ""
    time_limit_minutes: int | None = None
    attempts_allowed: int | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    passing_score: float = 50.0
    release_immediately: bool = False
    slots: Sequence[Slot] = ()


@dataclass(frozen=True, slots=True)
class AnswerDraft:
    question_id: uuid.UUID
    response: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ManualGrade:
    points: float | None = None
    rubric_scores: Sequence[float] | None = None
    feedback: str | None = None


@dataclass(slots=True)
class _Graded:
    points: float | None
    correct: bool | None
    details: dict[str, Any] | None = field(default=None)


def results_released(assessment: AssessmentRow, attempt: AttemptRow) -> bool:
    if assessment.grades_released_at is not None:
        return True
    return assessment.release_immediately and attempt.status == AttemptStatus.GRADED


def can_see_assessment(
    principal: Principal | None, course: CourseFacts, enrolled: bool, assessment: AssessmentRow
) -> bool:
    if principal is not None and can_manage(principal, course):
        return True
    return assessment.published and enrolled


def _check_draft(draft: AssessmentDraft) -> None:
    if draft.time_limit_minutes is not None and not 1 <= draft.time_limit_minutes <= 24 * 60:
        raise BadUserInput("timeLimitMinutes must be 1 to 1440.", field="timeLimitMinutes")
    if draft.attempts_allowed is not None and not 1 <= draft.attempts_allowed <= 100:
        raise BadUserInput("attemptsAllowed must be 1 to 100.", field="attemptsAllowed")
    if not 0 <= draft.passing_score <= 100:
        raise BadUserInput("passingScore is a percentage from 0 to 100.", field="passingScore")
    window = (draft.available_from, draft.available_until)
    if any(moment is not None and moment.tzinfo is None for moment in window):
        raise BadUserInput("Availability times need a time zone.", field="availableFrom")
    if None not in window and window[0] >= window[1]:  # type: ignore[operator]
        raise BadUserInput("availableUntil must be after availableFrom.", field="availableUntil")
    if len(draft.description) > 20_000:
        raise BadUserInput("description is at most 20000 characters.", field="description")
    if len(draft.slots) > MAX_SLOTS:
        raise BadUserInput(f"An assessment has at most {MAX_SLOTS} slots.", field="questions")
    for slot in draft.slots:
        if (slot.question_id is None) == (slot.draw_tag is None):
            raise BadUserInput(
                "Each slot is either a questionId or a drawTag with drawCount.", field="questions"
            )
        if not 1 <= slot.draw_count <= MAX_DRAW:
            raise BadUserInput(f"drawCount must be 1 to {MAX_DRAW}.", field="questions")


class AssessmentsService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        grader: GraderClient,
        grace: timedelta = timedelta(seconds=5),
        sandbox: SandboxLimits | None = None,
    ) -> None:
        self.sessions = sessions
        self.grader = grader  # code runs in the grader worker, never in this process
        self.grace = grace  # requests in flight when the clock runs out still count
        self.sandbox = sandbox or SandboxLimits()
        self.adaptive = AdaptiveTesting(sessions)

    # Authoring

    async def create(
        self, principal: Principal, course: CourseFacts, draft: AssessmentDraft
    ) -> AssessmentRow:
        async with self.sessions.begin() as session:
            row = await self.create_in(session, principal, course, draft)
            await session.refresh(row)
        return row

    async def create_in(
        self,
        session: AsyncSession,
        principal: Principal,
        course: CourseFacts,
        draft: AssessmentDraft,
    ) -> AssessmentRow:
        """`create` in the caller's transaction (an import writes questions and assessments
        in one)."""
        require_manager(principal, course, "create assessments for it")
        _check_draft(draft)
        row = AssessmentRow(
            course_id=course.id,
            title=validation.text(draft.title, field="title", low=3, high=200),
            description=draft.description.strip(),
            kind=draft.kind.value,
            time_limit_minutes=draft.time_limit_minutes,
            attempts_allowed=draft.attempts_allowed,
            available_from=draft.available_from,
            available_until=draft.available_until,
            passing_score=draft.passing_score,
            release_immediately=draft.release_immediately,
            created_by=principal.user_id,
        )
        session.add(row)
        await session.flush()
        await self._write_slots(session, course, row.id, draft.slots)
        return row

    async def update(
        self,
        principal: Principal,
        course: CourseFacts,
        assessment: AssessmentRow,
        draft: AssessmentDraft,
        replace_slots: bool,
    ) -> AssessmentRow:
        """Settings can change at any time; the questions only until someone has started."""
        require_manager(principal, course, "edit its assessments")
        _check_draft(draft)
        async with self.sessions.begin() as session:
            row = await session.get(AssessmentRow, assessment.id, with_for_update=True)
            assert row is not None
            row.title = validation.text(draft.title, field="title", low=3, high=200)
            row.description = draft.description.strip()
            row.kind = draft.kind.value
            row.time_limit_minutes = draft.time_limit_minutes
            row.attempts_allowed = draft.attempts_allowed
            row.available_from = draft.available_from
            row.available_until = draft.available_until
            row.passing_score = draft.passing_score
            row.release_immediately = draft.release_immediately
            row.updated_at = clock.now()
            if replace_slots:
                started = await session.scalar(
                    select(func.count()).where(AttemptRow.assessment_id == row.id)
                )
                if started:
                    raise Conflict(
                        "Learners have started this assessment; its questions can no longer "
                        "change.",
                        field="questions",
                    )
                await session.execute(
                    delete(SlotRow)
                    .where(SlotRow.assessment_id == row.id)
                    .execution_options(synchronize_session=False)
                )
                await self._write_slots(session, course, row.id, draft.slots)
        return row

    async def _write_slots(
        self,
        session: AsyncSession,
        course: CourseFacts,
        assessment_id: uuid.UUID,
        slots: Sequence[Slot],
    ) -> None:
        fixed = [slot.question_id for slot in slots if slot.question_id is not None]
        if fixed:
            found = set(
                await session.scalars(
                    select(QuestionRow.id).where(
                        QuestionRow.id.in_(fixed), QuestionRow.course_id == course.id
                    )
                )
            )
            missing = [str(item) for item in fixed if item not in found]
            if missing:
                raise BadUserInput(
                    f"These questions are not in this course's bank: {', '.join(missing)}.",
                    field="questions",
                )
        for position, slot in enumerate(slots):
            tag = None
            if slot.draw_tag is not None:
                tag = validation.tags([slot.draw_tag], limit=1, owner="A draw", field="questions")[
                    0
                ]
            session.add(
                SlotRow(
                    assessment_id=assessment_id,
                    position=position,
                    question_id=slot.question_id,
                    draw_tag=tag,
                    draw_count=slot.draw_count if tag else 1,
                )
            )

    async def set_published(
        self, principal: Principal, course: CourseFacts, assessment: AssessmentRow, published: bool
    ) -> AssessmentRow:
        require_manager(principal, course, "publish its assessments")
        async with self.sessions.begin() as session:
            row = await session.get(AssessmentRow, assessment.id, with_for_update=True)
            assert row is not None
            if published:
                await self._check_publishable(session, row)
            row.published = published
            row.updated_at = clock.now()
            await emit(
                session,
                EVENTS.outbox,
                Event(
                    "assessment.published",
                    {
                        "assessment_id": str(row.id),
                        "course_id": str(row.course_id),
                        "published": published,
                    },
                    "assessments",
                ),
            )
        return row

    async def _check_publishable(self, session: AsyncSession, row: AssessmentRow) -> None:
        slots = list(await session.scalars(select(SlotRow).where(SlotRow.assessment_id == row.id)))
        if not slots:
            raise BadUserInput("An assessment needs at least one question to be published.")
        for slot in slots:
            if slot.draw_tag is None:
                continue
            available = await session.scalar(
                select(func.count()).where(
                    QuestionRow.course_id == row.course_id,
                    QuestionRow.archived.is_(False),
                    QuestionRow.tags.contains([slot.draw_tag]),
                )
            )
            if (available or 0) < slot.draw_count:
                raise BadUserInput(
                    f"The bank has {available} questions tagged {slot.draw_tag!r}; the "
                    f"assessment draws {slot.draw_count}.",
                    field="questions",
                )

    async def release_grades(
        self, principal: Principal, course: CourseFacts, assessment: AssessmentRow
    ) -> AssessmentRow:
        require_manager(principal, course, "release its grades")
        async with self.sessions.begin() as session:
            row = await session.get(AssessmentRow, assessment.id, with_for_update=True)
            assert row is not None
            row.grades_released_at = row.grades_released_at or clock.now()
        return row

    # Reading

    async def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, AssessmentRow]:
        return await rows_by_id(self.sessions, AssessmentRow, ids)

    async def of_courses(self, course_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AssessmentRow]]:
        return await rows_grouped(
            self.sessions,
            AssessmentRow,
            AssessmentRow.course_id,
            course_ids,
            AssessmentRow.created_at,
            AssessmentRow.id,
        )

    async def slots_of(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SlotRow]]:
        return await rows_grouped(
            self.sessions,
            SlotRow,
            SlotRow.assessment_id,
            ids,
            SlotRow.assessment_id,
            SlotRow.position,
        )

    async def attempts_by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, AttemptRow]:
        return await rows_by_id(self.sessions, AttemptRow, ids)

    async def answers_of(self, attempt_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AnswerRow]]:
        return await rows_grouped(self.sessions, AnswerRow, AnswerRow.attempt_id, attempt_ids)

    async def attempt_counts(
        self, keys: list[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
        """Attempts per (assessment, user)."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(AttemptRow.assessment_id, AttemptRow.user_id, func.count())
                .where(
                    AttemptRow.assessment_id.in_({a for a, _ in keys}),
                    AttemptRow.user_id.in_({u for _, u in keys}),
                )
                .group_by(AttemptRow.assessment_id, AttemptRow.user_id)
            )
            return {(a, u): count for a, u, count in rows}

    async def attempts_of_user(
        self, principal: Principal, user_id: uuid.UUID, *, first: int | None, after: str | None
    ) -> Page[AttemptRow]:
        if not principal.is_self_or_admin(user_id):
            raise Forbidden("You can only list your own submissions.")
        query = select(AttemptRow).where(AttemptRow.user_id == user_id)
        async with self.sessions() as session:
            return await fetch_page(
                session,
                query,
                created_at=AttemptRow.created_at,
                row_id=AttemptRow.id,
                first=first,
                after=after,
            )

    async def attempts_of_assessment(
        self,
        principal: Principal,
        course: CourseFacts,
        assessment: AssessmentRow,
        *,
        first: int | None,
        after: str | None,
    ) -> Page[AttemptRow]:
        """Every learner's attempts for the course's instructors; a learner's own otherwise."""
        query = select(AttemptRow).where(AttemptRow.assessment_id == assessment.id)
        if not can_manage(principal, course):
            query = query.where(AttemptRow.user_id == principal.user_id)
        async with self.sessions() as session:
            return await fetch_page(
                session,
                query,
                created_at=AttemptRow.created_at,
                row_id=AttemptRow.id,
                first=first,
                after=after,
            )

    # Taking

    async def start(
        self, principal: Principal, course: CourseFacts, enrolled: bool, assessment: AssessmentRow
    ) -> AttemptRow:
        """A new attempt, or the one in progress (starting twice resumes it)."""
        if not enrolled:
            raise Forbidden("Only learners enrolled in the course can take its assessments.")
        if not assessment.published:
            raise Forbidden("This assessment is not open yet.")
        now = clock.now()
        if assessment.available_from is not None and now < assessment.available_from:
            raise Forbidden(f"This assessment opens at {assessment.available_from.isoformat()}.")
        if assessment.available_until is not None and now >= assessment.available_until:
            raise Forbidden(f"This assessment closed at {assessment.available_until.isoformat()}.")
        expired = await self._expire_overdue(principal.user_id, assessment.id)
        async with self.sessions.begin() as session:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"attempt:{assessment.id}:{principal.user_id}"},
            )
            attempts = list(
                await session.scalars(
                    select(AttemptRow).where(
                        AttemptRow.assessment_id == assessment.id,
                        AttemptRow.user_id == principal.user_id,
                    )
                )
            )
            current = [a for a in attempts if a.status == AttemptStatus.IN_PROGRESS]
            if current:
                return current[0]
            allowed = assessment.attempts_allowed
            if allowed is not None and len(attempts) >= allowed:
                raise Forbidden(
                    f"You have used all {allowed} attempt{'s' if allowed > 1 else ''} of this "
                    "assessment." + (" Your last attempt ran out of time." if expired else "")
                )
            adaptive = await self.adaptive.settings_for(session, assessment.id)
            if adaptive is None:
                question_ids = await self._draw(session, assessment)
                points = await session.scalar(
                    select(func.coalesce(func.sum(QuestionRow.points), 0.0)).where(
                        QuestionRow.id.in_(question_ids)
                    )
                )
            else:  # one question at a time; scored on the instructor's scale
                question_ids = [await self.adaptive.first_question(session, assessment, adaptive)]
                points = adaptive.scale_high - adaptive.scale_low
            deadlines = []
            if assessment.time_limit_minutes is not None:
                deadlines.append(now + timedelta(minutes=assessment.time_limit_minutes))
            if assessment.available_until is not None:
                deadlines.append(assessment.available_until)
            attempt = AttemptRow(
                assessment_id=assessment.id,
                user_id=principal.user_id,
                number=len(attempts) + 1,
                question_ids=question_ids,
                created_at=now,
                deadline=min(deadlines) if deadlines else None,
                max_score=float(points or 0.0),
            )
            session.add(attempt)
            await session.flush()
            return attempt

    async def _draw(self, session: AsyncSession, assessment: AssessmentRow) -> list[uuid.UUID]:
        slots = await session.scalars(
            select(SlotRow).where(SlotRow.assessment_id == assessment.id).order_by(SlotRow.position)
        )
        chosen: list[uuid.UUID] = []
        for slot in slots:
            if slot.question_id is not None:
                if slot.question_id not in chosen:
                    chosen.append(slot.question_id)
                continue
            drawn = await session.scalars(
                select(QuestionRow.id)
                .where(
                    QuestionRow.course_id == assessment.course_id,
                    QuestionRow.archived.is_(False),
                    QuestionRow.tags.contains([slot.draw_tag]),
                    QuestionRow.id.not_in(chosen) if chosen else true(),
                )
                .order_by(func.random())
                .limit(slot.draw_count)
            )
            chosen.extend(drawn)
        if not chosen:
            raise Conflict("This assessment has no questions to answer.")
        return chosen

    async def _own_attempt(
        self, session: AsyncSession, principal: Principal, attempt_id: uuid.UUID
    ) -> AttemptRow:
        attempt = await session.get(AttemptRow, attempt_id, with_for_update=True)
        if attempt is None or attempt.user_id != principal.user_id:
            raise NotFound(f"You have no attempt with id {attempt_id}.", field="attemptId")
        return attempt

    async def save_answers(
        self, principal: Principal, attempt_id: uuid.UUID, answers: Sequence[AnswerDraft]
    ) -> AttemptRow:
        if len(answers) > MAX_ANSWERS_PER_SAVE:
            raise BadUserInput(
                f"Save at most {MAX_ANSWERS_PER_SAVE} answers at once.", field="answers"
            )
        async with self.sessions.begin() as session:
            attempt = await self._own_attempt(session, principal, attempt_id)
            if attempt.status != AttemptStatus.IN_PROGRESS:
                raise Conflict("This attempt has been submitted; its answers cannot change.")
            overdue = self._overdue(attempt)
            if not overdue and not await self._take_answers(session, attempt, answers):
                return attempt
        if not overdue:  # the adaptive test ended with this answer
            return await self._finalise(attempt.id, auto=False)
        await self._finalise(attempt.id, auto=True)
        raise self._late(attempt)

    async def _take_answers(
        self, session: AsyncSession, attempt: AttemptRow, answers: Sequence[AnswerDraft]
    ) -> bool:
        """Store the answers; for an adaptive test, grade the current question's and give
        the next (subgraphs/assessments/adaptive/testing.py). True when the test ended."""
        settings = await self.adaptive.settings_for(session, attempt.assessment_id)
        if settings is None:
            await self._store_answers(session, attempt, answers)
            return False
        assessment = await session.get(AssessmentRow, attempt.assessment_id)
        assert assessment is not None
        drafts = [(answer.question_id, answer.response) for answer in answers]
        return await self.adaptive.answer(session, attempt, assessment, settings, drafts)

    async def _store_answers(
        self, session: AsyncSession, attempt: AttemptRow, answers: Sequence[AnswerDraft]
    ) -> None:
        wanted = {answer.question_id for answer in answers}
        unknown = wanted - set(attempt.question_ids)
        if unknown:
            raise BadUserInput(
                f"These questions are not part of this attempt: {', '.join(map(str, unknown))}.",
                field="answers",
            )
        questions = {
            row.id: row
            for row in await session.scalars(select(QuestionRow).where(QuestionRow.id.in_(wanted)))
        }
        now = clock.now()
        for answer in answers:
            question = questions[answer.question_id]
            response = normalise_response(
                QuestionKind(question.kind), answer.response, question.spec
            )
            row = await session.get(AnswerRow, (attempt.id, question.id))
            if row is None:
                session.add(
                    AnswerRow(
                        attempt_id=attempt.id,
                        question_id=question.id,
                        response=response,
                        saved_at=now,
                    )
                )
            else:
                row.response = response
                row.saved_at = now

    def _overdue(self, attempt: AttemptRow) -> bool:
        return attempt.deadline is not None and clock.now() > attempt.deadline + self.grace

    def _late(self, attempt: AttemptRow) -> Forbidden:
        assert attempt.deadline is not None
        return Forbidden(
            f"Time ran out at {attempt.deadline.isoformat()}; the answers saved before then "
            "were submitted."
        )

    async def submit(
        self, principal: Principal, attempt_id: uuid.UUID, answers: Sequence[AnswerDraft] = ()
    ) -> AttemptRow:
        """Submit (optionally saving last answers first) and grade what can be graded now."""
        async with self.sessions.begin() as session:
            attempt = await self._own_attempt(session, principal, attempt_id)
            if attempt.status != AttemptStatus.IN_PROGRESS:
                raise Conflict("This attempt has already been submitted.")
            overdue = self._overdue(attempt)
            if not overdue and answers:
                await self._take_answers(session, attempt, answers)
        finalised = await self._finalise(attempt_id, auto=overdue)
        if overdue:
            raise self._late(attempt)
        return finalised

    async def _expire_overdue(self, user_id: uuid.UUID, assessment_id: uuid.UUID) -> bool:
        """Submit the learner's attempt whose time ran out without a submission."""
        async with self.sessions() as session:
            overdue = await session.scalar(
                select(AttemptRow.id).where(
                    AttemptRow.assessment_id == assessment_id,
                    AttemptRow.user_id == user_id,
                    AttemptRow.status == AttemptStatus.IN_PROGRESS,
                    AttemptRow.deadline < clock.now() - self.grace,
                )
            )
        if overdue is None:
            return False
        await self._finalise(overdue, auto=True)
        return True

    async def _finalise(self, attempt_id: uuid.UUID, *, auto: bool) -> AttemptRow:
        """Grade an attempt in progress and mark it submitted. Code runs outside any
        transaction; a concurrent submission of the same attempt loses with CONFLICT."""
        async with self.sessions() as session:
            attempt = await session.get(AttemptRow, attempt_id)
            assert attempt is not None
            questions = {
                row.id: row
                for row in await session.scalars(
                    select(QuestionRow).where(QuestionRow.id.in_(attempt.question_ids))
                )
            }
            answers = {
                row.question_id: row
                for row in await session.scalars(
                    select(AnswerRow).where(AnswerRow.attempt_id == attempt_id)
                )
            }
            responses = {qid: dict(row.response) for qid, row in answers.items()}
        with tracing.span("grading", {"lms.questions": len(attempt.question_ids)}):
            grades = await self._grade_all(attempt.question_ids, questions, responses)
        now = clock.now()
        async with self.sessions.begin() as session:
            attempt = await session.get(AttemptRow, attempt_id, with_for_update=True)
            assert attempt is not None
            if attempt.status != AttemptStatus.IN_PROGRESS:
                raise Conflict("This attempt has already been submitted.")
            for question_id, graded in grades.items():
                row = await session.get(AnswerRow, (attempt_id, question_id))
                if row is None:
                    row = AnswerRow(attempt_id=attempt_id, question_id=question_id, response={})
                    session.add(row)
                row.response = responses.get(question_id, {})
                row.points, row.correct, row.details = graded.points, graded.correct, graded.details
                row.graded_at = now if graded.points is not None else None
            attempt.submitted_at = min(now, attempt.deadline) if auto and attempt.deadline else now
            attempt.auto_submitted = auto
            self._settle(attempt, [g.points for g in grades.values()], now)
            adaptive = await self.adaptive.settings_for(session, attempt.assessment_id)
            if adaptive is not None:
                correct = {qid: graded.correct for qid, graded in grades.items()}
                await self.adaptive.settle(session, attempt, adaptive, correct)
            await self._announce_submission(session, attempt)
            await self._announce_grade(session, attempt)
            return attempt

    async def _announce_submission(self, session: AsyncSession, attempt: AttemptRow) -> None:
        """submission.submitted, in the submitting transaction (plagiarism checks follow it)."""
        assessment = await session.get(AssessmentRow, attempt.assessment_id)
        assert assessment is not None
        await emit(
            session,
            EVENTS.outbox,
            Event(
                "submission.submitted",
                {
                    "attempt_id": str(attempt.id),
                    "assessment_id": str(assessment.id),
                    "course_id": str(assessment.course_id),
                    "user_id": str(attempt.user_id),
                },
                "assessments",
            ),
        )

    def _settle(self, attempt: AttemptRow, points: Sequence[float | None], now: datetime) -> None:
        if any(value is None for value in points):
            attempt.status = AttemptStatus.SUBMITTED.value
            attempt.score = None
            attempt.graded_at = None
            return
        attempt.status = AttemptStatus.GRADED.value
        attempt.score = round(sum(value or 0.0 for value in points), 4)
        attempt.graded_at = now

    async def _grade_all(
        self,
        question_ids: Sequence[uuid.UUID],
        questions: dict[uuid.UUID, QuestionRow],
        responses: dict[uuid.UUID, dict[str, Any]],
    ) -> dict[uuid.UUID, _Graded]:
        grades: dict[uuid.UUID, _Graded] = {}
        code: list[tuple[uuid.UUID, QuestionRow, str]] = []
        for question_id in question_ids:
            question = questions[question_id]
            kind = QuestionKind(question.kind)
            response = responses.get(question_id)
            if kind is QuestionKind.CODE:
                source = (response or {}).get("code", "")
                if source.strip():
                    code.append((question_id, question, source))
                    continue
                grades[question_id] = _Graded(0.0, False)
            elif kind in MANUAL_KINDS:
                answered = bool(response and str(response.get("text", "")).strip())
                grades[question_id] = _Graded(None, None) if answered else _Graded(0.0, False)
            else:
                grade = grade_objective(kind, question.spec, response, question.points)
                grades[question_id] = _Graded(grade.points, grade.correct)
        results = await asyncio.gather(
            *(self._grade_code(question, source) for _, question, source in code)
        )
        for (question_id, _, _), graded in zip(code, results, strict=True):
            grades[question_id] = graded
        return grades

    async def _grade_code(self, question: QuestionRow, source: str) -> _Graded:
        tests = question.spec["tests"]
        result = await self.grader.grade(
            source, [CodeTest(test["name"], test["code"]) for test in tests], self.sandbox
        )
        outcomes = [
            {
                "name": test["name"],
                "hidden": test["hidden"],
                "verdict": outcome.verdict.value,
                "message": outcome.message,
            }
            for test, outcome in zip(tests, result.outcomes, strict=True)
        ]
        share = result.passed / len(tests) if tests else 0.0
        return _Graded(
            round(share * question.points, 4),
            all(o.verdict is Verdict.PASSED for o in result.outcomes),
            {"tests": outcomes, "output": result.output[:4000], "durationMs": result.duration_ms},
        )

    # Grading by a person

    async def grade_answer(
        self,
        principal: Principal,
        course: CourseFacts,
        attempt: AttemptRow,
        question_id: uuid.UUID,
        grade: ManualGrade,
    ) -> AttemptRow:
        """An instructor's grade (and feedback) for one answer; also how any automatic grade
        is overridden. The attempt is GRADED once no answer waits for a person."""
        require_manager(principal, course, "grade its attempts")
        if question_id not in attempt.question_ids:
            raise NotFound(
                f"Question {question_id} is not part of this attempt.", field="questionId"
            )
        if grade.feedback is not None and len(grade.feedback) > MAX_FEEDBACK:
            raise BadUserInput(f"feedback is at most {MAX_FEEDBACK} characters.", field="feedback")
        now = clock.now()
        async with self.sessions.begin() as session:
            row = await session.get(AttemptRow, attempt.id, with_for_update=True)
            assert row is not None
            if row.status == AttemptStatus.IN_PROGRESS:
                raise Conflict("The learner has not submitted this attempt yet.")
            question = await session.get(QuestionRow, question_id)
            assert question is not None
            points, rubric_scores = self._manual_points(question, grade)
            answer = await session.get(AnswerRow, (row.id, question_id))
            if answer is None:
                answer = AnswerRow(attempt_id=row.id, question_id=question_id, response={})
                session.add(answer)
            answer.points = points
            answer.correct = points >= question.points - 1e-9
            answer.rubric_scores = rubric_scores
            if grade.feedback is not None:
                answer.feedback = grade.feedback.strip() or None
            answer.graded_by = principal.user_id
            answer.graded_at = now
            await session.flush()
            graded = {
                a.question_id: a.points if a.graded_at is not None else None
                for a in await session.scalars(
                    select(AnswerRow).where(AnswerRow.attempt_id == row.id)
                )
            }
            self._settle(row, [graded.get(qid) for qid in row.question_ids], now)
            await self._announce_grade(session, row)
            return row

    async def _announce_grade(self, session: AsyncSession, attempt: AttemptRow) -> None:
        """submission.graded, in the grading transaction, once nothing waits for a person."""
        if attempt.status != AttemptStatus.GRADED or attempt.score is None:
            return
        assessment = await session.get(AssessmentRow, attempt.assessment_id)
        assert assessment is not None
        value = percent(attempt) or 0.0
        with tracing.span(
            "submission graded",
            {"lms.attempt.id": str(attempt.id), "lms.passed": value >= assessment.passing_score},
        ):
            await self._emit_graded(session, attempt, assessment, value)

    async def _emit_graded(
        self, session: AsyncSession, attempt: AttemptRow, assessment: AssessmentRow, value: float
    ) -> None:
        await emit(
            session,
            EVENTS.outbox,
            Event(
                "submission.graded",
                {
                    "attempt_id": str(attempt.id),
                    "assessment_id": str(assessment.id),
                    "assessment_title": assessment.title,
                    "course_id": str(assessment.course_id),
                    "user_id": str(attempt.user_id),
                    "score": attempt.score,
                    "max_score": attempt.max_score,
                    "percent": value,
                    "passed": value >= assessment.passing_score,
                    "items": await self._graded_items(session, attempt),
                },
                "assessments",
            ),
        )
        business_event(session, "assessments", "submission_graded")

    async def _graded_items(
        self, session: AsyncSession, attempt: AttemptRow
    ) -> list[dict[str, Any]]:
        """Each question's result in the attempt, for submission.graded: what item analysis
        (a question's difficulty and discrimination) is computed from."""
        rows = await session.execute(
            select(QuestionRow.id, QuestionRow.points, AnswerRow.points, AnswerRow.correct)
            .join(
                AnswerRow,
                (AnswerRow.question_id == QuestionRow.id) & (AnswerRow.attempt_id == attempt.id),
                isouter=True,
            )
            .where(QuestionRow.id.in_(attempt.question_ids))
        )
        found = {row[0]: row[1:] for row in rows}
        items = []
        for question_id in attempt.question_ids:
            if question_id not in found:
                continue
            maximum, points, correct = found[question_id]
            items.append(
                {
                    "question_id": str(question_id),
                    "points": points or 0.0,
                    "max_points": maximum,
                    "correct": bool(correct),
                }
            )
        return items

    def _manual_points(
        self, question: QuestionRow, grade: ManualGrade
    ) -> tuple[float, list[dict[str, Any]] | None]:
        rubric = question.spec.get("rubric") or []
        if grade.rubric_scores is not None:
            if len(grade.rubric_scores) != len(rubric) or not rubric:
                raise BadUserInput(
                    f"rubricScores needs one score per criterion ({len(rubric)}).",
                    field="rubricScores",
                )
            scored = []
            for criterion, score in zip(rubric, grade.rubric_scores, strict=True):
                if not 0 <= score <= criterion["points"]:
                    raise BadUserInput(
                        f"{criterion['criterion']!r} is scored 0 to {criterion['points']:g}.",
                        field="rubricScores",
                    )
                scored.append({**criterion, "score": score})
            return round(sum(grade.rubric_scores), 4), scored
        if grade.points is None or not 0 <= grade.points <= question.points:
            raise BadUserInput(
                f"points must be 0 to {question.points:g} for this question.", field="points"
            )
        return grade.points, None

    # Analytics

    async def statistics(
        self, principal: Principal, course: CourseFacts, assessment: AssessmentRow
    ) -> analytics.AssessmentStats:
        require_manager(principal, course, "see its analytics")
        async with self.sessions() as session:
            attempts = list(
                await session.scalars(
                    select(AttemptRow).where(
                        AttemptRow.assessment_id == assessment.id,
                        AttemptRow.status == AttemptStatus.GRADED,
                    )
                )
            )
            answers = await session.scalars(
                select(AnswerRow).where(AnswerRow.attempt_id.in_([a.id for a in attempts]))
            )
            by_attempt: dict[uuid.UUID, list[AnswerRow]] = {}
            for answer in answers:
                by_attempt.setdefault(answer.attempt_id, []).append(answer)
            question_ids = {qid for attempt in attempts for qid in attempt.question_ids}
            rows = await session.execute(
                select(QuestionRow.id, QuestionRow.points).where(QuestionRow.id.in_(question_ids))
            )
            points = dict(rows.all())
        scored = [
            analytics.ScoredAttempt(
                user_id=attempt.user_id,
                percent=percent(attempt) or 0.0,
                answers=[
                    analytics.ScoredAnswer(
                        a.question_id,
                        a.points or 0.0,
                        points.get(a.question_id, 0.0),
                        bool(a.correct),
                    )
                    for a in by_attempt.get(attempt.id, [])
                ],
            )
            for attempt in attempts
        ]
        return analytics.summarise(scored, assessment.passing_score)


def percent(attempt: AttemptRow) -> float | None:
    if attempt.score is None:
        return None
    if attempt.max_score <= 0:
        return 0.0
    return round(attempt.score / attempt.max_score * 100, 2)
