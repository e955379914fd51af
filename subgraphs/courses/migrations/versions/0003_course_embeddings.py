"""course embeddings for semantic search: one vector per course, re-embedded by the worker
when its text changes; every existing course starts due (the worker backfills them)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "courses"


def upgrade() -> None:
    op.create_table(
        "course_embeddings",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("embedded_revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("embedded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.courses.id"],
            name=op.f("fk_course_embeddings_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_course_embeddings")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_course_embeddings_stale",
        "course_embeddings",
        ["course_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("embedded_revision < revision"),
    )
    op.execute("INSERT INTO courses.course_embeddings (course_id) SELECT id FROM courses.courses")


def downgrade() -> None:
    op.drop_table("course_embeddings", schema=SCHEMA)
