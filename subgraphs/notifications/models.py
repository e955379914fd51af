"""Tables of the notifications subgraph, all in schema "notifications".

A notification is stored once per recipient (the in-app copy); each other channel it goes
out on has a delivery row with its status and attempts. Deliveries waiting for a digest
stay PENDING with `digest` set until the digest job sends them together.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import schema_metadata
from common.db.metadata import created_timestamp, uuid_primary_key
from common.events.tables import event_tables

SCHEMA = "notifications"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


EVENTS = event_tables(Base.metadata)  # outbox and inbox: see common/events


class NotificationRow(Base):
    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    sender_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = created_timestamp()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # one notification per send and recipient: a send is completed by sending it again
        UniqueConstraint("batch_id", "user_id"),
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        Index(
            "ix_notifications_user_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
        ),
    )


class DeliveryRow(Base):
    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    notification_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("notifications.notifications.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), server_default="PENDING")
    digest: Mapped[str | None] = mapped_column(String(15))  # DAILY_DIGEST, WEEKLY_DIGEST
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = created_timestamp()
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_timestamp()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING' AND digest IS NULL"),
        ),
        Index(
            "ix_deliveries_digest",
            "user_id",
            "digest",
            postgresql_where=text("status = 'PENDING' AND digest IS NOT NULL"),
        ),
    )


class TemplateRow(Base):
    """How a category's notifications read on a channel in a locale."""

    __tablename__ = "templates"

    id: Mapped[uuid.UUID] = uuid_primary_key()
    category: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(35))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[bool] = mapped_column(Boolean, server_default="false")
    updated_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    updated_at: Mapped[datetime] = created_timestamp()

    __table_args__ = (UniqueConstraint("category", "channel", "locale"),)


class PreferenceRow(Base):
    """A user's choice for one category on one channel; absent rows take the defaults."""

    __tablename__ = "preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(15))
    updated_at: Mapped[datetime] = created_timestamp()


class ContactRow(Base):
    """Where a user is reached besides the app: phone for SMS, a device token for push."""

    __tablename__ = "contacts"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    push_token: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = created_timestamp()


class DigestRunRow(Base):
    """When each digest last went out, so a restarted job neither skips nor repeats one."""

    __tablename__ = "digest_runs"

    frequency: Mapped[str] = mapped_column(String(15), primary_key=True)
    last_run_at: Mapped[datetime] = created_timestamp()
