"""paraphrase detection: sentence embeddings per essay answer, the method of each match and
the stages each check ran

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "assessments"


def upgrade() -> None:
    op.create_table(
        "plagiarism_sentences",
        sa.Column("attempt_id", sa.UUID(), nullable=False),
        sa.Column("question_id", sa.UUID(), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.Column("spans", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["assessments.attempts.id"],
            name=op.f("fk_plagiarism_sentences_attempt_id_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attempt_id", "question_id", name=op.f("pk_plagiarism_sentences")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_plagiarism_sentences_question",
        "plagiarism_sentences",
        ["question_id"],
        schema=SCHEMA,
    )
    op.add_column(
        "plagiarism_matches",
        sa.Column("method", sa.String(length=11), server_default="FINGERPRINT", nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "plagiarism_answers",
        sa.Column(
            "stages",
            postgresql.ARRAY(sa.String(length=11)),
            server_default="{FINGERPRINT}",
            nullable=False,
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("plagiarism_answers", "stages", schema=SCHEMA)
    op.drop_column("plagiarism_matches", "method", schema=SCHEMA)
    op.drop_table("plagiarism_sentences", schema=SCHEMA)
