from common.db.migrations import run_env
from subgraphs.assessments.models import Base

run_env(Base.metadata)
