"""Operation limits checked after validation, before planning: depth, aliases, root fields.

The codes are Apollo Router's (MAX_DEPTH_LIMIT, MAX_ALIASES_LIMIT, MAX_ROOT_FIELDS_LIMIT), so
clients written against it recognise them. Fragments count where they are spread.
"""

from dataclasses import dataclass

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

MAX_DEPTH = 20


@dataclass(frozen=True)
class Limits:
    max_depth: int = MAX_DEPTH
    max_aliases: int = 50
    max_root_fields: int = 50


@dataclass
class _Measure:
    depth: int = 0
    aliases: int = 0


def _walk(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
    measure: _Measure,
) -> int:
    """The depth below this selection set; counts aliases on the way."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.alias is not None:
                measure.aliases += 1
            below = _walk(selection.selection_set, fragments, seen, measure)
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _walk(selection.selection_set, fragments, seen, measure))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                below = _walk(fragment.selection_set, fragments, seen | {name}, measure)
                deepest = max(deepest, below)
    return deepest


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += 1
        elif isinstance(selection, InlineFragmentNode):
            count += _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                count += _root_fields(fragment.selection_set, fragments)
    return count


def _limit_error(message: str, node: OperationDefinitionNode, code: str) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": code})


def check_limits(document: DocumentNode, limits: Limits = Limits()) -> list[GraphQLError]:
    """Errors for every operation in a (validated) document that exceeds a limit."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        measure = _Measure()
        depth = _walk(definition.selection_set, fragments, frozenset(), measure)
        if depth > limits.max_depth:
            errors.append(
                _limit_error(
                    f"The operation is nested {depth} levels deep; the limit is "
                    f"{limits.max_depth}.",
                    definition,
                    "MAX_DEPTH_LIMIT",
                )
            )
        if measure.aliases > limits.max_aliases:
            errors.append(
                _limit_error(
                    f"The operation uses {measure.aliases} aliases; the limit is "
                    f"{limits.max_aliases}.",
                    definition,
                    "MAX_ALIASES_LIMIT",
                )
            )
        roots = _root_fields(definition.selection_set, fragments)
        if roots > limits.max_root_fields:
            errors.append(
                _limit_error(
                    f"The operation selects {roots} root fields; the limit is "
                    f"{limits.max_root_fields}.",
                    definition,
                    "MAX_ROOT_FIELDS_LIMIT",
                )
            )
    return errors
