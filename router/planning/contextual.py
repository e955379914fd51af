"""`@fromContext` arguments: which ancestors set their context, and how a fetch passes them."""

from dataclasses import replace

from graphql import ArgumentNode, FieldNode, NameNode, VariableNode

from router.planning.collect import CField
from router.planning.context import PlanningError, Pos
from router.supergraph.model import ContextArgument, Supergraph

VARIABLE_PREFIX = "contextualArgument_"


def context_arguments(
    supergraph: Supergraph, graph: str, type_name: str, field_name: str
) -> tuple[ContextArgument, ...]:
    join = supergraph.field_join(type_name, field_name, graph)
    return join.context_arguments if join is not None else ()


def key_depth(path: tuple[str, ...]) -> int:
    """How many fields below the root a position sits (list markers are not fields)."""
    return sum(1 for segment in path if segment != "@")


def _selection_body(selection: str) -> str:
    text = selection.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return text.strip()


def context_sources(
    supergraph: Supergraph, pos: Pos, argument: ContextArgument
) -> list[tuple[Pos, frozenset[str], str]]:
    """Ancestors of `pos`, nearest first, that may set the argument's context: each with the
    runtime types that do, and the field set to select there."""
    setters = sorted(supergraph.contexts.get(argument.context, frozenset()))
    setter_types = {s: frozenset(supergraph.possible_types(s)) for s in setters}
    runtime = frozenset().union(*setter_types.values())
    body = _selection_body(argument.selection)
    found: list[tuple[Pos, frozenset[str], str]] = []
    ancestor = pos.parent
    while ancestor is not None:
        possible = frozenset(supergraph.possible_types(ancestor.type_name))
        matching = possible & runtime
        if matching:
            conditions = [s for s in setters if possible & setter_types[s]]
            field_set = body
            if not body.startswith("..."):  # type conditions are the selection's own
                field_set = " ".join(f"... on {s} {{ {body} }}" for s in conditions)
            found.append((ancestor, matching, field_set))
            if possible <= runtime:
                break
        ancestor = ancestor.parent
    if not found:
        raise PlanningError(
            f"cannot resolve {pos.type_name} field argument {argument.name!r}: no enclosing "
            f"field of the operation sets its context {argument.context!r}"
        )
    return found


def context_variable(number: int, index: int) -> str:
    return f"{VARIABLE_PREFIX}{number}_{index}"


def free_context_number(number: int, taken: frozenset[str]) -> int:
    """The first number from `number` whose variables (and their batched `_<i>` forms) no
    variable of the client's operation can clash with."""
    while any(name.startswith(f"{VARIABLE_PREFIX}{number}_") for name in taken):
        number += 1
    return number


def with_variables(cf: CField, names: list[tuple[str, str]]) -> CField:
    """The client's field with each contextual argument passed as its variable."""
    node = cf.node
    extra = tuple(
        ArgumentNode(name=NameNode(value=arg), value=VariableNode(name=NameNode(value=variable)))
        for arg, variable in names
    )
    field = FieldNode(
        alias=node.alias,
        name=node.name,
        arguments=(*(node.arguments or ()), *extra),
        directives=node.directives,
        selection_set=node.selection_set,
    )
    return replace(cf, node=field)
