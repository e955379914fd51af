"""The analytics domain's part of a user's data export: their statements, their daily
activity and their graded attempts."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from common.data_exports import Sections
from subgraphs.analytics.models import LearnerAttemptRow, LearnerDayRow, StatementRow


def user_sections(user_id: uuid.UUID) -> Sections:
    return {
        "statements": select(
            StatementRow.id,
            StatementRow.verb,
            StatementRow.object_type,
            StatementRow.object_id,
            StatementRow.course_id,
            StatementRow.registration,
            StatementRow.score_scaled,
            StatementRow.success,
            StatementRow.completion,
            StatementRow.duration_seconds,
            StatementRow.progress,
            StatementRow.timestamp,
            StatementRow.stored,
        )
        .where(StatementRow.actor_id == user_id)
        .order_by(StatementRow.timestamp, StatementRow.id),
        "activity_days": select(
            LearnerDayRow.course_id,
            LearnerDayRow.day,
            LearnerDayRow.statements,
            LearnerDayRow.views,
            LearnerDayRow.completions,
            LearnerDayRow.attempts,
            LearnerDayRow.seconds,
        )
        .where(LearnerDayRow.user_id == user_id)
        .order_by(LearnerDayRow.day, LearnerDayRow.course_id),
        "graded_attempts": select(
            LearnerAttemptRow.attempt_id,
            LearnerAttemptRow.course_id,
            LearnerAttemptRow.assessment_id,
            LearnerAttemptRow.graded_at,
            LearnerAttemptRow.score_scaled,
            LearnerAttemptRow.passed,
        )
        .where(LearnerAttemptRow.user_id == user_id)
        .order_by(LearnerAttemptRow.graded_at, LearnerAttemptRow.attempt_id),
    }
