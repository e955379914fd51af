"""Tables of the assessments subgraph, all in schema "assessments".

A course's question bank holds questions; an assessment is an ordered list of slots, each a
fixed question or a draw of N random bank questions by tag. Starting an attempt fixes the
attempt's own questions (so draws differ between attempts); answers are kept per attempt
and question, with what grading gave them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import schema_metadata
from common.db.metadata import created_timestamp, uuid_primary_key
from common.events.tables import event_tables

SCHEMA = "assessments"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


EVENTS = event_tables(Base.metadata)  # outbox and inbox: see common/events


class QuestionRow(Base):
    """A question of a course's bank. `spec` holds what its kind needs (choices, the key,
    accepted answers, tolerance, rubric, code tests); the key never leaves the subgraph
    except to those allowed to see it."""

    __tablename__ = "questions"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float, server_default="1")
    difficulty: Mapped[str] = mapped_column(String(10), server_default="MEDIUM")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default="{}")
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    archived: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()
    updated_at: Mapped[datetime] = created_timestamp()

    __table_args__ = (
        Index("ix_questions_course_created", "course_id", "created_at", "id"),
        Index("ix_questions_tags", "tags", postgresql_using="gin"),
    )


class AssessmentRow(Base):
    __tablename__ = "assessments"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    kind: Mapped[str] = mapped_column(String(12))
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    attempts_allowed: Mapped[int | None] = mapped_column(Integer)
    available_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    available_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    passing_score: Mapped[float] = mapped_column(Float, server_default="50")
    published: Mapped[bool] = mapped_column(Boolean, server_default="false")
    release_immediately: Mapped[bool] = mapped_column(Boolean, server_default="false")
    grades_released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()
    updated_at: Mapped[datetime] = created_timestamp()

    __table_args__ = (Index("ix_assessments_course_created", "course_id", "created_at", "id"),)


class SlotRow(Base):
    """Position `position` of an assessment: one fixed question, or `draw_count` random
    questions of the course's bank carrying `draw_tag`."""

    __tablename__ = "slots"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assessments.assessments.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assessments.questions.id", ondelete="RESTRICT")
    )
    draw_tag: Mapped[str | None] = mapped_column(String(50))
    draw_count: Mapped[int] = mapped_column(Integer, server_default="1")

    __table_args__ = (Index("ix_slots_assessment_position", "assessment_id", "position"),)


class AttemptRow(Base):
    __tablename__ = "attempts"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assessments.assessments.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), server_default="IN_PROGRESS")
    question_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    created_at: Mapped[datetime] = created_timestamp()  # when it started
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    auto_submitted: Mapped[bool] = mapped_column(Boolean, server_default="false")
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, server_default="0")
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("assessment_id", "user_id", "number"),
        Index("ix_attempts_user_created", "user_id", "created_at", "id"),
        Index("ix_attempts_assessment_created", "assessment_id", "created_at", "id"),
        # At most one attempt in progress per learner and assessment.
        Index(
            "uq_attempts_in_progress",
            "assessment_id",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'IN_PROGRESS'"),
        ),
    )


class AnswerRow(Base):
    __tablename__ = "answers"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("assessments.attempts.id", ondelete="CASCADE"),
        primary_key=True,
    )
    question_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    saved_at: Mapped[datetime] = created_timestamp()
    points: Mapped[float | None] = mapped_column(Float)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    feedback: Mapped[str | None] = mapped_column(Text)
    rubric_scores: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    graded_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
