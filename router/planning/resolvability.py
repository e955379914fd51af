"""Questions the planner asks of the supergraph: who can resolve what, where."""

from functools import lru_cache

from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.type.definition import GraphQLInterfaceType

from router.federation.fieldset import parse_field_set
from router.planning.collect import type_applies
from router.supergraph.model import Supergraph


def field_type(supergraph: Supergraph, type_name: str, field_name: str) -> tuple[str, int]:
    """The named type of a field and how many lists wrap it."""
    parent = supergraph.schema.type_map[type_name]
    assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
    gql_type = parent.fields[field_name].type
    depth = 0
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        if isinstance(gql_type, GraphQLList):
            depth += 1
        gql_type = gql_type.of_type
    return get_named_type(gql_type).name, depth


def field_signature(supergraph: Supergraph, type_name: str, field_name: str) -> str:
    parent = supergraph.schema.type_map[type_name]
    assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
    return str(parent.fields[field_name].type)


def provided_fields(
    supergraph: Supergraph, provided: SelectionSetNode | None, type_name: str
) -> dict[str, list[SelectionSetNode]]:
    result: dict[str, list[SelectionSetNode]] = {}
    if provided is None:
        return result
    for selection in provided.selections:
        if isinstance(selection, FieldNode):
            subs = result.setdefault(selection.name.value, [])
            if selection.selection_set is not None:
                subs.append(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if type_applies(supergraph, condition, type_name):
                for name, subs in provided_fields(
                    supergraph, selection.selection_set, type_name
                ).items():
                    result.setdefault(name, []).extend(subs)
    return result


@lru_cache(maxsize=8192)
def _key_field_names(fields: str) -> frozenset[str]:
    return frozenset(
        s.name.value for s in parse_field_set(fields).selections if isinstance(s, FieldNode)
    )


def is_key_field(supergraph: Supergraph, graph: str, type_name: str, field_name: str) -> bool:
    info = supergraph.types.get(type_name)
    if info is None:
        return False
    return any(field_name in _key_field_names(key) for key in info.any_keys(graph))


def can_resolve(
    supergraph: Supergraph,
    graph: str,
    type_name: str,
    field_name: str,
    provided: SelectionSetNode | None = None,
) -> bool:
    if field_name == "__typename":
        return True
    if graph in supergraph.field_graphs(type_name, field_name):
        return True
    join = supergraph.field_join(type_name, field_name, graph)
    if join is None or join.used_overridden:
        return False
    return field_name in provided_fields(supergraph, provided, type_name)


def requires_of(supergraph: Supergraph, graph: str, type_name: str, field_name: str) -> str | None:
    join = supergraph.field_join(type_name, field_name, graph)
    return join.requires if join is not None else None


def interfaces_of(supergraph: Supergraph, type_name: str) -> list[str]:
    gql_type = supergraph.schema.type_map.get(type_name)
    if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType):
        return [i.name for i in gql_type.interfaces]
    return []
