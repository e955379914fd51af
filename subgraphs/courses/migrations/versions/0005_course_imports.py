"""course imports: Common Cartridge imports queued with their package and run in the
background, kept with their report item by item

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "courses"


def upgrade() -> None:
    op.create_table(
        "course_imports",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="QUEUED", nullable=False),
        sa.Column("progress", sa.Float(), server_default="0", nullable=False),
        sa.Column("package", sa.LargeBinary(), nullable=True),
        sa.Column(
            "items",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("course_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.courses.id"],
            name=op.f("fk_course_imports_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_imports")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_course_imports_owner_id"), "course_imports", ["owner_id"], schema=SCHEMA
    )
    op.create_index(
        "ix_course_imports_queued",
        "course_imports",
        ["created_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'QUEUED'"),
    )


def downgrade() -> None:
    op.drop_index("ix_course_imports_queued", table_name="course_imports", schema=SCHEMA)
    op.drop_index(op.f("ix_course_imports_owner_id"), table_name="course_imports", schema=SCHEMA)
    op.drop_table("course_imports", schema=SCHEMA)
