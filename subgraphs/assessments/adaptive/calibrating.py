"""Calibrating a course's bank from its stored attempts: every graded attempt is a responder,
every objective question an item (right or wrong; unanswered where not given). Items with
fewer than `min_responses` responses keep priors from their authored difficulty (model
PRIOR) and are given adaptively with those; choice and true/false questions with at least
THREE_PL_MIN_RESPONSES get a guessing parameter (3PL).

Run by `lms calibrate-items`, by instructors (`calibrateItems`), and on a schedule by the
assessments worker for courses with answers graded since their last calibration.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import clock
from subgraphs.assessments.adaptive.calibration import ItemSpec, calibrate
from subgraphs.assessments.adaptive.items import (
    OBJECTIVE_KINDS,
    PRIOR_DIFFICULTY,
    guessing_rate,
    prior_item,
)
from subgraphs.assessments.adaptive.models import ItemParametersRow
from subgraphs.assessments.models import AnswerRow, AttemptRow, QuestionRow

log = logging.getLogger(__name__)

THREE_PL_MIN_RESPONSES = 500


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    course_id: uuid.UUID
    responders: int
    calibrated: int
    on_priors: int


class Calibrator:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        min_responses: int,
        interval_seconds: float = 0,
    ) -> None:
        self.sessions = sessions
        self.min_responses = min_responses
        self.interval_seconds = interval_seconds  # of the worker's schedule (0: none)

    async def calibrate_course(self, course_id: uuid.UUID) -> CalibrationReport:
        async with self.sessions() as session:
            questions = list(
                await session.scalars(
                    select(QuestionRow)
                    .where(
                        QuestionRow.course_id == course_id,
                        QuestionRow.kind.in_([kind.value for kind in OBJECTIVE_KINDS]),
                    )
                    .order_by(QuestionRow.id)
                )
            )
            rows = await session.execute(
                select(AnswerRow.attempt_id, AnswerRow.question_id, AnswerRow.correct)
                .join(AttemptRow, AttemptRow.id == AnswerRow.attempt_id)
                .where(
                    AnswerRow.question_id.in_([q.id for q in questions]),
                    AnswerRow.correct.is_not(None),
                    AttemptRow.status == "GRADED",
                )
            )
            answers = [(a, q, c) for a, q, c in rows]
        column = {question.id: index for index, question in enumerate(questions)}
        people = {attempt_id: i for i, attempt_id in enumerate({a for a, _, _ in answers})}
        matrix = np.full((len(people), len(questions)), np.nan)
        for attempt_id, question_id, correct in answers:
            matrix[people[attempt_id], column[question_id]] = 1.0 if correct else 0.0
        counts = (~np.isnan(matrix)).sum(axis=0) if people else np.zeros(len(questions))
        specs = [
            ItemSpec(
                prior_b=PRIOR_DIFFICULTY.get(q.difficulty, 0.0),
                guessing=guessing_rate(q) if counts[i] >= THREE_PL_MIN_RESPONSES else None,
            )
            for i, q in enumerate(questions)
        ]
        estimates = (
            (await asyncio.to_thread(calibrate, matrix, specs)).items
            if people and questions
            else []
        )
        now = clock.now()
        calibrated = 0
        async with self.sessions.begin() as session:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"calibration:{course_id}"},
            )
            await session.execute(
                delete(ItemParametersRow).where(ItemParametersRow.course_id == course_id)
            )
            for i, question in enumerate(questions):
                responses = int(counts[i])
                row = ItemParametersRow(
                    question_id=question.id,
                    course_id=course_id,
                    responses=responses,
                    calibrated_at=now,
                )
                if estimates and responses >= self.min_responses:
                    fit = estimates[i]
                    row.model = "3PL" if specs[i].guessing is not None else "2PL"
                    row.a, row.b, row.c = fit.a, fit.b, fit.c
                    row.se_a, row.se_b, row.se_c = fit.se_a, fit.se_b, fit.se_c
                    calibrated += 1
                else:
                    prior = prior_item(question)
                    row.model = "PRIOR"
                    row.a, row.b, row.c = prior.a, prior.b, prior.c
                session.add(row)
        return CalibrationReport(course_id, len(people), calibrated, len(questions) - calibrated)

    async def parameters_of(
        self, course_id: uuid.UUID
    ) -> list[tuple[QuestionRow, ItemParametersRow | None]]:
        """The course's objective questions, oldest first, with their last calibration."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(QuestionRow, ItemParametersRow)
                .outerjoin(ItemParametersRow, ItemParametersRow.question_id == QuestionRow.id)
                .where(
                    QuestionRow.course_id == course_id,
                    QuestionRow.kind.in_([kind.value for kind in OBJECTIVE_KINDS]),
                )
                .order_by(QuestionRow.created_at, QuestionRow.id)
            )
            return [(question, parameters) for question, parameters in rows]

    async def due_courses(self) -> list[uuid.UUID]:
        """Courses whose graded objective answers differ in number from those their last
        calibration counted (new attempts graded, or answers erased)."""
        async with self.sessions() as session:
            graded = await session.execute(
                select(QuestionRow.course_id, func.count())
                .join(AnswerRow, AnswerRow.question_id == QuestionRow.id)
                .join(AttemptRow, AttemptRow.id == AnswerRow.attempt_id)
                .where(
                    QuestionRow.kind.in_([kind.value for kind in OBJECTIVE_KINDS]),
                    AnswerRow.correct.is_not(None),
                    AttemptRow.status == "GRADED",
                )
                .group_by(QuestionRow.course_id)
            )
            counted = await session.execute(
                select(ItemParametersRow.course_id, func.sum(ItemParametersRow.responses)).group_by(
                    ItemParametersRow.course_id
                )
            )
            last = {course: int(total or 0) for course, total in counted}
            return [course for course, total in graded if last.get(course) != total]

    async def calibrate_due(self) -> list[CalibrationReport]:
        return [await self.calibrate_course(course) for course in await self.due_courses()]

    async def run_schedule(self) -> None:
        """The worker's job: calibrate the courses due, then wait `interval_seconds`."""
        while True:
            for report in await self.calibrate_due():
                log.info(
                    "items calibrated",
                    extra={
                        "course_id": str(report.course_id),
                        "responders": report.responders,
                        "calibrated": report.calibrated,
                        "on_priors": report.on_priors,
                    },
                )
            await asyncio.sleep(self.interval_seconds)
