from common.db.migrations import run_env
from subgraphs.courses.models import Base

run_env(Base.metadata)
