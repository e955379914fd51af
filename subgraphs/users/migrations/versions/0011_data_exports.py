"""Personal data exports (GDPR art. 15/20) and the parts each subgraph sends for them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "users"


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("requested_by", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("archive", sa.LargeBinary(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.users.id"],
            name=op.f("fk_data_exports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_data_exports_user_id"), "data_exports", ["user_id"], schema=SCHEMA)
    op.create_index(
        op.f("ix_data_exports_expires_at"), "data_exports", ["expires_at"], schema=SCHEMA
    )
    op.create_index(
        "uq_data_exports_requested",
        "data_exports",
        ["user_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'REQUESTED'"),
    )
    op.create_table(
        "data_export_parts",
        sa.Column("export_id", sa.UUID(), nullable=False),
        sa.Column("part", sa.String(length=20), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["export_id"],
            [f"{SCHEMA}.data_exports.id"],
            name=op.f("fk_data_export_parts_export_id_data_exports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("export_id", "part", name=op.f("pk_data_export_parts")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("data_export_parts", schema=SCHEMA)
    op.drop_index("uq_data_exports_requested", table_name="data_exports", schema=SCHEMA)
    op.drop_index(op.f("ix_data_exports_expires_at"), table_name="data_exports", schema=SCHEMA)
    op.drop_index(op.f("ix_data_exports_user_id"), table_name="data_exports", schema=SCHEMA)
    op.drop_table("data_exports", schema=SCHEMA)
