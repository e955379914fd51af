"""graded LTI links: a placement may be a graded item (an "external tool" assignment) with
the line item the platform made for it, a due date, and its grades' release rule

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "courses"


def upgrade() -> None:
    op.add_column(
        "lti_links",
        sa.Column("graded", sa.Boolean(), server_default="false", nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "lti_links", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True), schema=SCHEMA
    )
    op.add_column(
        "lti_links",
        sa.Column("release_immediately", sa.Boolean(), server_default="true", nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "lti_links",
        sa.Column("grades_released_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "lti_line_items",
        sa.Column("made_by_platform", sa.Boolean(), server_default="false", nullable=False),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_lti_line_items_platform_link",
        "lti_line_items",
        ["link_id"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("made_by_platform"),
    )


def downgrade() -> None:
    op.drop_index("uq_lti_line_items_platform_link", "lti_line_items", schema=SCHEMA)
    op.drop_column("lti_line_items", "made_by_platform", schema=SCHEMA)
    for column in ("grades_released_at", "release_immediately", "due_at", "graded"):
        op.drop_column("lti_links", column, schema=SCHEMA)
