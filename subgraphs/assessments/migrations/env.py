from common.db.migrations import run_env
from subgraphs.assessments.adaptive import models as adaptive_models  # noqa: F401 (tables)
from subgraphs.assessments.models import Base
from subgraphs.assessments.plagiarism import tables  # noqa: F401  (its tables join Base.metadata)

run_env(Base.metadata)
