"""The typed supergraph: who resolves which type and field, with which keys."""

import random
import re
from dataclasses import dataclass, field, replace

from graphql import GraphQLSchema

from router.supergraph.access import AccessRules
from router.supergraph.costs import CostDirectives


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


_MAX_LABEL_VIEWS = 64
_PERCENT = re.compile(r"percent\((\d{1,3}(?:\.\d+)?)\)")


def label_percent(label: str) -> float | None:
    """N for a `percent(N)` label, None for a label enabled only by configuration."""
    found = _PERCENT.fullmatch(label)
    return float(found.group(1)) if found else None


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
    # progressive `@override(label:)`s taken over in this view of the supergraph
    active_labels: frozenset[str] = frozenset()
    contexts: dict[str, frozenset[str]] = field(default_factory=dict)  # name -> setting types
    costs: CostDirectives = field(default_factory=CostDirectives)  # @cost, @listSize
    _field_graphs: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    _label_views: "dict[frozenset[str], Supergraph]" = field(default_factory=dict)
    _labels: frozenset[str] | None = None

    def override_labels(self) -> frozenset[str]:
        if self._labels is None:
            self._labels = frozenset(
                join.override_label
                for info in self.types.values()
                for joins in info.fields.values()
                for join in joins
                if join.override_label
            )
        return self._labels

    def draw_labels(self, enabled: frozenset[str], rng: random.Random) -> frozenset[str]:
        """The labels one request runs with: each `percent(N)` label on with probability N%
        (drawn once per label), the others on only when `enabled` names them."""
        labels = self.override_labels()
        if not labels:
            return labels
        active = set()
        for label in sorted(labels):
            percent = label_percent(label)
            if label in enabled or (percent is not None and rng.random() * 100 < percent):
                active.add(label)
        return frozenset(active)

    def with_labels(self, active: frozenset[str]) -> "Supergraph":
        """This supergraph with the overrides of `active` labels taken over, the others not."""
        active = active & self.override_labels()
        if active == self.active_labels:
            return self
        view = self._label_views.get(active)
        if view is None:
            if len(self._label_views) >= _MAX_LABEL_VIEWS:
                self._label_views.clear()
            view = replace(self, active_labels=active, _field_graphs={}, _label_views={})
            self._label_views[active] = view
        return view

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
                result = frozenset(j.graph for j in joins if j.graph and self._resolves(j))
        self._field_graphs[cache_key] = result
        return result

    def _resolves(self, join: FieldJoin) -> bool:
        """A progressive override: the overriding subgraph resolves the field while its label
        is active, the overridden one (its join has the label but no `override`, and may be
        `usedOverridden` as a key) otherwise."""
        if join.external:
            return False
        if join.override_label:
            return (join.override is not None) == (join.override_label in self.active_labels)
        return not join.used_overridden

    def possible_types(self, type_name: str, graph: str | None = None) -> tuple[str, ...]:
        """Object types that can appear where `type_name` is expected (in `graph`, if given)."""
        return self.types[type_name].possible.get(graph, ())
