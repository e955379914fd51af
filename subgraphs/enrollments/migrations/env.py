from common.db.migrations import run_env
from subgraphs.enrollments.models import Base

run_env(Base.metadata)
