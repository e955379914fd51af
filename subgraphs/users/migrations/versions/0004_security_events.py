"""security audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "users"


def upgrade() -> None:
    # kind is a string, not a PostgreSQL enum: a new kind is a change to the Python enum
    # (subgraphs/users/audit.py) and needs no migration.
    op.create_table(
        "security_events",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("subject_id", sa.UUID(), nullable=True),
        sa.Column("client_address", sa.String(length=100), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_security_events_occurred_at_id",
        "security_events",
        ["occurred_at", "id"],
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_security_events_actor_id"), "security_events", ["actor_id"], schema=SCHEMA
    )
    op.create_index(
        op.f("ix_security_events_subject_id"), "security_events", ["subject_id"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("security_events", schema=SCHEMA)
