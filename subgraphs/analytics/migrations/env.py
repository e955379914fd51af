from common.db.migrations import run_env
from subgraphs.analytics.models import Base

run_env(Base.metadata)
