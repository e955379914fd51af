"""The router's own selections (keys, `@requires` inputs) kept apart from the client's.

A key or `@requires` field the planner adds to a fetch shares the object with the client's
fields. Where the client gives the same response name to another field (`{ id: name }`, or
the same field with other arguments), the router's selection is aliased to a name no client
field at that object uses; representations read the value back from that alias.
"""

from collections.abc import Sequence

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    NameNode,
    SelectionNode,
    SelectionSetNode,
    print_ast,
)

from router.planning.collect import collect_fields
from router.planning.context import ClientSelection
from router.planning.resolvability import field_type
from router.supergraph.model import Supergraph

INPUT_ALIAS = "__fed_input_"

Signature = tuple[str, str]  # field name, printed arguments


def printed_arguments(arguments: Sequence[ArgumentNode] | None) -> str:
    return ",".join(print_ast(a) for a in arguments or ())


def _signature(node: FieldNode) -> Signature:
    return node.name.value, printed_arguments(node.arguments)


class _ClientFields:
    """The client's response names at one object (any of its runtime types)."""

    def __init__(
        self,
        supergraph: Supergraph,
        fragments: dict[str, FragmentDefinitionNode],
        type_name: str,
        sets: tuple[SelectionSetNode, ...],
    ) -> None:
        types = [type_name]
        if supergraph.types[type_name].kind in ("interface", "union"):
            types.extend(supergraph.possible_types(type_name))
        self.signatures: dict[str, set[Signature]] = {}
        self.subs: dict[str, list[SelectionSetNode]] = {}
        for runtime in types:
            for cf in collect_fields(supergraph, fragments, runtime, list(sets)).fields:
                self.signatures.setdefault(cf.response_key, set()).add(_signature(cf.node))
                self.subs.setdefault(cf.response_key, []).extend(cf.selection_sets)

    def free_alias(self, name: str) -> str:
        alias, count = f"{INPUT_ALIAS}{name}", 0
        while alias in self.signatures:
            count += 1
            alias = f"{INPUT_ALIAS}{name}_{count}"
        return alias


def apart_from_client(
    supergraph: Supergraph,
    fragments: dict[str, FragmentDefinitionNode],
    type_name: str,
    client: ClientSelection | None,
    wanted: SelectionSetNode,
) -> SelectionSetNode:
    """`wanted` (a key or `@requires` field set at an object of `type_name`) with each field
    the client's selections name differently aliased away; `wanted` itself when none is.

    The client's names are those of every runtime type the object may have, so that all the
    types at one place in the response alias alike (they may share a representation)."""
    if client is None or not client.sets:
        return wanted
    fields = _ClientFields(supergraph, fragments, client.type_name, client.sets)
    changed = False
    selections: list[SelectionNode] = []
    for selection in wanted.selections:
        new = selection
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            theirs = fields.signatures.get(key)
            if theirs and theirs != {_signature(selection)}:
                new = _with(
                    selection, NameNode(value=fields.free_alias(key)), selection.selection_set
                )
            elif theirs and selection.selection_set is not None:
                child, _ = field_type(supergraph, type_name, selection.name.value)
                subs = ClientSelection(child, tuple(fields.subs[key]))
                inner = apart_from_client(
                    supergraph, fragments, child, subs, selection.selection_set
                )
                new = _with(selection, selection.alias, inner)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner = apart_from_client(
                supergraph,
                fragments,
                condition.name.value if condition else type_name,
                client,
                selection.selection_set,
            )
            if inner is not selection.selection_set:
                new = InlineFragmentNode(
                    type_condition=condition, directives=selection.directives, selection_set=inner
                )
        changed = changed or new is not selection
        selections.append(new)
    return SelectionSetNode(selections=tuple(selections)) if changed else wanted


def _with(
    node: FieldNode, alias: NameNode | None, selection_set: SelectionSetNode | None
) -> FieldNode:
    if alias is node.alias and selection_set is node.selection_set:
        return node
    return FieldNode(
        alias=alias,
        name=node.name,
        arguments=node.arguments,
        directives=node.directives,
        selection_set=selection_set,
    )


def print_field_set(selection_set: SelectionSetNode) -> str:
    return " ".join(print_ast(s) for s in selection_set.selections)
