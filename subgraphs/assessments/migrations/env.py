from common.db.migrations import run_env
from subgraphs.assessments.adaptive import models as adaptive_models  # noqa: F401 (tables)
from subgraphs.assessments.models import Base

run_env(Base.metadata)
