"""The planner's working state: fetch groups being filled and positions inside them."""

from dataclasses import dataclass, field
from typing import NamedTuple

from graphql import ArgumentNode, DirectiveNode, SelectionSetNode

from router.planning.conditions import Conditions
from router.planning.selection import SelSet


class PlanningError(Exception):
    """The operation cannot be planned against this supergraph."""


@dataclass(frozen=True)
class FieldStep:
    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...]
    conditions: tuple[DirectiveNode, ...]
    child_type: str
    list_depth: int


@dataclass(frozen=True)
class FragmentStep:
    type_name: str


Step = FieldStep | FragmentStep


class ClientSelection(NamedTuple):
    """The client's selection sets at one object, and the type they select on there (an
    abstract type when the object is reached through one)."""

    type_name: str
    sets: tuple[SelectionSetNode, ...]


@dataclass(eq=False)
class ContextUse:
    """A contextual argument of the field at `field_key` in `selset`, passed as `$variable`;
    its value is read from the nearest ancestor (by depth: fields below the root) whose type
    is one of the source's typenames, via the source's field set."""

    variable: str
    type: str
    selset: SelSet
    field_key: tuple[str, str]
    sources: list[tuple[int, frozenset[str], str]] = field(default_factory=list)

    def add_source(self, depth: int, typenames: frozenset[str], field_set: str) -> None:
        if (depth, typenames, field_set) not in self.sources:
            self.sources.append((depth, typenames, field_set))
            self.sources.sort(key=lambda source: -source[0])


@dataclass(eq=False)
class Group:
    id: int
    subgraph: str
    path: tuple[str, ...]
    entity: bool
    selset: SelSet = field(default_factory=SelSet)
    representations: dict[str, list[str]] = field(default_factory=dict)  # -> field sets
    typenames: dict[str, str] = field(default_factory=dict)  # data typename -> representation
    # alias -> (path inside the entity, key, types): see `ScopedAlias`
    scoped: dict[str, tuple[tuple[str, ...], str, set[str]]] = field(default_factory=dict)
    deps: "set[Group]" = field(default_factory=set)
    # what every selection this group serves is conditioned on: the fetch runs only then
    conditions: Conditions | None = None  # None until something is planned into the group
    waits_for_requires: bool = False  # it depends on fetches of some @requires fields

    def ancestors(self) -> "set[Group]":
        seen: set[Group] = set()
        stack = list(self.deps)
        while stack:
            group = stack.pop()
            if group not in seen:
                seen.add(group)
                stack.extend(group.deps)
        return seen

    def serve_under(self, conditions: Conditions) -> None:
        self.conditions = conditions if self.conditions is None else self.conditions & conditions

    contexts: list[ContextUse] = field(default_factory=list)

    def depends_on(self, other: "Group") -> bool:
        seen: set[int] = set()
        stack = list(self.deps)
        while stack:
            group = stack.pop()
            if group is other:
                return True
            if group.id not in seen:
                seen.add(group.id)
                stack.extend(group.deps)
        return False

    def add_input(self, typenames: tuple[str, ...], representation: str, fields: str) -> None:
        for typename in typenames:
            self.typenames.setdefault(typename, representation)
        field_sets = self.representations.setdefault(representation, [])
        if fields not in field_sets:
            field_sets.append(fields)


@dataclass
class Anchor:
    pos: "Pos"
    steps: tuple[Step, ...] = ()


@dataclass
class Pos:
    group: Group
    selset: SelSet
    type_name: str
    path: tuple[str, ...]
    provided: SelectionSetNode | None = None
    anchors: tuple[Anchor, ...] = ()  # entity (or root) ancestors, innermost first
    entity_parent: "Pos | None" = None  # set where selset sits directly under `_entities`
    runtime_types: frozenset[str] | None = None  # narrowed by a shareable abstract field
    inherited: dict[str, str] = field(default_factory=dict)  # keys the enclosing level selects
    # the client's selection sets for this object (None: not known here), and whether the
    # position plans the router's own selections (keys, @requires inputs)
    client: ClientSelection | None = None
    internal: bool = False
    # the object types this position's data may have, where a representation (an
    # @interfaceObject's interface) is shared by several
    scope: frozenset[str] | None = None
    scope_root: int = 0  # where the entity with that scope starts in `path`
    parent: "Pos | None" = None  # the object this one is a field of (None at the root)

    def anchor_here(self) -> None:
        self.anchors = (Anchor(self), *self.anchors)

    def child(self, selset: SelSet, type_name: str, path: tuple[str, ...], step: Step) -> "Pos":
        anchors = tuple(Anchor(a.pos, (*a.steps, step)) for a in self.anchors)
        parent = self if isinstance(step, FieldStep) else self.parent
        child = Pos(self.group, selset, type_name, path, None, anchors, None, parent=parent)
        child.internal = self.internal
        child.scope, child.scope_root = self.scope, self.scope_root
        return child
