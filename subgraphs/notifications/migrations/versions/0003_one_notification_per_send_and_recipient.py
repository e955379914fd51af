"""one notification per send and recipient

A send (batch_id) that failed half-way is completed by sending again with the same batch_id:
the unique key makes the recipients already served a no-op. It replaces the index on
batch_id alone, of which it is a prefix.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 04:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint(
        op.f("uq_notifications_batch_id_user_id"),
        "notifications",
        ["batch_id", "user_id"],
        schema="notifications",
    )
    op.drop_index(
        op.f("ix_notifications_batch_id"), table_name="notifications", schema="notifications"
    )


def downgrade() -> None:
    op.create_index(
        op.f("ix_notifications_batch_id"),
        "notifications",
        ["batch_id"],
        unique=False,
        schema="notifications",
    )
    op.drop_constraint(
        op.f("uq_notifications_batch_id_user_id"),
        "notifications",
        schema="notifications",
        type_="unique",
    )
