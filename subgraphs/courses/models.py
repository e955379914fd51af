"""Tables of the courses subgraph, all in schema "courses"."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import schema_metadata
from common.db.metadata import created_timestamp, uuid_primary_key
from common.events.tables import event_tables

SCHEMA = "courses"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


EVENTS = event_tables(Base.metadata)  # outbox and inbox: see common/events


class CategoryRow(Base):
    """A node of the category tree; a root has no parent."""

    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = created_timestamp()


class CourseRow(Base):
    __tablename__ = "courses"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, server_default="")
    description_format: Mapped[str] = mapped_column(String(10), server_default="MARKDOWN")
    description_html: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(12), server_default="DRAFT")
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.categories.id", ondelete="SET NULL"), index=True
    )
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default="{}")
    instructor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    co_instructor_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default="{}"
    )
    language: Mapped[str] = mapped_column(String(35), server_default="en")
    level: Mapped[str] = mapped_column(String(12), server_default="BEGINNER")
    is_template: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    search: Mapped[str | None] = mapped_column(TSVECTOR)
    created_at: Mapped[datetime] = created_timestamp()
    updated_at: Mapped[datetime] = created_timestamp()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_courses_created_at_id", "created_at", "id"),
        Index("ix_courses_tags", "tags", postgresql_using="gin"),
        Index("ix_courses_co_instructors", "co_instructor_ids", postgresql_using="gin"),
        Index("ix_courses_search", "search", postgresql_using="gin"),
        Index(
            "ix_courses_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "extensions.gin_trgm_ops"},
        ),
    )


class ReviewRow(Base):
    """One step of a course's review: submitted, approved or rejected, with who and why."""

    __tablename__ = "reviews"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.courses.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()


class ModuleRow(Base):
    __tablename__ = "modules"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.courses.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_timestamp()


class LessonRow(Base):
    """A lesson and its current content; every saved content is also a LessonVersionRow."""

    __tablename__ = "lessons"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    module_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.modules.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.courses.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    required: Mapped[bool] = mapped_column(Boolean, server_default="true")
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    body_source: Mapped[str] = mapped_column(Text, server_default="")
    body_format: Mapped[str] = mapped_column(String(10), server_default="MARKDOWN")
    body_html: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = created_timestamp()
    updated_at: Mapped[datetime] = created_timestamp()


class LessonVersionRow(Base):
    __tablename__ = "lesson_versions"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    lesson_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.lessons.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(10))
    body_html: Mapped[str] = mapped_column(Text)
    author_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    restored_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_timestamp()

    __table_args__ = (UniqueConstraint("lesson_id", "version"),)


class AttachmentRow(Base):
    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    lesson_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.lessons.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()


class CourseEmbeddingRow(Base):
    """A course's sentence embedding for semantic search (see embedding.py). `revision` counts
    the changes of its text (bumped with the search index); the worker embeds the rows whose
    `embedded_revision` is behind, so a change made while it encoded is embedded next round."""

    __tablename__ = "course_embeddings"

    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.courses.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    embedded_revision: Mapped[int] = mapped_column(Integer, server_default="0")
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_course_embeddings_stale",
            "course_id",
            postgresql_where=text("embedded_revision < revision"),
        ),
    )


class CourseImportRow(Base):
    """A Common Cartridge import: queued with its package, run in the background by the
    subgraph (cartridge/jobs.py), then kept with its report (the package is dropped)."""

    __tablename__ = "course_imports"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), server_default="QUEUED")
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    package: Mapped[bytes | None] = mapped_column(LargeBinary)
    items: Mapped[list[dict[str, object]]] = mapped_column(JSONB, server_default="[]")
    error: Mapped[str | None] = mapped_column(Text)
    course_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.courses.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_timestamp()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_course_imports_queued", "created_at", postgresql_where=text("status = 'QUEUED'")),
    )
