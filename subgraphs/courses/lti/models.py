"""LTI tables, in the courses schema: tools, their placements, learners' opaque subjects."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from common.db.metadata import created_timestamp, uuid_primary_key
from subgraphs.courses.models import Base


class LtiToolRow(Base):
    """A tool an administrator registered: what we send it and how we check what it sends."""

    __tablename__ = "lti_tools"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    deployment_ids: Mapped[list[str]] = mapped_column(ARRAY(String(255)))
    login_url: Mapped[str] = mapped_column(String(2048))
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(String(2048)))
    target_link_uri: Mapped[str] = mapped_column(String(2048))
    jwks_url: Mapped[str | None] = mapped_column(String(2048))
    public_jwk: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    shares_name: Mapped[bool] = mapped_column(Boolean, server_default="false")
    shares_email: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()


class LtiLinkRow(Base):
    """A tool placed in a course module (an LTI resource link), in the module's order; a
    graded one (an "external tool" assignment) also has the line item the platform made for
    it, a due date, and the release rule of its grades."""

    __tablename__ = "lti_links"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    tool_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.lti_tools.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.courses.id", ondelete="CASCADE"), index=True
    )
    module_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.modules.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    target_link_uri: Mapped[str] = mapped_column(String(2048))
    position: Mapped[int] = mapped_column(Integer)
    graded: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_immediately: Mapped[bool] = mapped_column(Boolean, server_default="true", default=True)
    grades_released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()


class LtiSubjectRow(Base):
    """The stable opaque `sub` a user has in every launch, so tools never see our user ids."""

    __tablename__ = "lti_subjects"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_timestamp()


class LtiLineItemRow(Base):
    """A gradebook column a tool keeps in a course (AGS line item), owned by that tool,
    optionally tied to one of its links there; `made_by_platform` for the one a graded
    link's placement made (at most one a link), which the tool posts to but does not own
    the shape of."""

    __tablename__ = "lti_line_items"
    __table_args__ = (
        Index(
            "uq_lti_line_items_platform_link",
            "link_id",
            unique=True,
            postgresql_where=text("made_by_platform"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_primary_key()
    tool_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.lti_tools.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.courses.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("courses.lti_links.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    score_maximum: Mapped[float] = mapped_column(Float)
    resource_id: Mapped[str | None] = mapped_column(String(255))
    tag: Mapped[str | None] = mapped_column(String(255))
    made_by_platform: Mapped[bool] = mapped_column(Boolean, server_default="false", default=False)
    created_at: Mapped[datetime] = created_timestamp()


class LtiScoreRow(Base):
    """A user's latest score on a line item, as the tool last posted it."""

    __tablename__ = "lti_scores"

    line_item_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("courses.lti_line_items.id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
