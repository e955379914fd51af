"""statements partitioned by month, their id register, daily aggregates, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-12-03 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "analytics"


def _counters(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=False),
        sa.Column("verb", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=True),
        sa.Column("registration", sa.UUID(), nullable=True),
        sa.Column("score_scaled", sa.Float(), nullable=True),
        sa.Column("score_raw", sa.Float(), nullable=True),
        sa.Column("score_max", sa.Float(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("completion", sa.Boolean(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column(
            "extensions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "stored", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", "timestamp", name=op.f("pk_statements")),
        schema=SCHEMA,
        postgresql_partition_by="RANGE (timestamp)",
    )
    op.create_index(
        "ix_statements_course_timestamp",
        "statements",
        ["course_id", "timestamp"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_statements_actor_timestamp", "statements", ["actor_id", "timestamp"], schema=SCHEMA
    )
    op.create_table(
        "statement_ids",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_ids")),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_statement_ids_actor_id"), "statement_ids", ["actor_id"], schema=SCHEMA)
    op.create_index(
        op.f("ix_statement_ids_timestamp"), "statement_ids", ["timestamp"], schema=SCHEMA
    )
    op.create_table(
        "course_days",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_counters("statements", "views", "completions", "attempts", "seconds", "scores"),
        sa.Column("score_sum", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("course_id", "day", name=op.f("pk_course_days")),
        schema=SCHEMA,
    )
    op.create_table(
        "learner_days",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_counters("statements", "views", "completions", "attempts", "seconds", "scores"),
        sa.Column("score_sum", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("user_id", "course_id", "day", name=op.f("pk_learner_days")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_learner_days_course_day", "learner_days", ["course_id", "day"], schema=SCHEMA
    )
    op.create_table(
        "learner_weeks",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "course_id", "week", name=op.f("pk_learner_weeks")),
        schema=SCHEMA,
    )
    op.create_table(
        "course_weeks",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        *_counters("learners"),
        sa.PrimaryKeyConstraint("course_id", "week", name=op.f("pk_course_weeks")),
        schema=SCHEMA,
    )
    op.create_table(
        "lesson_days",
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        *_counters("views", "completions", "seconds"),
        sa.PrimaryKeyConstraint("lesson_id", "day", name=op.f("pk_lesson_days")),
        schema=SCHEMA,
    )
    op.create_index("ix_lesson_days_course_day", "lesson_days", ["course_id", "day"], schema=SCHEMA)
    op.create_table(
        "learner_courses",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        *_counters("scores"),
        sa.Column("score_sum", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_learner_courses")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_learner_courses_course_last_seen",
        "learner_courses",
        ["course_id", "last_seen"],
        schema=SCHEMA,
    )
    op.create_table(
        "learner_lessons",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "lesson_id", name=op.f("pk_learner_lessons")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_learner_lessons_course", "learner_lessons", ["course_id", "lesson_id"], schema=SCHEMA
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("consumer", sa.String(length=80), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_inbox")),
        schema=SCHEMA,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["created_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    for table in (
        "outbox",
        "inbox",
        "learner_lessons",
        "learner_courses",
        "lesson_days",
        "course_weeks",
        "learner_weeks",
        "learner_days",
        "course_days",
        "statement_ids",
        "statements",  # with every month's partition
    ):
        op.drop_table(table, schema=SCHEMA)
