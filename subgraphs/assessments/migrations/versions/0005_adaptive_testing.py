"""adaptive testing: adaptive settings, item parameters, adaptive attempt states

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "adaptive_settings",
        sa.Column("assessment_id", sa.UUID(), nullable=False),
        sa.Column("target_se", sa.Float(), nullable=False),
        sa.Column("max_items", sa.Integer(), nullable=False),
        sa.Column("randomesque", sa.Integer(), nullable=False),
        sa.Column("max_exposure", sa.Float(), nullable=False),
        sa.Column("scale_low", sa.Float(), nullable=False),
        sa.Column("scale_high", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.assessments.id"],
            name=op.f("fk_adaptive_settings_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_adaptive_settings")),
        schema="assessments",
    )
    op.create_table(
        "item_parameters",
        sa.Column("question_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("model", sa.String(length=5), nullable=False),
        sa.Column("a", sa.Float(), nullable=False),
        sa.Column("b", sa.Float(), nullable=False),
        sa.Column("c", sa.Float(), nullable=False),
        sa.Column("se_a", sa.Float(), nullable=True),
        sa.Column("se_b", sa.Float(), nullable=True),
        sa.Column("se_c", sa.Float(), nullable=True),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("calibrated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["assessments.questions.id"],
            name=op.f("fk_item_parameters_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("question_id", name=op.f("pk_item_parameters")),
        schema="assessments",
    )
    op.create_index(
        "ix_item_parameters_course",
        "item_parameters",
        ["course_id"],
        unique=False,
        schema="assessments",
    )
    op.create_table(
        "adaptive_states",
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("theta", sa.Float(), nullable=False),
        sa.Column("standard_error", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=3), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("stop_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["assessments.attempts.id"],
            name=op.f("fk_adaptive_states_attempt_id_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_adaptive_states")),
        schema="assessments",
    )


def downgrade() -> None:
    op.drop_table("adaptive_states", schema="assessments")
    op.drop_index("ix_item_parameters_course", table_name="item_parameters", schema="assessments")
    op.drop_table("item_parameters", schema="assessments")
    op.drop_table("adaptive_settings", schema="assessments")
