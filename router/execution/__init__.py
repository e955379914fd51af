from router.execution.executor import ExecutionState, execute_plan
from router.execution.shaping import shape_response

__all__ = ["ExecutionState", "execute_plan", "shape_response"]
