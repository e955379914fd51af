"""The enrollments domain's part of a user's data export: their enrollments with the
lessons they completed, certificates, assessment results, and the cohorts and learning
paths they created."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from common.data_exports import Sections
from subgraphs.enrollments.models import (
    AssessmentResultRow,
    CertificateRow,
    CohortRow,
    EnrollmentRow,
    LearningPathRow,
    LessonCompletionRow,
)


def user_sections(user_id: uuid.UUID) -> Sections:
    return {
        "enrollments": select(
            EnrollmentRow.id,
            EnrollmentRow.course_id,
            EnrollmentRow.status,
            EnrollmentRow.progress,
            EnrollmentRow.cohort_id,
            EnrollmentRow.enrolled_at,
            EnrollmentRow.completed_at,
            EnrollmentRow.dropped_at,
            EnrollmentRow.last_activity_at,
        )
        .where(EnrollmentRow.user_id == user_id)
        .order_by(EnrollmentRow.enrolled_at, EnrollmentRow.id),
        "lesson_completions": select(
            LessonCompletionRow.enrollment_id,
            LessonCompletionRow.lesson_id,
            LessonCompletionRow.completed_at,
        )
        .join(EnrollmentRow, EnrollmentRow.id == LessonCompletionRow.enrollment_id)
        .where(EnrollmentRow.user_id == user_id)
        .order_by(LessonCompletionRow.completed_at, LessonCompletionRow.lesson_id),
        "certificates": select(
            CertificateRow.id,
            CertificateRow.course_id,
            CertificateRow.code,
            CertificateRow.learner_name,
            CertificateRow.course_title,
            CertificateRow.credential_jwt,
            CertificateRow.issued_at,
        )
        .where(CertificateRow.user_id == user_id)
        .order_by(CertificateRow.issued_at, CertificateRow.id),
        "assessment_results": select(
            AssessmentResultRow.assessment_id,
            AssessmentResultRow.course_id,
            AssessmentResultRow.percent,
            AssessmentResultRow.passed,
            AssessmentResultRow.graded_at,
        )
        .where(AssessmentResultRow.user_id == user_id)
        .order_by(AssessmentResultRow.graded_at, AssessmentResultRow.assessment_id),
        "cohorts_created": select(
            CohortRow.id, CohortRow.course_id, CohortRow.name, CohortRow.created_at
        )
        .where(CohortRow.created_by == user_id)
        .order_by(CohortRow.created_at, CohortRow.id),
        "learning_paths_owned": select(
            LearningPathRow.id, LearningPathRow.title, LearningPathRow.created_at
        )
        .where(LearningPathRow.owner_id == user_id)
        .order_by(LearningPathRow.created_at, LearningPathRow.id),
    }
