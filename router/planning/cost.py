"""How much a subgraph would leave unresolved: the planner's tie-breaker between options."""

from graphql import FragmentDefinitionNode, SelectionSetNode

from router.federation.fieldset import parse_field_set
from router.planning.collect import collect_fields
from router.planning.resolvability import can_resolve, field_type, requires_of
from router.supergraph.model import Supergraph

_COST_DEPTH = 4


class CostModel:
    def __init__(
        self, supergraph: Supergraph, fragments: dict[str, FragmentDefinitionNode]
    ) -> None:
        self.sg = supergraph
        self.fragments = fragments

    def cost(self, graph: str, type_name: str, sets: list[SelectionSetNode], depth: int = 0) -> int:
        """Fields of `sets` that `graph` cannot resolve itself (a few levels deep)."""
        if depth > _COST_DEPTH or not sets:
            return 0
        info = self.sg.types.get(type_name)
        if info is None:
            return 0
        if info.kind in ("interface", "union") and not info.is_interface_object(graph):
            types = self.sg.possible_types(type_name, graph)
            return max((self.cost(graph, t, sets, depth) for t in types), default=0)
        total = 0
        for cf in collect_fields(self.sg, self.fragments, type_name, sets).fields:
            if cf.name.startswith("__"):
                continue
            if not can_resolve(self.sg, graph, type_name, cf.name) or requires_of(
                self.sg, graph, type_name, cf.name
            ):
                total += 1
            elif cf.selection_sets:
                child, _ = field_type(self.sg, type_name, cf.name)
                total += self.cost(graph, child, cf.selection_sets, depth + 1)
        return total

    def key_costs(
        self, graph: str, representation: str, source_graph: str, source_type: str
    ) -> list[tuple[int, str]]:
        return [
            (self.cost(source_graph, source_type, [parse_field_set(key)]), key)
            for key in self.sg.types[representation].keys(graph)
        ]

    def key_cost(self, graph: str, representation: str, source_graph: str, source_type: str) -> int:
        costs = self.key_costs(graph, representation, source_graph, source_type)
        return min((c for c, _ in costs), default=99)

    def choose_key(
        self, graph: str, representation: str, source_graph: str, source_type: str
    ) -> str:
        costs = self.key_costs(graph, representation, source_graph, source_type)
        return min(costs, key=lambda c: c[0])[1]
