"""co-enrollment counts for recommendations: course_learners and course_pairs, backfilled
from learner_courses

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "analytics"


def upgrade() -> None:
    op.create_table(
        "course_learners",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("learners", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_course_learners")),
        schema=SCHEMA,
    )
    op.create_index("ix_course_learners_learners", "course_learners", ["learners"], schema=SCHEMA)
    op.create_table(
        "course_pairs",
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("learners", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completed", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("source_id", "target_id", name=op.f("pk_course_pairs")),
        schema=SCHEMA,
    )
    op.execute(
        "INSERT INTO analytics.course_learners (course_id, learners) "
        "SELECT course_id, count(*) FROM analytics.learner_courses GROUP BY course_id"
    )
    op.execute(
        "INSERT INTO analytics.course_pairs (source_id, target_id, learners, completed) "
        "SELECT s.course_id, t.course_id, count(*), count(s.completed_at) "
        "FROM analytics.learner_courses s JOIN analytics.learner_courses t "
        "ON t.user_id = s.user_id AND t.course_id <> s.course_id "
        "GROUP BY s.course_id, t.course_id"
    )


def downgrade() -> None:
    op.drop_table("course_pairs", schema=SCHEMA)
    op.drop_index("ix_course_learners_learners", table_name="course_learners", schema=SCHEMA)
    op.drop_table("course_learners", schema=SCHEMA)
