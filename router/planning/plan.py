"""`plan(supergraph, operation) -> QueryPlan`: the planner's one entry point."""

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from router.planning.build import order_groups
from router.planning.collect import CField, collect_fields
from router.planning.context import PlanningError, Pos
from router.planning.contextual import document_names
from router.planning.nodes import OperationKind, PlanNode, QueryPlan, SequenceNode
from router.planning.planner import Planner
from router.supergraph.model import Supergraph


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise PlanningError("the document has several operations: give operationName")
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise PlanningError(f"unknown operation named {name!r}")


def _root_type(supergraph: Supergraph, kind: OperationType) -> str:
    name = {
        OperationType.QUERY: supergraph.query_type,
        OperationType.MUTATION: supergraph.mutation_type,
        OperationType.SUBSCRIPTION: supergraph.subscription_type,
    }[kind]
    if name is None:
        raise PlanningError(f"the schema has no {kind.value} type")
    return name


def _plan_root_field(planner: Planner, root: str, cf: CField, preferred: str | None) -> str:
    graphs = sorted(planner.sg.field_graphs(root, cf.name))
    if not graphs:
        raise PlanningError(f"no subgraph resolves {root}.{cf.name}")

    def rank(graph: str) -> tuple[int, int, int]:
        existing = 0 if graph == preferred or graph in planner.registry.root_groups else 1
        return (planner.cost(graph, root, [_single(cf)]), existing, graphs.index(graph))

    graph = min(graphs, key=rank)
    group = planner.root_group(graph)
    pos = Pos(group, group.selset, root, ())
    if root == planner.sg.query_type:
        pos.anchor_here()
    planner.plan_field(pos, cf)
    return graph


def _single(cf: CField) -> SelectionSetNode:
    return SelectionSetNode(selections=(cf.node,))


def plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    labels: frozenset[str] = frozenset(),
) -> QueryPlan:
    """The plan with the progressive overrides of `labels` taken over (and no others)."""
    supergraph = supergraph.with_labels(labels)
    operation = select_operation(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    reserved = document_names(document) if supergraph.contexts else frozenset()
    root = _root_type(supergraph, operation.operation)
    kind: OperationKind = operation.operation.value
    fields = [
        cf
        for cf in collect_fields(supergraph, fragments, root, [operation.selection_set]).fields
        if not cf.name.startswith("__")
    ]
    if kind != "mutation":
        planner = Planner(supergraph, fragments, reserved)
        for cf in fields:
            _plan_root_field(planner, root, cf, None)
        return QueryPlan(order_groups(supergraph, planner.groups, operation, kind), kind)
    stages: list[PlanNode] = []
    planner, previous = Planner(supergraph, fragments, reserved), None
    for cf in fields:
        graphs = supergraph.field_graphs(root, cf.name)
        if previous is not None and previous not in graphs:
            node = order_groups(supergraph, planner.groups, operation, kind)
            if node is not None:
                stages.append(node)
            planner = Planner(supergraph, fragments, reserved)
        previous = _plan_root_field(planner, root, cf, previous)
    node = order_groups(supergraph, planner.groups, operation, kind)
    if node is not None:
        stages.append(node)
    if not stages:
        return QueryPlan(None, kind)
    return QueryPlan(stages[0] if len(stages) == 1 else SequenceNode(tuple(stages)), kind)
