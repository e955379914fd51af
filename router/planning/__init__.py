from router.planning.context import PlanningError
from router.planning.nodes import QueryPlan
from router.planning.plan import plan
from router.planning.printer import print_plan

__all__ = ["PlanningError", "QueryPlan", "plan", "print_plan"]
