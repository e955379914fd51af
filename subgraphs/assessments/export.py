"""The assessments domain's part of a user's data export: their attempts and answers, and
the questions and assessments they wrote. Grades, points and feedback are included only once
released to the learner (as `results_released` decides); hidden code-test details never."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from common.data_exports import Sections
from subgraphs.assessments.models import AnswerRow, AssessmentRow, AttemptRow, QuestionRow
from subgraphs.assessments.service import AttemptStatus

# results_released(assessment, attempt), in SQL
RELEASED: ColumnElement[bool] = or_(
    AssessmentRow.grades_released_at.is_not(None),
    and_(AssessmentRow.release_immediately, AttemptRow.status == AttemptStatus.GRADED.value),
)


def _if_released(column: InstrumentedAttribute[Any], name: str) -> ColumnElement[Any]:
    return case((RELEASED, column), else_=None).label(name)


def user_sections(user_id: uuid.UUID) -> Sections:
    return {
        "attempts": select(
            AttemptRow.id,
            AttemptRow.assessment_id,
            AssessmentRow.title.label("assessment_title"),
            AttemptRow.number,
            AttemptRow.status,
            AttemptRow.created_at.label("started_at"),
            AttemptRow.deadline,
            AttemptRow.submitted_at,
            AttemptRow.auto_submitted,
            _if_released(AttemptRow.score, "score"),
            AttemptRow.max_score,
            _if_released(AttemptRow.graded_at, "graded_at"),
        )
        .join(AssessmentRow, AssessmentRow.id == AttemptRow.assessment_id)
        .where(AttemptRow.user_id == user_id)
        .order_by(AttemptRow.created_at, AttemptRow.id),
        "answers": select(
            AnswerRow.attempt_id,
            AnswerRow.question_id,
            AnswerRow.response,
            AnswerRow.saved_at,
            _if_released(AnswerRow.points, "points"),
            _if_released(AnswerRow.correct, "correct"),
            _if_released(AnswerRow.feedback, "feedback"),
            _if_released(AnswerRow.rubric_scores, "rubric_scores"),
        )
        .join(AttemptRow, AttemptRow.id == AnswerRow.attempt_id)
        .join(AssessmentRow, AssessmentRow.id == AttemptRow.assessment_id)
        .where(AttemptRow.user_id == user_id)
        .order_by(AnswerRow.saved_at, AnswerRow.attempt_id, AnswerRow.question_id),
        "questions_written": select(
            QuestionRow.id,
            QuestionRow.course_id,
            QuestionRow.kind,
            QuestionRow.prompt,
            QuestionRow.created_at,
        )
        .where(QuestionRow.created_by == user_id)
        .order_by(QuestionRow.created_at, QuestionRow.id),
        "assessments_written": select(
            AssessmentRow.id, AssessmentRow.course_id, AssessmentRow.title, AssessmentRow.created_at
        )
        .where(AssessmentRow.created_by == user_id)
        .order_by(AssessmentRow.created_at, AssessmentRow.id),
    }
