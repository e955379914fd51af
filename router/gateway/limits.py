"""Operation limits checked after validation, before planning: depth, aliases, root fields and
the number of selections once fragments are expanded.

The codes are Apollo Router's (MAX_DEPTH_LIMIT, MAX_ALIASES_LIMIT, MAX_ROOT_FIELDS_LIMIT,
MAX_RECURSIVE_SELECTIONS_LIMIT), so clients written against it recognise them. Fragments count
where they are spread, each time they are spread; every fragment is measured once, so the
check is linear in the document however its fragments multiply (a "fragment bomb" of a few
hundred bytes expands to billions of selections: it is measured in microseconds and refused).
"""

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from router.gateway.validation import VALIDATION_WORK

MAX_DEPTH = 20
MAX_SELECTIONS = 10_000


@dataclass(frozen=True)
class Limits:
    max_depth: int = MAX_DEPTH
    max_aliases: int = 50
    max_root_fields: int = 50
    # Selections (fields, fragment spreads, inline fragments) met when walking the operation
    # with every fragment spread expanded, repeats counted: bounds the work of everything that
    # walks the operation after this check (planning, authorization, response shapes).
    max_selections: int = MAX_SELECTIONS
    # Work graphql-core may spend comparing same-named fields (see router/gateway/validation).
    max_validation_work: int = VALIDATION_WORK


@dataclass(frozen=True, slots=True)
class Size:
    depth: int  # the deepest field below, counting its own level
    aliases: int
    selections: int
    fields: int  # fields at this level (fragments flattened): root fields for an operation


_EMPTY = Size(0, 0, 0, 0)


def _spreads(node: SelectionSetNode) -> set[str]:
    names: set[str] = set()
    pending = [node]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.add(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return names


def fragment_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments, each after every fragment it spreads (none on a cycle, which
    validation refuses before the limits are checked)."""
    graph = {name: _spreads(f.selection_set) & fragments.keys() for name, f in fragments.items()}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError:
        return []


class _Measurer:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, Size] = {}
        # Leaves first, so measuring a fragment never recurses into another one.
        for name in fragment_order(fragments):
            self.measured[name] = self.selection_set(fragments[name].selection_set)

    def selection_set(self, node: SelectionSetNode) -> Size:
        depth = aliases = fields = 0
        selections = len(node.selections)
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                fields += 1
                aliases += selection.alias is not None
                below = _EMPTY
                if selection.selection_set is not None:
                    below = self.selection_set(selection.selection_set)
                depth = max(depth, 1 + below.depth)
                aliases += below.aliases
                selections += below.selections
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                inner = self.measured.get(selection.name.value, _EMPTY)
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            selections += inner.selections
            fields += inner.fields
        return Size(depth, aliases, selections, fields)


def measure(document: DocumentNode) -> dict[OperationDefinitionNode, Size]:
    """Each operation's size with its fragments expanded, in time linear in the document."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measurer = _Measurer(fragments)
    return {
        definition: measurer.selection_set(definition.selection_set)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    }


def _limit_error(message: str, node: OperationDefinitionNode, code: str) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


def check_limits(document: DocumentNode, limits: Limits = Limits()) -> list[GraphQLError]:
    """Errors for every operation in a (validated) document that exceeds a limit."""
    errors = []
    for operation, size in measure(document).items():
        if size.selections > limits.max_selections:
            errors.append(
                _limit_error(
                    f"The operation expands to {size.selections} selections once its fragments "
                    f"are spread; the limit is {limits.max_selections}.",
                    operation,
                    "MAX_RECURSIVE_SELECTIONS_LIMIT",
                )
            )
        if size.depth > limits.max_depth:
            errors.append(
                _limit_error(
                    f"The operation is nested {size.depth} levels deep; the limit is "
                    f"{limits.max_depth}.",
                    operation,
                    "MAX_DEPTH_LIMIT",
                )
            )
        if size.aliases > limits.max_aliases:
            errors.append(
                _limit_error(
                    f"The operation uses {size.aliases} aliases; the limit is "
                    f"{limits.max_aliases}.",
                    operation,
                    "MAX_ALIASES_LIMIT",
                )
            )
        if size.fields > limits.max_root_fields:
            errors.append(
                _limit_error(
                    f"The operation selects {size.fields} root fields; the limit is "
                    f"{limits.max_root_fields}.",
                    operation,
                    "MAX_ROOT_FIELDS_LIMIT",
                )
            )
    return errors
