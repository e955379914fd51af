"""Turning filled fetch groups into plan nodes: subgraph operations and their order."""

from graphql import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    print_ast,
)

from router.federation.fieldset import parse_field_set
from router.planning.conditions import Conditions
from router.planning.context import Group
from router.planning.groups import fold_key_only, merge_siblings
from router.planning.nodes import (
    ConditionNode,
    ContextSource,
    ContextVariable,
    EntityInput,
    FetchNode,
    FlattenNode,
    InputField,
    InputFragment,
    InputSelection,
    OperationKind,
    ParallelNode,
    PlanNode,
    ScopedAlias,
    SequenceNode,
)
from router.planning.selection import alias_conflicts, print_selection_set
from router.supergraph.model import Supergraph
from router.supergraph.requires import parse_requires


def _merge_inputs(
    sg: Supergraph, selection_sets: list[SelectionSetNode]
) -> tuple[InputSelection, ...]:
    fields: dict[str, tuple[str, list[SelectionSetNode]]] = {}
    fragments: dict[str, list[SelectionSetNode]] = {}
    for selection_set in selection_sets:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                _, subs = fields.setdefault(key, (selection.name.value, []))
                if selection.selection_set is not None:
                    subs.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode) and selection.type_condition:
                condition = selection.type_condition.name.value
                fragments.setdefault(condition, []).append(selection.selection_set)
    result: list[InputSelection] = [InputField("__typename")]
    for key, (name, subs) in fields.items():
        if name != "__typename":
            sub = _merge_inputs(sg, subs) if subs else None
            result.append(InputField(name, sub, "" if key == name else key))
    for condition, subs in fragments.items():
        typenames = (
            frozenset(sg.possible_types(condition)) if condition in sg.types else frozenset()
        )
        result.append(InputFragment(condition, _merge_inputs(sg, subs)[1:], typenames))
    return tuple(result)


def _entity_inputs(sg: Supergraph, group: Group) -> tuple[EntityInput, ...]:
    by_rep: dict[str, set[str]] = {}
    for typename, representation in group.typenames.items():
        by_rep.setdefault(representation, set()).add(typename)
    return tuple(
        EntityInput(
            frozenset(typenames),
            rep,
            _merge_inputs(sg, [parse_requires(f) for f in group.representations[rep]]),
        )
        for rep, typenames in by_rep.items()
    )


def _contexts(sg: Supergraph, group: Group, used: set[str]) -> tuple[ContextVariable, ...]:
    return tuple(
        ContextVariable(
            use.variable,
            use.type,
            tuple(
                ContextSource(depth, typenames, _merge_inputs(sg, [parse_field_set(field_set)]))
                for depth, typenames, field_set in use.sources
            ),
        )
        for use in group.contexts
        if use.variable in used
    )


def _applied(group: Group, kind: OperationKind) -> Conditions | None:
    """The conditions the fetch node of `group` runs under."""
    return group.conditions if group.entity or kind != "subscription" else None


def _operation_text(
    group: Group, operation: OperationDefinitionNode, kind: OperationKind
) -> tuple[str, tuple[str, ...], set[str]]:
    used: set[str] = set()
    body = print_selection_set(group.selset, used, _applied(group, kind) or frozenset())
    definitions = []
    if group.entity:
        body = "{ _entities(representations: $representations) " + body + " }"
        definitions.append("$representations: [_Any!]!")
    definitions.extend(f"${u.variable}: {u.type}" for u in group.contexts if u.variable in used)
    for definition in operation.variable_definitions or ():
        if definition.variable.name.value in used:
            text = f"${definition.variable.name.value}: {print_ast(definition.type)}"
            if definition.default_value is not None:
                text += f" = {print_ast(definition.default_value)}"
            definitions.append(text)
    name = "query" if group.entity else kind
    header = name if not definitions else f"{name}({', '.join(definitions)})"
    ordered = tuple(d.variable.name.value for d in operation.variable_definitions or ())
    return f"{header} {body}", tuple(v for v in ordered if v in used), used


def fetch_node(
    sg: Supergraph,
    group: Group,
    operation: OperationDefinitionNode,
    kind: OperationKind,
    fallback: FetchNode | None = None,
) -> PlanNode:
    aliased = alias_conflicts(group.selset, [0])
    text, usages, used = _operation_text(group, operation, kind)
    if not group.entity:
        return FetchNode(group.subgraph, text, usages, (), kind, aliased)
    inputs = _entity_inputs(sg, group)
    scoped = tuple(
        ScopedAlias(alias, key, frozenset(typenames), path)
        for alias, (path, key, typenames) in group.scoped.items()
    )
    contexts = _contexts(sg, group, used)
    fetch = FetchNode(
        group.subgraph,
        text,
        usages,
        inputs,
        "query",
        aliased,
        scoped=scoped,
        contexts=contexts,
        fallback=fallback,
    )
    return FlattenNode(group.path, fetch)


def _fallback(
    sg: Supergraph, group: Group | None, operation: OperationDefinitionNode, kind: OperationKind
) -> FetchNode | None:
    """The fetch of a key-only group folded into another (`fold_key_only`), on its own."""
    if group is None:
        return None
    node = fetch_node(sg, group, operation, kind)
    assert isinstance(node, FlattenNode)  # (an entity group)
    return node.node


def _under(conditions: Conditions | None, node: PlanNode) -> PlanNode:
    for variable, wanted in sorted(conditions or (), reverse=True):
        node = ConditionNode(variable, node) if wanted else ConditionNode(variable, None, node)
    return node


def _wrap(kind: type[SequenceNode] | type[ParallelNode], nodes: list[PlanNode]) -> PlanNode | None:
    if not nodes:
        return None
    if len(nodes) == 1:
        return nodes[0]
    flat: list[PlanNode] = []
    for node in nodes:
        flat.extend(node.nodes if isinstance(node, kind) else (node,))
    return kind(tuple(flat))


def order_groups(
    sg: Supergraph, groups: list[Group], operation: OperationDefinitionNode, kind: OperationKind
) -> PlanNode | None:
    siblings = merge_siblings([g for g in groups if not g.selset.is_empty()])
    live, folded = fold_key_only(siblings)
    fallbacks = {i: _fallback(sg, g, operation, kind) for i, g in folded.items()}
    nodes = {
        g.id: _under(_applied(g, kind), fetch_node(sg, g, operation, kind, fallbacks.get(g.id)))
        for g in live
    }
    ids = set(nodes)
    deps = {g.id: {d.id for d in g.deps if d.id in ids and d.id != g.id} for g in live}
    for g in live:  # a dependency another dependency already waits for adds no order
        implied = {a.id for d in g.deps if d.id in deps[g.id] for a in d.ancestors()}
        deps[g.id] -= implied
    if all(len(d) <= 1 for d in deps.values()):
        children: dict[int | None, list[int]] = {}
        for g in live:
            parent = next(iter(deps[g.id]), None)
            children.setdefault(parent, []).append(g.id)

        def tree(group_id: int) -> PlanNode:
            below = _wrap(ParallelNode, [tree(c) for c in children.get(group_id, [])])
            own = nodes[group_id]
            if below is None:
                return own
            rest = below.nodes if isinstance(below, SequenceNode) else (below,)
            return SequenceNode((own, *rest))

        return _wrap(ParallelNode, [tree(r) for r in children.get(None, [])])
    level: dict[int, int] = {}

    def depth(group_id: int) -> int:
        if group_id not in level:
            level[group_id] = 1 + max((depth(d) for d in deps[group_id]), default=-1)
        return level[group_id]

    for group_id in ids:
        depth(group_id)
    stages = [
        _wrap(ParallelNode, [nodes[i] for i in sorted(ids) if level[i] == n])
        for n in range(max(level.values(), default=-1) + 1)
    ]
    return _wrap(SequenceNode, [s for s in stages if s is not None])
