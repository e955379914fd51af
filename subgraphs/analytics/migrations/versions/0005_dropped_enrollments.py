"""learner_courses.dropped_at: the enrollment was dropped (enrollment.dropped), so the
learner no longer counts as active, inactive or at risk in the course

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 21:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "analytics"


def upgrade() -> None:
    op.add_column(
        "learner_courses",
        sa.Column("dropped_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("learner_courses", "dropped_at", schema=SCHEMA)
