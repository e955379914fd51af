"""Printing a query plan in a readable form close to Apollo's."""

from graphql import parse, print_ast

from router.planning.nodes import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    InputField,
    InputSelection,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)

_INDENT = "  "


def _inputs(selections: tuple[InputSelection, ...]) -> str:
    parts = []
    for selection in selections:
        if isinstance(selection, InputField):
            sub = f" {_inputs(selection.selections)}" if selection.selections else ""
            source = f"{selection.key}: " if selection.key else ""
            parts.append(source + selection.name + sub)
        else:
            parts.append(f"... on {selection.type_condition} {_inputs(selection.selections)}")
    return "{ " + " ".join(parts) + " }"


def _fetch(node: FetchNode, depth: int) -> list[str]:
    pad = _INDENT * depth
    inner = pad + _INDENT
    lines = [f'{pad}Fetch(service: "{node.service}") {{']
    if node.inputs:
        lines.append(f"{inner}{{")
        for entity_input in node.inputs:
            rep = entity_input.representation_typename
            others = sorted(entity_input.typenames - {rep})
            origin = f" (for {'|'.join(others)})" if others else ""
            lines.append(f"{inner}{_INDENT}... on {rep} {_inputs(entity_input.selections)}{origin}")
        lines.append(f"{inner}}} =>")
    for context in node.contexts:
        for source in context.sources:
            lines.append(
                f"{inner}${context.name}: {context.type} <- depth {source.depth} on "
                f"{'|'.join(sorted(source.typenames))} {_inputs(source.selections)}"
            )
    operation = print_ast(parse(node.operation, no_location=True))
    lines.extend(f"{inner}{line}" for line in operation.splitlines())
    for scoped in node.scoped:
        types = "|".join(sorted(scoped.typenames))
        at = "".join(f"{p}." for p in scoped.path if p != "@")
        lines.append(f"{inner}{at}{scoped.alias} => {scoped.key} (for {types})")
    if node.fallback is not None:
        lines.append(f"{inner}Fallback (objects missing a @requires input) {{")
        lines.extend(_fetch(node.fallback, depth + 2))
        lines.append(f"{inner}}},")
    lines.append(f"{pad}}},")
    return lines


def _node(node: PlanNode, depth: int) -> list[str]:
    pad = _INDENT * depth
    if isinstance(node, FetchNode):
        return _fetch(node, depth)
    if isinstance(node, FlattenNode):
        path = ".".join(node.path)
        return [f'{pad}Flatten(path: "{path}") {{', *_fetch(node.node, depth + 1), f"{pad}}},"]
    if isinstance(node, ConditionNode):
        return _condition(node, depth)
    name = "Sequence" if isinstance(node, SequenceNode) else "Parallel"
    assert isinstance(node, SequenceNode | ParallelNode)
    inner = [line for child in node.nodes for line in _node(child, depth + 1)]
    return [f"{pad}{name} {{", *inner, f"{pad}}},"]


def _condition(node: ConditionNode, depth: int) -> list[str]:
    pad = _INDENT * depth
    variable = f"(if: ${node.condition})"
    if node.else_clause is None or node.if_clause is None:
        name, only = (
            ("Include", node.if_clause) if node.else_clause is None else ("Skip", node.else_clause)
        )
        inner = _node(only, depth + 1) if only is not None else []
        return [f"{pad}{name}{variable} {{", *inner, f"{pad}}},"]
    lines = [f"{pad}Condition{variable} {{"]
    for label, clause in (("Then", node.if_clause), ("Else", node.else_clause)):
        lines.append(f"{pad}{_INDENT}{label} {{")
        lines.extend(_node(clause, depth + 2))
        lines.append(f"{pad}{_INDENT}}},")
    return [*lines, f"{pad}}},"]


def print_plan(query_plan: QueryPlan) -> str:
    if query_plan.node is None:
        return "QueryPlan {}"
    return "\n".join(["QueryPlan {", *_node(query_plan.node, 1), "}"])
