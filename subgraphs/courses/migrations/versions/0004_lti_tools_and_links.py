"""LTI 1.3: registered tools, their placements in course modules, users' opaque LTI
subjects, and the tools' line items and scores (Assignment and Grade Services)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "courses"


def upgrade() -> None:
    op.create_table(
        "lti_tools",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("deployment_ids", postgresql.ARRAY(sa.String(length=255)), nullable=False),
        sa.Column("login_url", sa.String(length=2048), nullable=False),
        sa.Column("redirect_uris", postgresql.ARRAY(sa.String(length=2048)), nullable=False),
        sa.Column("target_link_uri", sa.String(length=2048), nullable=False),
        sa.Column("jwks_url", sa.String(length=2048), nullable=True),
        sa.Column("public_jwk", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("shares_name", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("shares_email", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_tools")),
        sa.UniqueConstraint("client_id", name=op.f("uq_lti_tools_client_id")),
        schema=SCHEMA,
    )
    op.create_table(
        "lti_links",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tool_id", sa.UUID(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("module_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("target_link_uri", sa.String(length=2048), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["courses.lti_tools.id"],
            name=op.f("fk_lti_links_tool_id_lti_tools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.courses.id"],
            name=op.f("fk_lti_links_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["courses.modules.id"],
            name=op.f("fk_lti_links_module_id_modules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_links")),
        schema=SCHEMA,
    )
    for column in ("tool_id", "course_id", "module_id"):
        op.create_index(op.f(f"ix_lti_links_{column}"), "lti_links", [column], schema=SCHEMA)
    op.create_table(
        "lti_subjects",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_lti_subjects")),
        sa.UniqueConstraint("subject", name=op.f("uq_lti_subjects_subject")),
        schema=SCHEMA,
    )
    op.create_table(
        "lti_line_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tool_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("link_id", sa.UUID(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("resource_id", sa.String(length=255), nullable=True),
        sa.Column("tag", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["courses.lti_tools.id"],
            name=op.f("fk_lti_line_items_tool_id_lti_tools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.courses.id"],
            name=op.f("fk_lti_line_items_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["courses.lti_links.id"],
            name=op.f("fk_lti_line_items_link_id_lti_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_line_items")),
        schema=SCHEMA,
    )
    for column in ("tool_id", "course_id", "link_id"):
        op.create_index(
            op.f(f"ix_lti_line_items_{column}"), "lti_line_items", [column], schema=SCHEMA
        )
    op.create_table(
        "lti_scores",
        sa.Column("line_item_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=True),
        sa.Column("score_maximum", sa.Float(), nullable=True),
        sa.Column("activity_progress", sa.String(length=20), nullable=False),
        sa.Column("grading_progress", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["courses.lti_line_items.id"],
            name=op.f("fk_lti_scores_line_item_id_lti_line_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("line_item_id", "user_id", name=op.f("pk_lti_scores")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("lti_scores", schema=SCHEMA)
    op.drop_table("lti_line_items", schema=SCHEMA)
    op.drop_table("lti_subjects", schema=SCHEMA)
    op.drop_table("lti_links", schema=SCHEMA)
    op.drop_table("lti_tools", schema=SCHEMA)
