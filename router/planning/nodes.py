"""The query plan's data model. Algorithms live elsewhere; these only describe."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

OperationKind = Literal["query", "mutation", "subscription"]


@dataclass(frozen=True, slots=True)
class InputField:
    """One field of an entity representation: read `name` from the data, with its sub-fields."""

    name: str
    selections: "tuple[InputSelection, ...] | None" = None
    key: str = ""  # where the value sits in the response tree when aliased

    @property
    def response_key(self) -> str:
        return self.key or self.name


@dataclass(frozen=True, slots=True)
class InputFragment:
    type_condition: str
    selections: "tuple[InputSelection, ...]"
    typenames: frozenset[str] = frozenset()  # object types the condition matches


InputSelection = InputField | InputFragment


@dataclass(frozen=True, slots=True)
class EntityInput:
    """How to turn an object whose `__typename` is one of `typenames` into a representation."""

    typenames: frozenset[str]
    representation_typename: str
    selections: tuple[InputSelection, ...]
    # (name, response key) of each field when all are scalars without a type condition
    # (most keys: `id`), else None: such a representation is read without the general walk.
    flat: tuple[tuple[str, str], ...] | None = field(init=False, compare=False, repr=False)
    # With `flat`: what tells two objects' representations apart without building them,
    # the representation's type and names with the objects' values (`flat_values(obj)`,
    # KeyError when one is missing). None otherwise.
    flat_names: tuple[str, tuple[str, ...]] | None = field(init=False, compare=False, repr=False)
    flat_values: "Callable[[Mapping[str, Any]], Any] | None" = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        flat = tuple(
            (selection.name, selection.response_key)
            for selection in self.selections
            if isinstance(selection, InputField) and selection.selections is None
        )
        whole = flat if len(flat) == len(self.selections) else None
        object.__setattr__(self, "flat", whole)
        names = None
        getter = None
        if whole:  # (itemgetter needs a key)
            names = (self.representation_typename, tuple(name for name, _ in whole))
            getter = itemgetter(*(key for _, key in whole))
        object.__setattr__(self, "flat_names", names)
        object.__setattr__(self, "flat_values", getter)


@dataclass(frozen=True, slots=True)
class ScopedAlias:
    """An entity field fetched as `alias` that answers `key` only for entities of `typenames`:
    types sharing one `@interfaceObject` representation ask `key` with other arguments.
    `path` leads from the entity to the object holding it ("@" for a list)."""

    alias: str
    key: str
    typenames: frozenset[str]
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContextSource:
    """An ancestor that may set a context: `depth` fields below the root, one of `typenames`."""

    depth: int
    typenames: frozenset[str]
    selections: tuple[InputSelection, ...]


@dataclass(frozen=True, slots=True)
class ContextVariable:
    """A `@fromContext` argument's value, sent as `$name`; the nearest source that has it."""

    name: str
    type: str
    sources: tuple[ContextSource, ...]


@dataclass(frozen=True, slots=True)
class FetchNode:
    service: str
    operation: str
    variable_usages: tuple[str, ...] = ()
    inputs: tuple[EntityInput, ...] = ()
    operation_kind: OperationKind = "query"
    has_aliases: bool = False
    scoped: tuple[ScopedAlias, ...] = ()
    contexts: tuple[ContextVariable, ...] = ()
    # An entity fetch that also serves the key-only fields of another fetch, folded into it
    # (`router.planning.groups.fold_key_only`): that fetch, for the objects this one's inputs
    # cannot represent (a `@requires` input missing: the fetch providing it failed).
    fallback: "FetchNode | None" = None

    @property
    def is_entity_fetch(self) -> bool:
        return bool(self.inputs)


@dataclass(frozen=True, slots=True)
class FlattenNode:
    path: tuple[str, ...]
    node: FetchNode


@dataclass(frozen=True, slots=True)
class SequenceNode:
    nodes: "tuple[PlanNode, ...]"


@dataclass(frozen=True, slots=True)
class ParallelNode:
    nodes: "tuple[PlanNode, ...]"


@dataclass(frozen=True, slots=True)
class ConditionNode:
    """Runs `if_clause` when the Boolean variable `condition` is true, else `else_clause`
    (from `@include(if: $condition)` and `@skip(if: $condition)` on what the fetches serve)."""

    condition: str
    if_clause: "PlanNode | None"
    else_clause: "PlanNode | None" = None


PlanNode = FetchNode | FlattenNode | SequenceNode | ParallelNode | ConditionNode


@dataclass(frozen=True, slots=True)
class QueryPlan:
    node: PlanNode | None
    operation_kind: OperationKind = "query"
