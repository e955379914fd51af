"""Sign-in sessions: one per refresh-token family, with its device, ended alone

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "users"


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("client_address", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.users.id"],
            name=op.f("fk_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_sessions_ended_at"), "sessions", ["ended_at"], schema=SCHEMA)
    op.create_index(
        "ix_sessions_user_id_created_at_id",
        "sessions",
        ["user_id", "created_at", "id"],
        schema=SCHEMA,
    )
    # the families signed in before this revision: sessions of unknown device
    op.execute(
        """
        INSERT INTO users.sessions (id, user_id, created_at, last_used_at, expires_at, ended_at)
        SELECT family_id, min(user_id::text)::uuid, min(created_at), max(created_at),
               max(expires_at),
               CASE WHEN bool_or(revoked_at IS NULL AND used_at IS NULL) THEN NULL
                    ELSE max(coalesce(revoked_at, used_at)) END
        FROM users.refresh_tokens
        GROUP BY family_id
        """
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_user_id_created_at_id", table_name="sessions", schema=SCHEMA)
    op.drop_index(op.f("ix_sessions_ended_at"), table_name="sessions", schema=SCHEMA)
    op.drop_table("sessions", schema=SCHEMA)
