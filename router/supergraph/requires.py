"""`@requires` field sets as the router selects them: fields with arguments get stable aliases."""

import hashlib
from functools import lru_cache

from graphql import (
    FieldNode,
    InlineFragmentNode,
    NameNode,
    SelectionNode,
    SelectionSetNode,
    print_ast,
)

from router.federation.fieldset import parse_field_set

REQUIRES_ALIAS = "__fed_requires_"


def _argument_alias(node: FieldNode) -> NameNode | None:
    if not node.arguments:
        return node.alias
    printed = ",".join(print_ast(a) for a in node.arguments)
    digest = hashlib.sha256(printed.encode()).hexdigest()[:10]
    return NameNode(value=f"{node.name.value}{REQUIRES_ALIAS}{digest}")


def _alias_arguments(selection_set: SelectionSetNode) -> SelectionSetNode:
    selections: list[SelectionNode] = []
    for selection in selection_set.selections:
        sub = getattr(selection, "selection_set", None)
        inner = _alias_arguments(sub) if sub is not None else None
        if isinstance(selection, FieldNode):
            selections.append(
                FieldNode(
                    alias=_argument_alias(selection),
                    name=selection.name,
                    arguments=selection.arguments,
                    directives=selection.directives,
                    selection_set=inner,
                )
            )
        elif isinstance(selection, InlineFragmentNode) and inner is not None:
            selections.append(
                InlineFragmentNode(
                    type_condition=selection.type_condition,
                    directives=selection.directives,
                    selection_set=inner,
                )
            )
    return SelectionSetNode(selections=tuple(selections))


@lru_cache(maxsize=4096)
def parse_requires(fields: str) -> SelectionSetNode:
    """A `@requires` field set whose fields with arguments get stable aliases.

    Two fields may require the same field with different arguments; the aliases keep both
    values apart in the response tree until each representation is built.
    """
    return _alias_arguments(parse_field_set(fields))
