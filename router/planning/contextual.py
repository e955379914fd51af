"""`@fromContext` arguments: which ancestors set their context, and how a fetch passes them."""

from dataclasses import replace

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    print_ast,
    visit,
)

from router.federation.fieldset import parse_context_selection
from router.planning.collect import CField
from router.planning.context import PlanningError, Pos
from router.supergraph.model import ContextArgument, Supergraph

VARIABLE_PREFIX = "contextualArgument_"
ALIAS_SUFFIX = "__fed_context"


def context_arguments(
    supergraph: Supergraph, graph: str, type_name: str, field_name: str
) -> tuple[ContextArgument, ...]:
    join = supergraph.field_join(type_name, field_name, graph)
    return join.context_arguments if join is not None else ()


def key_depth(path: tuple[str, ...]) -> int:
    """How many fields below the root a position sits (list markers are not fields)."""
    return sum(1 for segment in path if segment != "@")


class _Names(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self.names.add(node.name.value)
        if node.alias is not None:
            self.names.add(node.alias.value)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: object) -> None:
        self.names.add(node.variable.name.value)


def document_names(document: DocumentNode) -> frozenset[str]:
    """Every variable, field and alias name of a client's document: generated names avoid them."""
    collector = _Names()
    visit(document, collector)
    return frozenset(collector.names)


def _aliased(selection_set: SelectionSetNode, taken: frozenset[str]) -> SelectionSetNode:
    """The selection with its picked fields under aliases no client field can have, so that
    a client's own alias never stands in for a context value."""
    selections = []
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            inner = _aliased(selection.selection_set, taken)
            selection = InlineFragmentNode(
                type_condition=selection.type_condition,
                directives=selection.directives,
                selection_set=inner,
            )
        elif isinstance(selection, FieldNode):
            alias, number = f"{selection.name.value}{ALIAS_SUFFIX}", 0
            while alias in taken:
                number += 1
                alias = f"{selection.name.value}{ALIAS_SUFFIX}{number}"
            selection = FieldNode(
                alias=NameNode(value=alias),
                name=selection.name,
                arguments=selection.arguments,
                directives=selection.directives,
                selection_set=selection.selection_set,
            )
        selections.append(selection)
    return SelectionSetNode(selections=tuple(selections))


def _selection_body(selection: str, taken: frozenset[str]) -> str:
    operation = parse_context_selection(selection).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    printed = print_ast(_aliased(operation.selection_set, taken))
    return " ".join(printed.strip()[1:-1].split())


def context_sources(
    supergraph: Supergraph, pos: Pos, argument: ContextArgument, taken: frozenset[str]
) -> list[tuple[Pos, frozenset[str], str]]:
    """Ancestors of `pos`, nearest first, that may set the argument's context: each with the
    runtime types that do, and the field set to select there."""
    setters = sorted(supergraph.contexts.get(argument.context, frozenset()))
    setter_types = {s: frozenset(supergraph.possible_types(s)) for s in setters}
    runtime = frozenset().union(*setter_types.values())
    body = _selection_body(argument.selection, taken)
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
