from alembic import context

from common.db.migrations import run_env
from subgraphs.assessments.models import Base

run_env(context, Base.metadata)
