"""The courses domain's part of a user's data export: the courses they own or co-teach, the
lesson versions they wrote, the attachments they uploaded and the review steps they took."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select

from common.data_exports import Sections
from subgraphs.courses.models import AttachmentRow, CourseRow, LessonVersionRow, ReviewRow


def user_sections(user_id: uuid.UUID) -> Sections:
    return {
        "courses_taught": select(
            CourseRow.id,
            CourseRow.title,
            CourseRow.slug,
            CourseRow.status,
            (CourseRow.instructor_id == user_id).label("owner"),
            CourseRow.created_at,
            CourseRow.published_at,
        )
        .where(
            or_(CourseRow.instructor_id == user_id, CourseRow.co_instructor_ids.contains([user_id]))
        )
        .order_by(CourseRow.created_at, CourseRow.id),
        "lesson_versions_written": select(
            LessonVersionRow.lesson_id,
            LessonVersionRow.version,
            LessonVersionRow.title,
            LessonVersionRow.body_source,
            LessonVersionRow.body_format,
            LessonVersionRow.created_at,
        )
        .where(LessonVersionRow.author_id == user_id)
        .order_by(LessonVersionRow.created_at, LessonVersionRow.id),
        "attachments_uploaded": select(
            AttachmentRow.id,
            AttachmentRow.lesson_id,
            AttachmentRow.filename,
            AttachmentRow.content_type,
            AttachmentRow.size,
            AttachmentRow.sha256,
            AttachmentRow.created_at,
        )
        .where(AttachmentRow.uploaded_by == user_id)
        .order_by(AttachmentRow.created_at, AttachmentRow.id),
        "reviews": select(
            ReviewRow.course_id, ReviewRow.action, ReviewRow.comment, ReviewRow.created_at
        )
        .where(ReviewRow.actor_id == user_id)
        .order_by(ReviewRow.created_at, ReviewRow.id),
    }
