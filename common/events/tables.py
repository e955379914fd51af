"""The outbox and inbox tables each subgraph keeps in its own schema.

- outbox: events written in the same transaction as the change they describe; the relay
  publishes them and stamps `published_at`.
- inbox: ids of events a consumer has applied, written in the same transaction as the
  effect, so a redelivered event is recognised and applied once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True, slots=True)
class EventTables:
    outbox: Table
    inbox: Table


def event_tables(metadata: MetaData) -> EventTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("type", String(80), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Index("ix_outbox_unpublished", "created_at", postgresql_where=text("published_at IS NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("consumer", String(80), primary_key=True),
        Column("event_type", String(80), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return EventTables(outbox, inbox)
