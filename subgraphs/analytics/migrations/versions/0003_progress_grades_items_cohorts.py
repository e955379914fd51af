"""progress per learner and day, graded attempts, questions per day, learners' cohorts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "analytics"


def _sums(*names: str) -> list[sa.Column[float]]:
    return [sa.Column(name, sa.Float(), server_default="0", nullable=False) for name in names]


def upgrade() -> None:
    op.add_column("learner_days", sa.Column("progress", sa.Float(), nullable=True), schema=SCHEMA)
    op.add_column(
        "learner_courses",
        sa.Column("progress", sa.Float(), server_default="0", nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "learner_attempts",
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("assessment_id", sa.UUID(), nullable=False),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score_scaled", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "items", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_learner_attempts")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_learner_attempts_user_course_graded",
        "learner_attempts",
        ["user_id", "course_id", "graded_at"],
        schema=SCHEMA,
    )
    op.create_table(
        "item_days",
        sa.Column("question_id", sa.UUID(), nullable=False),
        sa.Column("assessment_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("answers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("correct", sa.Integer(), server_default="0", nullable=False),
        *_sums("score_sum", "total_sum", "total_squares", "correct_total_sum"),
        sa.PrimaryKeyConstraint("question_id", "assessment_id", "day", name=op.f("pk_item_days")),
        schema=SCHEMA,
    )
    op.create_index("ix_item_days_course_day", "item_days", ["course_id", "day"], schema=SCHEMA)
    op.create_table(
        "learner_cohorts",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("cohort_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_learner_cohorts")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("learner_cohorts", schema=SCHEMA)
    op.drop_index("ix_item_days_course_day", table_name="item_days", schema=SCHEMA)
    op.drop_table("item_days", schema=SCHEMA)
    op.drop_index(
        "ix_learner_attempts_user_course_graded", table_name="learner_attempts", schema=SCHEMA
    )
    op.drop_table("learner_attempts", schema=SCHEMA)
    op.drop_column("learner_courses", "progress", schema=SCHEMA)
    op.drop_column("learner_days", "progress", schema=SCHEMA)
