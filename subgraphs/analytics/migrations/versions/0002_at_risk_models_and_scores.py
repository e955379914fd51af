"""at-risk models (versioned, one active), per-enrollment scores, the jobs' last runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 19:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "analytics"


def upgrade() -> None:
    op.create_table(
        "at_risk_models",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("training_size", sa.Integer(), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_at_risk_models")),
        sa.UniqueConstraint("version", name=op.f("uq_at_risk_models_version")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_at_risk_models_one_active",
        "at_risk_models",
        ["active"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "at_risk_scores",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_at_risk_scores")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_at_risk_scores_course_probability",
        "at_risk_scores",
        ["course_id", "probability"],
        schema=SCHEMA,
    )
    op.create_table(
        "at_risk_runs",
        sa.Column("job", sa.String(length=20), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_at_risk_runs")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("at_risk_runs", schema=SCHEMA)
    op.drop_index("ix_at_risk_scores_course_probability", "at_risk_scores", schema=SCHEMA)
    op.drop_table("at_risk_scores", schema=SCHEMA)
    op.drop_index("ix_at_risk_models_one_active", "at_risk_models", schema=SCHEMA)
    op.drop_table("at_risk_models", schema=SCHEMA)
