"""Taking an ADAPTIVE assessment: one question at a time, each chosen for the learner's
current ability, until the standard error reaches the target, the maximum number of items
is given, the pool is spent, or time runs out.

The assessment's slots make the pool (fixed questions, and every objective question of the
bank carrying a draw's tag); the draws' counts are the content shares to balance. The
learner answers the current question (the attempt's last); it is graded at once, the ability
re-estimated (EAP, MLE once answers are mixed) and the next question appended. Earlier
questions cannot be answered again, later ones are unknown until given. The result is the
ability on the instructor's scale, with its error.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from common.auth import Principal
from common.errors import BadUserInput, Conflict
from common.graphql.catalog import CourseFacts
from subgraphs.assessments.adaptive.irt import Ability, Item, Scale, estimate
from subgraphs.assessments.adaptive.items import OBJECTIVE_KINDS, item_of
from subgraphs.assessments.adaptive.models import (
    AdaptiveSettingsRow,
    AdaptiveStateRow,
    ItemParametersRow,
)
from subgraphs.assessments.adaptive.selection import Exposure, PoolItem, next_item
from subgraphs.assessments.bank import require_manager
from subgraphs.assessments.models import (
    AnswerRow,
    AssessmentRow,
    AttemptRow,
    QuestionRow,
    SlotRow,
)
from subgraphs.assessments.questions import QuestionKind, grade_objective, normalise_response

MAX_ADAPTIVE_ITEMS = 200


@dataclass(frozen=True, slots=True)
class AdaptiveDraft:
    target_se: float = 0.3
    max_items: int | None = None  # the slots' question count
    randomesque: int = 5
    max_exposure: float = 0.25
    scale_low: float = 0.0
    scale_high: float = 100.0


def scale_of(settings: AdaptiveSettingsRow) -> Scale:
    return Scale(settings.scale_low, settings.scale_high)


def _check(draft: AdaptiveDraft) -> None:
    if not 0.05 <= draft.target_se <= 2.0:
        raise BadUserInput("targetStandardError must be 0.05 to 2.", field="targetStandardError")
    if draft.max_items is not None and not 1 <= draft.max_items <= MAX_ADAPTIVE_ITEMS:
        raise BadUserInput(f"maxItems must be 1 to {MAX_ADAPTIVE_ITEMS}.", field="maxItems")
    if not 1 <= draft.randomesque <= 20:
        raise BadUserInput("randomesque must be 1 to 20.", field="randomesque")
    if not 0.01 <= draft.max_exposure <= 1.0:
        raise BadUserInput("maxExposure must be 0.01 to 1.", field="maxExposure")
    if not abs(draft.scale_low) <= 1e6 >= abs(draft.scale_high) or not (
        draft.scale_low < draft.scale_high
    ):
        raise BadUserInput("The scale needs scaleMin < scaleMax, within ±10⁶.", field="scaleMax")


class AdaptiveTesting:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.rng = random.SystemRandom()

    # Settings (the course's instructors)

    async def configure(
        self,
        principal: Principal,
        course: CourseFacts,
        assessment: AssessmentRow,
        draft: AdaptiveDraft | None,
    ) -> None:
        """Make the assessment ADAPTIVE with these settings (None: a fixed test again); only
        before anyone has started it."""
        require_manager(principal, course, "change how its assessments are taken")
        if draft is not None:
            _check(draft)
        async with self.sessions.begin() as session:
            await session.get(AssessmentRow, assessment.id, with_for_update=True)
            started = await session.scalar(
                select(func.count()).where(AttemptRow.assessment_id == assessment.id)
            )
            if started:
                raise Conflict(
                    "Learners have started this assessment; it can no longer change between "
                    "fixed and adaptive."
                )
            await session.execute(
                delete(AdaptiveSettingsRow).where(
                    AdaptiveSettingsRow.assessment_id == assessment.id
                )
            )
            if draft is None:
                return
            slots = list(
                await session.scalars(select(SlotRow).where(SlotRow.assessment_id == assessment.id))
            )
            count = sum(1 if slot.question_id else slot.draw_count for slot in slots)
            session.add(
                AdaptiveSettingsRow(
                    assessment_id=assessment.id,
                    target_se=draft.target_se,
                    max_items=draft.max_items or max(1, min(count, MAX_ADAPTIVE_ITEMS)),
                    randomesque=draft.randomesque,
                    max_exposure=draft.max_exposure,
                    scale_low=draft.scale_low,
                    scale_high=draft.scale_high,
                )
            )

    async def settings_of(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, AdaptiveSettingsRow]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(AdaptiveSettingsRow).where(AdaptiveSettingsRow.assessment_id.in_(ids))
            )
            return {row.assessment_id: row for row in rows}

    async def states_of(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, AdaptiveStateRow]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(AdaptiveStateRow).where(AdaptiveStateRow.attempt_id.in_(ids))
            )
            return {row.attempt_id: row for row in rows}

    # Taking (inside the attempt's transactions, called by AssessmentsService)

    @staticmethod
    async def settings_for(
        session: AsyncSession, assessment_id: uuid.UUID
    ) -> AdaptiveSettingsRow | None:
        return await session.get(AdaptiveSettingsRow, assessment_id)

    async def _pool(
        self, session: AsyncSession, assessment: AssessmentRow
    ) -> tuple[list[PoolItem[uuid.UUID]], dict[str, float]]:
        slots = list(
            await session.scalars(select(SlotRow).where(SlotRow.assessment_id == assessment.id))
        )
        targets: dict[str, float] = {}
        for slot in slots:
            if slot.draw_tag is not None:
                targets[slot.draw_tag] = targets.get(slot.draw_tag, 0.0) + slot.draw_count
        fixed = [slot.question_id for slot in slots if slot.question_id is not None]
        wanted = QuestionRow.id.in_(fixed)
        if targets:
            wanted = wanted | QuestionRow.tags.overlap(list(targets))
        rows = await session.execute(
            select(QuestionRow, ItemParametersRow)
            .outerjoin(ItemParametersRow, ItemParametersRow.question_id == QuestionRow.id)
            .where(
                QuestionRow.course_id == assessment.course_id,
                QuestionRow.archived.is_(False),
                QuestionRow.kind.in_([kind.value for kind in OBJECTIVE_KINDS]),
                wanted,
            )
            .order_by(QuestionRow.id)
        )
        pool = [
            PoolItem(question.id, item_of(question, parameters), frozenset(question.tags))
            for question, parameters in rows
        ]
        return pool, targets

    async def first_question(
        self, session: AsyncSession, assessment: AssessmentRow, settings: AdaptiveSettingsRow
    ) -> uuid.UUID:
        pool, targets = await self._pool(session, assessment)
        chosen = next_item(
            pool,
            [],
            0.0,
            targets=targets,
            randomesque=settings.randomesque,
            rng=self.rng,
            exposure=await _exposure(session, assessment.id, settings, starting=True),
        )
        if chosen is None:
            raise Conflict("This adaptive assessment has no objective questions to give.")
        return chosen.key

    async def answer(
        self,
        session: AsyncSession,
        attempt: AttemptRow,
        assessment: AssessmentRow,
        settings: AdaptiveSettingsRow,
        answers: Sequence[tuple[uuid.UUID, dict[str, object]]],
    ) -> bool:
        """Grade the answer to the current question and give the next one; True when the
        test has ended (the caller then submits the attempt)."""
        answered = {
            row.question_id: row
            for row in await session.scalars(
                select(AnswerRow).where(AnswerRow.attempt_id == attempt.id)
            )
        }
        current = attempt.question_ids[-1]
        if current in answered:
            raise Conflict("This adaptive test has ended; submit the attempt for its result.")
        if len(answers) != 1:
            raise BadUserInput(
                "An adaptive test takes one answer at a time: the current question's.",
                field="answers",
            )
        question_id, response = answers[0]
        if question_id in answered:
            raise Conflict(
                f"Question {question_id} is answered already; an adaptive test does not go back.",
                field="answers",
            )
        if question_id != current:
            raise BadUserInput(
                f"Question {question_id} is not this attempt's current question.",
                field="answers",
            )
        question = await session.get(QuestionRow, question_id)
        assert question is not None
        kind = QuestionKind(question.kind)
        normalised = normalise_response(kind, dict(response), question.spec)
        grade = grade_objective(kind, question.spec, normalised, question.points)
        now = clock.now()
        session.add(
            AnswerRow(
                attempt_id=attempt.id,
                question_id=question_id,
                response=normalised,
                saved_at=now,
                points=grade.points,
                correct=grade.correct,
                graded_at=now,
            )
        )
        right = {qid: bool(row.correct) for qid, row in answered.items()}
        right[question_id] = grade.correct
        pool, targets = await self._pool(session, assessment)
        by_key = {entry.key: entry for entry in pool}
        given = [by_key[qid] for qid in attempt.question_ids if qid in by_key]
        ability = self._estimate(given, right)
        reason = _stop_reason(ability, len(given), settings)
        if reason is None:
            chosen = next_item(
                pool,
                given,
                ability.theta,
                targets=targets,
                randomesque=settings.randomesque,
                rng=self.rng,
                exposure=await _exposure(session, assessment.id, settings),
            )
            if chosen is None:
                reason = "POOL_SPENT"
            else:
                attempt.question_ids = [*attempt.question_ids, chosen.key]
        await self._record(session, attempt.id, ability, len(given), reason)
        return reason is not None

    @staticmethod
    def _estimate(given: list[PoolItem[uuid.UUID]], right: dict[uuid.UUID, bool]) -> Ability:
        items: list[Item] = [entry.item for entry in given if entry.key in right]
        return estimate(items, [right[entry.key] for entry in given if entry.key in right])

    async def _record(
        self,
        session: AsyncSession,
        attempt_id: uuid.UUID,
        ability: Ability,
        items: int,
        reason: str | None,
    ) -> None:
        state = await session.get(AdaptiveStateRow, attempt_id)
        if state is None:
            state = AdaptiveStateRow(attempt_id=attempt_id)
            session.add(state)
        state.theta = round(ability.theta, 4)
        state.standard_error = round(ability.standard_error, 4)
        state.method = ability.method
        state.items = items
        state.stop_reason = reason

    async def settle(
        self,
        session: AsyncSession,
        attempt: AttemptRow,
        settings: AdaptiveSettingsRow,
        correct: dict[uuid.UUID, bool | None],
    ) -> None:
        """At submission: the ability from every question given (one shown and not answered
        counts as wrong), as the attempt's score on the instructor's scale."""
        assessment = await session.get(AssessmentRow, attempt.assessment_id)
        assert assessment is not None
        pool, _ = await self._pool(session, assessment)
        by_key = {entry.key: entry for entry in pool}
        given = [by_key[qid] for qid in attempt.question_ids if qid in by_key]
        ability = self._estimate(given, {qid: bool(value) for qid, value in correct.items()})
        state = await session.get(AdaptiveStateRow, attempt.id)
        reason = state.stop_reason if state is not None and state.stop_reason else "SUBMITTED"
        if attempt.auto_submitted:
            reason = "TIME_LIMIT"
        await self._record(session, attempt.id, ability, len(given), reason)
        scale = scale_of(settings)
        attempt.score = round(scale.score(ability.theta) - scale.low, 4)
        attempt.max_score = scale.high - scale.low


async def _exposure(
    session: AsyncSession,
    assessment_id: uuid.UUID,
    settings: AdaptiveSettingsRow,
    *,
    starting: bool = False,
) -> Exposure[uuid.UUID]:
    """Each question's administrations over the assessment's attempts (`starting`: counting
    the one being started), read from the attempts' question lists, which the transaction
    that gives a question extends."""
    given = func.unnest(AttemptRow.question_ids).label("question_id")
    counts = await session.execute(
        select(given, func.count()).where(AttemptRow.assessment_id == assessment_id).group_by(given)
    )
    tests = await session.scalar(
        select(func.count()).where(AttemptRow.assessment_id == assessment_id)
    )
    return Exposure(
        {row[0]: row[1] for row in counts},
        (tests or 0) + starting,
        settings.max_exposure,
    )


def _stop_reason(ability: Ability, given: int, settings: AdaptiveSettingsRow) -> str | None:
    if ability.standard_error <= settings.target_se:
        return "TARGET_PRECISION"
    if given >= settings.max_items:
        return "MAX_ITEMS"
    return None
