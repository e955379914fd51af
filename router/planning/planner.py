"""Planning one operation: which subgraph fetches which fields, and in which order."""

from collections.abc import Callable, Mapping
from dataclasses import replace

from graphql import FragmentDefinitionNode, SelectionSetNode

from router.federation.fieldset import parse_field_set
from router.federation.typerefs import named_type
from router.planning.collect import CField, collect_fields
from router.planning.conditions import Conditions, variable_conditions
from router.planning.context import (
    ClientSelection,
    ContextUse,
    FieldStep,
    FragmentStep,
    Group,
    PlanningError,
    Pos,
    Step,
)
from router.planning.contextual import (
    context_arguments,
    context_sources,
    context_variable,
    free_context_number,
    key_depth,
    with_variables,
)
from router.planning.cost import CostModel
from router.planning.groups import GroupRegistry
from router.planning.internal import apart_from_client, print_field_set, printed_arguments
from router.planning.resolvability import (
    can_resolve,
    field_signature,
    field_type,
    provided_fields,
    requires_of,
)
from router.planning.routes import Route, find_routes
from router.planning.selection import SCOPED_MARKER, FieldSel, conditions_key
from router.supergraph.model import Supergraph
from router.supergraph.requires import parse_requires

_INTROSPECTION = frozenset({"__schema", "__type"})
_MAX_JUMPS = 200


def _same_field(sel: FieldSel, cf: CField) -> bool:
    return sel.name == cf.name and printed_arguments(sel.arguments) == printed_arguments(
        cf.node.arguments
    )


# Fields already planned: (response key, conditions) -> ids of the selection sets planned
Skip = Mapping[tuple[str, str], frozenset[int]]


def _without(fields: list[CField], skip: Skip) -> list[CField]:
    """`fields` less those already planned; a field planned with fewer selection sets than
    it has here (a fragment on this type adds some) keeps the others."""
    if not skip:
        return fields
    kept = []
    for f in fields:
        planned = skip.get((f.response_key, conditions_key(f.conditions)))
        if planned is None:
            kept.append(f)
            continue
        extra = [s for s in f.selection_sets if id(s) not in planned]
        if extra:
            kept.append(replace(f, selection_sets=extra))
    return kept


def _planned(fields: list[CField]) -> dict[tuple[str, str], frozenset[int]]:
    return {
        (f.response_key, conditions_key(f.conditions)): frozenset(map(id, f.selection_sets))
        for f in fields
    }


class Planner:
    def __init__(
        self,
        supergraph: Supergraph,
        fragments: dict[str, FragmentDefinitionNode],
        variables: frozenset[str] = frozenset(),
    ) -> None:
        self.sg = supergraph
        self.variables = variables  # the operation's names: generated ones must differ
        self.fragments = fragments
        self.registry = GroupRegistry()
        self.costs = CostModel(supergraph, fragments)
        self.jumps = 0
        self.key_stack: list[tuple[str, str, str]] = []
        self.conditions: Conditions = frozenset()  # of the client's field being planned
        self.context_uses = 0

    @property
    def groups(self) -> list[Group]:
        return self.registry.groups

    def root_group(self, subgraph: str) -> Group:
        return self.registry.root_group(subgraph)

    def cost(self, graph: str, type_name: str, sets: list[SelectionSetNode]) -> int:
        return self.costs.cost(graph, type_name, sets)

    def signature(self, type_name: str, field_name: str, graph: str) -> str:
        join = self.sg.field_join(type_name, field_name, graph)
        if join is not None and join.type:
            return join.type
        return field_signature(self.sg, type_name, field_name)

    # selections -----------------------------------------------------------------------

    def plan_selection(
        self,
        pos: Pos,
        sets: list[SelectionSetNode],
        skip: Skip | None = None,
        inputs: bool = False,
    ) -> set[Group]:
        skip = skip or {}
        info = self.sg.types[pos.type_name]
        graph = pos.group.subgraph
        if pos.client is None and not pos.internal:
            pos.client = ClientSelection(pos.type_name, tuple(sets))
        if info.kind == "object":
            if info.is_entity():
                pos.anchor_here()
            fields = collect_fields(self.sg, self.fragments, pos.type_name, sets).fields
            return self.plan_fields(pos, _without(fields, skip))
        if info.is_interface_object(graph):
            if inputs:
                fields = collect_fields(self.sg, self.fragments, pos.type_name, sets).fields
                return self.plan_fields(pos, fields)
            return self.plan_interface_object(pos, sets)
        pos.selset.add_typename()
        involved = {pos.group}
        possible = self.sg.possible_types(pos.type_name, graph)
        if pos.runtime_types is not None:
            possible = tuple(t for t in possible if t in pos.runtime_types)
        if not possible:
            fields = collect_fields(self.sg, self.fragments, pos.type_name, sets).fields
            return involved | self.plan_fields(pos, _without(fields, skip))
        shared = self._shared_leaves(pos, possible, sets, skip)
        if shared:
            involved |= self.plan_fields(pos, shared)
            skip = {**skip, **_planned(shared)}
        inherited = {"__typename": "__typename"}
        inherited.update(
            (f.response_key, f.name) for f in shared if not f.conditions and not f.node.arguments
        )
        for type_name in possible:
            fields = _without(collect_fields(self.sg, self.fragments, type_name, sets).fields, skip)
            if not fields:
                continue
            step = FragmentStep(type_name)
            sub = pos.child(pos.selset.fragment(type_name), type_name, pos.path, step)
            sub.provided = pos.provided
            sub.entity_parent = pos.entity_parent
            sub.inherited = inherited
            sub.client = pos.client
            if self.sg.types[type_name].is_entity():
                sub.anchor_here()
            involved |= self.plan_fields(sub, fields)
        return involved

    def _shared_leaves(
        self,
        pos: Pos,
        possible: tuple[str, ...],
        sets: list[SelectionSetNode],
        skip: Skip,
    ) -> list[CField]:
        """Leaf fields asked on the interface itself that the subgraph resolves for every
        possible type: they are fetched once on the interface, not once per type."""
        if self.sg.types[pos.type_name].kind != "interface":
            return []
        graph = pos.group.subgraph
        fields = _without(collect_fields(self.sg, self.fragments, pos.type_name, sets).fields, skip)
        return [
            f
            for f in fields
            if not f.selection_sets
            and not f.name.startswith("__")
            and can_resolve(self.sg, graph, pos.type_name, f.name, pos.provided)
            and all(
                can_resolve(self.sg, graph, t, f.name, pos.provided)
                and requires_of(self.sg, graph, t, f.name) is None
                for t in possible
            )
        ]

    def plan_fields(self, pos: Pos, fields: list[CField]) -> set[Group]:
        involved = {pos.group}
        for cf in fields:
            involved |= self.plan_field(pos, cf)
        return involved

    def plan_field(self, pos: Pos, cf: CField) -> set[Group]:
        conditions = variable_conditions(cf.conditions)
        if conditions is None:
            return {pos.group}  # `@skip(if: true)` or `@include(if: false)`: never asked
        outer = self.conditions
        self.conditions = outer | conditions
        try:
            pos.group.serve_under(self.conditions)
            return self._plan_field(pos, cf)
        finally:
            self.conditions = outer

    def _plan_field(self, pos: Pos, cf: CField) -> set[Group]:
        if cf.name == "__typename" or cf.name in _INTROSPECTION:
            return {pos.group}
        graph, type_name = pos.group.subgraph, pos.type_name
        if can_resolve(self.sg, graph, type_name, cf.name, pos.provided):
            requires = requires_of(self.sg, graph, type_name, cf.name)
            contextual = context_arguments(self.sg, graph, type_name, cf.name)
            if requires is None and not contextual:
                return self.add_local(pos, cf)
            if requires and self._type_learned_here(pos):
                return self.do_jump(
                    pos, graph, type_name, lambda inner: self.plan_field(inner, cf), requires
                )
            if pos.entity_parent is not None:
                involved = self.plan_requires(pos, requires) if requires else set()
                if contextual:
                    return involved | self.plan_contextual(pos, cf)
                return involved | self.add_local(pos, cf)
            if contextual:
                return self.contextual_jump(pos, cf)
        return self.jump(pos, cf)

    def _type_learned_here(self, pos: Pos) -> bool:
        """Whether `pos` is a concrete type this fetch learns of an @interfaceObject: its
        @requires inputs belong to that type, so they are planned once it is known."""
        parent = pos.entity_parent
        return (
            parent is not None
            and parent.type_name != pos.type_name
            and self.sg.types[parent.type_name].is_interface_object(parent.group.subgraph)
        )

    def plan_requires(self, pos: Pos, requires: str) -> set[Group]:
        parent = pos.entity_parent
        assert parent is not None
        wanted = parse_requires(requires)
        inputs = self._apart(parent, wanted)
        self.registry.excluded.append(pos.group)
        try:
            deps = self.plan_selection(self._at(parent), [inputs], inputs=True)
        finally:
            self.registry.excluded.pop()
        pos.group.deps |= deps
        pos.group.waits_for_requires = True
        typenames, representation = self._input_typenames(parent.type_name, pos.type_name)
        pos.group.add_input(typenames, representation, self._field_set(requires, wanted, inputs))
        return deps

    def _apart(self, pos: Pos, wanted: SelectionSetNode) -> SelectionSetNode:
        return apart_from_client(self.sg, self.fragments, pos.type_name, pos.client, wanted)

    @staticmethod
    def _field_set(original: str, parsed: SelectionSetNode, planned: SelectionSetNode) -> str:
        return original if planned is parsed else print_field_set(planned)

    def contextual_jump(self, pos: Pos, cf: CField) -> set[Group]:
        """A field with contextual arguments is always fetched through `_entities`: its
        arguments come from data an earlier fetch returns."""
        graph = pos.group.subgraph
        if not self.sg.types[pos.type_name].keys(graph):
            raise PlanningError(
                f"cannot resolve {pos.type_name}.{cf.name} in {graph!r}: its contextual "
                f"arguments need {pos.type_name} to have a resolvable key there"
            )
        return self.do_jump(pos, graph, pos.type_name, lambda inner: self.plan_field(inner, cf))

    def plan_contextual(self, pos: Pos, cf: CField) -> set[Group]:
        """The field with its contextual arguments as variables, and their values selected on
        the ancestors that set the contexts (a field already planned from another position at
        the same path gets this position's ancestors too)."""
        arguments = context_arguments(self.sg, pos.group.subgraph, pos.type_name, cf.name)
        key = (cf.response_key, conditions_key(cf.conditions))
        uses = [u for u in pos.group.contexts if u.selset is pos.selset and u.field_key == key]
        if not uses:
            self.context_uses = free_context_number(self.context_uses + 1, self.variables)
            uses = [
                ContextUse(context_variable(self.context_uses, i), a.type, pos.selset, key)
                for i, a in enumerate(arguments)
            ]
            pos.group.contexts.extend(uses)
        involved: set[Group] = set()
        self.registry.excluded.append(pos.group)
        try:
            for argument, use in zip(arguments, uses, strict=True):
                for ancestor, typenames, field_set in context_sources(
                    self.sg, pos, argument, self.variables
                ):
                    ancestor.selset.add_typename()
                    involved |= self.plan_selection(
                        self._at(ancestor), [parse_field_set(field_set)], inputs=True
                    )
                    use.add_source(key_depth(ancestor.path), typenames, field_set)
        finally:
            self.registry.excluded.pop()
        pos.group.deps |= involved - {pos.group}
        names = [(a.name, u.variable) for a, u in zip(arguments, uses, strict=True)]
        return involved | self.add_local(pos, with_variables(cf, names))

    def add_local(self, pos: Pos, cf: CField) -> set[Group]:
        composite = bool(cf.selection_sets)
        plain = not composite and not cf.conditions and not cf.node.arguments
        if plain and pos.inherited.get(cf.response_key) == cf.name:
            return {pos.group}  # already selected on the enclosing interface
        sel = pos.selset.add_field(
            cf.name,
            self._scoped_alias(pos, cf),
            cf.node.arguments or (),
            cf.conditions,
            composite,
            self.signature(pos.type_name, cf.name, pos.group.subgraph),
            self._served(pos),
        )
        if not composite:
            return {pos.group}
        assert sel.sub is not None
        child, depth = field_type(self.sg, pos.type_name, cf.name)
        join = self.sg.field_join(pos.type_name, cf.name, pos.group.subgraph)
        if join is not None and join.type:
            own = named_type(join.type)
            if own in self.sg.types and own != child:
                child = own
                sel.sub.add_typename()
        step = FieldStep(cf.name, cf.alias, cf.node.arguments or (), cf.conditions, child, depth)
        path = (*pos.path, cf.response_key, *("@",) * depth)
        sub = pos.child(sel.sub, child, path, step)
        sub.runtime_types = self.shared_runtime_types(pos, cf, child)
        if join is not None and join.provides:
            sub.provided = parse_field_set(join.provides)
        else:
            provided = provided_fields(self.sg, pos.provided, pos.type_name).get(cf.name)
            if provided:
                sub.provided = SelectionSetNode(
                    selections=tuple(s for p in provided for s in p.selections)
                )
        return self.plan_selection(sub, cf.selection_sets)

    def _served(self, pos: Pos) -> Conditions:
        """The conditions a field added at `pos` is needed under: the router's own inputs
        (keys, @requires) are always fetched with their fetch."""
        return frozenset() if pos.internal else self.conditions

    def _scoped_alias(self, pos: Pos, cf: CField) -> str | None:
        """The alias `cf` is fetched under: its own, or, where another type sharing this
        representation asks the same response name of another field, one scoped to the types
        of `pos` (the executor gives it back its name for those types only)."""
        if pos.scope is None:
            return cf.alias
        conditions = conditions_key(cf.conditions)
        existing = pos.selset.fields.get((cf.response_key, conditions))
        if existing is None or _same_field(existing, cf):
            return cf.alias
        scoped = pos.group.scoped
        where = pos.path[pos.scope_root :]
        for alias, (path, key, typenames) in scoped.items():
            sel = pos.selset.fields.get((alias, conditions))
            same = sel is not None and _same_field(sel, cf)
            if same and (path, key) == (where, cf.response_key):
                typenames.update(pos.scope)
                return alias
        alias = f"{cf.response_key}{SCOPED_MARKER}{len(scoped) + 1}"
        scoped[alias] = (where, cf.response_key, set(pos.scope))
        return alias

    def shared_runtime_types(self, pos: Pos, cf: CField, child: str) -> frozenset[str] | None:
        """Runtime types of an abstract field that several reachable subgraphs resolve: only
        the types every one of them can return (the value must not depend on who answers)."""
        if self.sg.types[child].kind not in ("interface", "union"):
            return None
        graphs = self.sg.field_graphs(pos.type_name, cf.name)
        if len(graphs) < 2:
            return None
        reachable = {route.graph for route in find_routes(self.sg, pos, cf)}
        reachable.add(pos.group.subgraph)
        sources = graphs & reachable
        if len(sources) < 2:
            return None
        return frozenset.intersection(
            *(frozenset(self.sg.possible_types(child, g)) for g in sources)
        )

    # entity jumps -----------------------------------------------------------------------

    def jump(self, pos: Pos, cf: CField) -> set[Group]:
        routes = find_routes(self.sg, pos, cf)
        if not routes:
            raise PlanningError(
                f"cannot resolve {pos.type_name}.{cf.name} from subgraph "
                f"{pos.group.subgraph!r}: no subgraph reachable through a key resolves it"
            )

        def rank(route: Route) -> tuple[int, int, int, int]:
            source = route.anchor.pos
            key_missing = not route.at_root(self.sg) and (
                self.costs.key_cost(
                    route.graph, route.representation, source.group.subgraph, source.type_name
                )
                > 0
            )
            reuse = 0 if self.registry.has_reusable(route.graph, source.path) else 1
            cost = self.cost(route.graph, pos.type_name, cf.selection_sets)
            return (int(key_missing), cost, route.distance, reuse)

        route = min(routes, key=rank)
        steps = route.anchor.steps
        if route.at_root(self.sg):
            group = self.root_group(route.graph)
            root = Pos(group, group.selset, route.representation, ())
            root.anchor_here()
            return {group} | self._follow(root, steps, cf)
        requires = None if steps else requires_of(self.sg, route.graph, pos.type_name, cf.name)
        return self.do_jump(
            route.anchor.pos,
            route.graph,
            route.representation,
            lambda p: self._follow(p, steps, cf),
            requires,
        )

    def _follow(self, pos: Pos, steps: tuple[Step, ...], cf: CField) -> set[Group]:
        for step in steps:
            if isinstance(step, FragmentStep):
                pos = pos.child(pos.selset.fragment(step.type_name), step.type_name, pos.path, step)
                continue
            signature = self.signature(pos.type_name, step.name, pos.group.subgraph)
            sel = pos.selset.add_field(
                step.name,
                step.alias,
                step.arguments,
                step.conditions,
                True,
                signature,
                self._served(pos),
            )
            assert sel.sub is not None
            path = (*pos.path, step.alias or step.name, *("@",) * step.list_depth)
            pos = pos.child(sel.sub, step.child_type, path, step)
        return self.plan_field(pos, cf)

    def _at(self, pos: Pos) -> Pos:
        """The object at `pos`, for planning the router's own selections there."""
        at = Pos(pos.group, pos.selset, pos.type_name, pos.path, pos.provided, pos.anchors)
        at.inherited = pos.inherited
        at.client = pos.client
        at.internal = True
        at.parent = pos.parent
        return at

    def _input_typenames(self, data_type: str, representation: str) -> tuple[tuple[str, ...], str]:
        if data_type == representation or self.sg.types[data_type].kind == "object":
            return (data_type,), representation
        return (data_type, representation), representation

    def do_jump(
        self,
        source: Pos,
        graph: str,
        representation: str,
        plan_inside: Callable[[Pos], set[Group]],
        requires: str | None = None,
    ) -> set[Group]:
        self.jumps += 1
        if self.jumps > _MAX_JUMPS:
            raise PlanningError("the operation needs too many subgraph jumps to plan")
        key = self.costs.choose_key(graph, representation, source.group.subgraph, source.type_name)
        if "__typename" not in source.inherited:
            source.selset.add_typename()
        marker = (source.group.subgraph, source.type_name, key)
        if marker in self.key_stack:
            raise PlanningError(
                f"cannot reach {source.type_name} in {graph!r}: its key {key!r} is not "
                f"available from {source.group.subgraph!r}"
            )
        self.key_stack.append(marker)
        key_wanted = parse_field_set(key)
        key_set = self._apart(source, key_wanted)
        try:
            deps = self.plan_selection(self._at(source), [key_set], inputs=True)
        finally:
            self.key_stack.pop()
        group = self.registry.entity_group(graph, source.path, deps, requires)
        group.serve_under(self.conditions)
        typenames, rep = self._input_typenames(source.type_name, representation)
        if self.sg.types[source.type_name].kind != "object":
            typenames = (*typenames, *self.sg.possible_types(source.type_name))
        group.add_input(typenames, rep, self._field_set(key, key_wanted, key_set))
        inner = Pos(group, group.selset.fragment(representation), representation, source.path)
        inner.entity_parent = source
        inner.anchors = source.anchors
        inner.client = source.client
        inner.internal = source.internal
        if rep != source.type_name and self.sg.types[rep].kind != "object":
            inner.scope = frozenset(t for t in typenames if t != rep)
            inner.scope_root = len(inner.path)
        inner.parent = source.parent
        if self.sg.types[representation].kind == "object":
            inner.anchor_here()
        return {group} | plan_inside(inner)

    def plan_interface_object(self, pos: Pos, sets: list[SelectionSetNode]) -> set[Group]:
        pos.anchor_here()
        collected = collect_fields(self.sg, self.fragments, pos.type_name, sets)
        involved = self.plan_fields(pos, [f for f in collected.fields if f.name != "__typename"])
        info = self.sg.types[pos.type_name]
        targets = [
            g for g in sorted(info.graphs) if info.keys(g) and not info.is_interface_object(g)
        ]
        if not targets:
            return involved
        done = _planned([f for f in collected.fields if f.name != "__typename"])
        needed = self._concrete_type_needed(pos, sets, collected.fields, done)
        if needed is None:
            return involved
        outer = self.conditions
        self.conditions = outer | needed
        try:
            return involved | self.do_jump(
                pos, targets[0], pos.type_name, lambda p: self.plan_selection(p, sets, done)
            )
        finally:
            self.conditions = outer

    def _concrete_type_needed(
        self,
        pos: Pos,
        sets: list[SelectionSetNode],
        fields: list[CField],
        done: Skip,
    ) -> Conditions | None:
        """Under which conditions an @interfaceObject's concrete type must be fetched from the
        interface's subgraph: for `__typename`, for fragments on other types, for fields its
        own subgraph lacks. None when the selection needs none of these."""
        graph, type_name = pos.group.subgraph, pos.type_name
        needs = [
            f
            for f in fields
            if f.name == "__typename"
            or not can_resolve(self.sg, graph, type_name, f.name, pos.provided)
        ]
        for possible in self.sg.possible_types(type_name):
            needs += _without(collect_fields(self.sg, self.fragments, possible, sets).fields, done)
        applying = [c for f in needs if (c := variable_conditions(f.conditions)) is not None]
        return frozenset.intersection(*applying) if applying else None
