"""Tables of the enrollments subgraph, all in schema "enrollments"."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import schema_metadata
from common.db.metadata import created_timestamp, uuid_primary_key
from common.events.tables import event_tables

SCHEMA = "enrollments"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


EVENTS = event_tables(Base.metadata)  # outbox and inbox: see common/events


class CohortRow(Base):
    """A named group of a course's learners with start and end dates."""

    __tablename__ = "cohorts"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()

    __table_args__ = (UniqueConstraint("course_id", "name"),)


class EnrollmentRow(Base):
    __tablename__ = "enrollments"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    status: Mapped[str] = mapped_column(String(10), server_default="ACTIVE")
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    cohort_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("enrollments.cohorts.id", ondelete="SET NULL"), index=True
    )
    enrolled_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()
    enrolled_at: Mapped[datetime] = created_timestamp()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = created_timestamp()

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_enrollments_user_created", "user_id", "created_at", "id"),
        Index("ix_enrollments_course_created", "course_id", "created_at", "id"),
    )


class LessonCompletionRow(Base):
    __tablename__ = "lesson_completions"

    enrollment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("enrollments.enrollments.id", ondelete="CASCADE"),
        primary_key=True,
    )
    lesson_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    completed_at: Mapped[datetime] = created_timestamp()


class CertificateRow(Base):
    """Issued once per completed enrollment; the signed credential is kept as issued."""

    __tablename__ = "certificates"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    enrollment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("enrollments.enrollments.id", ondelete="CASCADE"),
        unique=True,
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    learner_name: Mapped[str | None] = mapped_column(String(100))
    course_title: Mapped[str] = mapped_column(String(200))
    credential_jwt: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = created_timestamp()


class LearningPathRow(Base):
    __tablename__ = "learning_paths"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()


class PathCourseRow(Base):
    """A course at a position in a path; prerequisites are other courses of the same path."""

    __tablename__ = "path_courses"

    path_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("enrollments.learning_paths.id", ondelete="CASCADE"),
        primary_key=True,
    )
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    prerequisite_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)),
        server_default="{}",
    )


class CourseAssessmentRow(Base):
    """A course's assessments as the assessments domain announced them (events)."""

    __tablename__ = "course_assessments"

    assessment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    published: Mapped[bool] = mapped_column(Boolean, server_default="false")


class AssessmentResultRow(Base):
    """A learner's best graded result in an assessment; passed ones count toward progress."""

    __tablename__ = "assessment_results"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    assessment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    percent: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    graded_at: Mapped[datetime] = created_timestamp()
