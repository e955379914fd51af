"""The typed supergraph: who resolves which type and field, with which keys."""

from dataclasses import dataclass, field

from graphql import GraphQLSchema

from router.supergraph.access import AccessRules


@dataclass(frozen=True)
class Subgraph:
    name: str
    url: str


@dataclass(frozen=True)
class TypeJoin:
    graph: str
    key: str | None = None
    extension: bool = False
    resolvable: bool = True
    is_interface_object: bool = False


@dataclass(frozen=True)
class ContextArgument:
    """An argument the router fills from an ancestor's context (`@fromContext`)."""

    name: str
    type: str
    context: str
    selection: str


@dataclass(frozen=True)
class FieldJoin:
    graph: str | None
    requires: str | None = None
    provides: str | None = None
    type: str | None = None
    external: bool = False
    override: str | None = None
    override_label: str | None = None
    used_overridden: bool = False
    context_arguments: tuple[ContextArgument, ...] = ()


@dataclass
class TypeInfo:
    name: str
    kind: str  # "object" | "interface" | "union" | "enum" | "input" | "scalar"
    joins: list[TypeJoin] = field(default_factory=list)
    implements: dict[str, set[str]] = field(default_factory=dict)  # graph -> interfaces
    members: dict[str, set[str]] = field(default_factory=dict)  # graph -> union members
    fields: dict[str, list[FieldJoin]] = field(default_factory=dict)  # [] = no @join__field
    graphs: frozenset[str] = frozenset()
    possible: dict[str | None, tuple[str, ...]] = field(default_factory=dict)

    def keys(self, graph: str) -> list[str]:
        return [j.key for j in self.joins if j.graph == graph and j.key and j.resolvable]

    def any_keys(self, graph: str) -> list[str]:
        return [j.key for j in self.joins if j.graph == graph and j.key]

    def is_interface_object(self, graph: str) -> bool:
        return any(j.graph == graph and j.is_interface_object for j in self.joins)

    def is_entity(self) -> bool:
        return any(j.key for j in self.joins)


@dataclass
class Supergraph:
    schema: GraphQLSchema
    api_schema: GraphQLSchema
    subgraphs: dict[str, Subgraph]  # by subgraph name
    types: dict[str, TypeInfo]
    query_type: str = "Query"
    mutation_type: str | None = None
    subscription_type: str | None = None
    access: AccessRules = field(default_factory=AccessRules)
    contexts: dict[str, frozenset[str]] = field(default_factory=dict)  # name -> setting types
    _field_graphs: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def type(self, name: str) -> TypeInfo:
        return self.types[name]

    def field_joins(self, type_name: str, field_name: str) -> list[FieldJoin]:
        info = self.types.get(type_name)
        if info is None:
            return []
        return info.fields.get(field_name, [])

    def field_join(self, type_name: str, field_name: str, graph: str) -> FieldJoin | None:
        for join in self.field_joins(type_name, field_name):
            if join.graph == graph:
                return join
        return None

    def field_graphs(self, type_name: str, field_name: str) -> frozenset[str]:
        """Subgraphs that resolve the field themselves (not external, not overridden)."""
        cache_key = (type_name, field_name)
        cached = self._field_graphs.get(cache_key)
        if cached is not None:
            return cached
        info = self.types.get(type_name)
        result: frozenset[str]
        if info is None:
            result = frozenset()
        elif field_name == "__typename":
            result = info.graphs
        elif field_name not in info.fields:
            result = frozenset()
        else:
            joins = info.fields[field_name]
            if not joins:
                result = info.graphs
            else:
                # A progressive override (`overrideLabel`) is treated as fully migrated:
                # the overriding subgraph always resolves the field.
                result = frozenset(
                    j.graph
                    for j in joins
                    if j.graph is not None
                    and not j.external
                    and not j.used_overridden
                    and not (j.override_label and j.override is None)
                )
        self._field_graphs[cache_key] = result
        return result

    def possible_types(self, type_name: str, graph: str | None = None) -> tuple[str, ...]:
        """Object types that can appear where `type_name` is expected (in `graph`, if given)."""
        return self.types[type_name].possible.get(graph, ())
