from common.db.migrations import run_env
from subgraphs.users.models import Base

run_env(Base.metadata)
