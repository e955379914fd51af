"""plagiarism detection: settings, fingerprints, LSH bands, matches

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "assessments"


def _attempt(table: str, column: str) -> sa.Column[object]:
    return sa.Column(
        column,
        sa.UUID(),
        sa.ForeignKey(
            "assessments.attempts.id",
            ondelete="CASCADE",
            name=op.f(f"fk_{table}_{column}_attempts"),
        ),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "plagiarism_settings",
        sa.Column("assessment_id", sa.UUID(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("code_threshold", sa.Float(), nullable=False),
        sa.Column("text_threshold", sa.Float(), nullable=False),
        sa.Column(
            "excluded_question_ids",
            postgresql.ARRAY(sa.UUID()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.assessments.id"],
            name=op.f("fk_plagiarism_settings_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_plagiarism_settings")),
        schema=SCHEMA,
    )
    op.create_table(
        "plagiarism_answers",
        _attempt("plagiarism_answers", "attempt_id"),
        sa.Column("question_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("fingerprint_count", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), server_default="0", nullable=False),
        sa.Column(
            "checked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("attempt_id", "question_id", name=op.f("pk_plagiarism_answers")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_plagiarism_answers_question", "plagiarism_answers", ["question_id"], schema=SCHEMA
    )
    op.create_table(
        "plagiarism_fingerprints",
        _attempt("plagiarism_fingerprints", "attempt_id"),
        sa.Column("question_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "attempt_id", "question_id", "position", name=op.f("pk_plagiarism_fingerprints")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_plagiarism_fingerprints_lookup",
        "plagiarism_fingerprints",
        ["question_id", "hash"],
        schema=SCHEMA,
    )
    op.create_table(
        "plagiarism_bands",
        _attempt("plagiarism_bands", "attempt_id"),
        sa.Column("question_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "attempt_id", "question_id", "key", name=op.f("pk_plagiarism_bands")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_plagiarism_bands_lookup", "plagiarism_bands", ["question_id", "key"], schema=SCHEMA
    )
    op.create_table(
        "plagiarism_matches",
        _attempt("plagiarism_matches", "attempt_id"),
        sa.Column("question_id", sa.UUID(), nullable=False),
        _attempt("plagiarism_matches", "other_attempt_id"),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("spans", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint(
            "attempt_id", "question_id", "other_attempt_id", name=op.f("pk_plagiarism_matches")
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_plagiarism_matches_other", "plagiarism_matches", ["other_attempt_id"], schema=SCHEMA
    )


def downgrade() -> None:
    for table in (
        "plagiarism_matches",
        "plagiarism_bands",
        "plagiarism_fingerprints",
        "plagiarism_answers",
        "plagiarism_settings",
    ):
        op.drop_table(table, schema=SCHEMA)
