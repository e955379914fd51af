from common.db.migrations import run_env
from subgraphs.assessments.models import Base
from subgraphs.assessments.plagiarism import tables  # noqa: F401  (its tables join Base.metadata)

run_env(Base.metadata)
