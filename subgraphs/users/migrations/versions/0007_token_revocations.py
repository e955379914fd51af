"""Ended sessions recorded in PostgreSQL, the source of truth Redis is written from again

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "users"


def upgrade() -> None:
    op.create_table(
        "token_revocations",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("not_before", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_token_revocations")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_token_revocations_expires_at"), "token_revocations", ["expires_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_token_revocations_expires_at"), table_name="token_revocations", schema=SCHEMA
    )
    op.drop_table("token_revocations", schema=SCHEMA)
