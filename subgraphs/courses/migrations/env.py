from common.db.migrations import run_env
from subgraphs.courses.lti import models as lti_models  # noqa: F401  (its tables)
from subgraphs.courses.models import Base

run_env(Base.metadata)
