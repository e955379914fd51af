"""Which (type, subgraph) pairs a query can reach from the roots, and where keys lead from there."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from router.federation.typerefs import named_type

from ..expand import Expanded
from ..fieldset import Selection
from .contexts import ContextRules

State = tuple[str, str]  # (type name, subgraph name)


@dataclass
class Reachability:
    subgraphs: dict[str, Expanded]
    closures: dict[State, frozenset[str]] = field(default_factory=dict)
    overridden: set[tuple[str, str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        """Fields moved away by `@override` (without a label) no longer resolve at the source."""
        for sub in self.subgraphs.values():
            for (type_name, field_name), override in sub.overrides.items():
                if override.label is None:
                    self.overridden.add((override.source, type_name, field_name))

    def resolves(self, sub_name: str, type_name: str, field_name: str) -> bool:
        sub = self.subgraphs[sub_name]
        typedef = sub.types.get(type_name)
        return (
            typedef is not None
            and field_name in typedef.fields
            and sub.resolves((type_name, field_name))
            and (sub_name, type_name, field_name) not in self.overridden
        )

    def key_closure(self, type_name: str, origin: str) -> frozenset[str]:
        """The subgraphs a query at `type_name` in `origin` can move to through keys."""
        cached = self.closures.get((type_name, origin))
        if cached is not None:
            return cached
        self.closures[(type_name, origin)] = frozenset({origin})  # guards recursive keys
        reached = {origin}
        grew = True
        while grew:
            grew = False
            for other in self.subgraphs.values():
                if other.name not in reached and self._can_jump(reached, other, type_name):
                    reached.add(other.name)
                    grew = True
        self.closures[(type_name, origin)] = frozenset(reached)
        return self.closures[(type_name, origin)]

    def _can_jump(self, reached: set[str], target: Expanded, type_name: str) -> bool:
        return any(
            key.resolvable
            and key.selections is not None
            and self._selectable(reached, type_name, key.selections)
            for key in target.keys.get(type_name, [])
        )

    def _selectable(
        self, reached: set[str], type_name: str, selections: tuple[Selection, ...]
    ) -> bool:
        """Whether the reached subgraphs can together provide the (key) selections."""
        for sel in selections:
            if not sel.name:
                condition = sel.type_condition or type_name
                if not self._selectable(reached, condition, sel.children):
                    return False
                continue
            providers = {
                name: self.subgraphs[name].types[type_name].fields[sel.name]
                for name in reached
                if self.resolves(name, type_name, sel.name)
            }
            if not providers:
                return False
            if not sel.children:
                continue
            target = named_type(next(iter(providers.values())).type)
            nested = {s for p in providers for s in self.key_closure(target, p)}
            if not self._selectable(nested, target, sel.children):
                return False
        return True


def can_enter(sub: Expanded, type_name: str) -> bool:
    """A subgraph can be entered at an entity through one of its resolvable keys."""
    return any(key.resolvable for key in sub.keys.get(type_name, []))


@dataclass(frozen=True)
class Node:
    """A query path arriving at `type_name`, possibly answered by any one of `options`."""

    type_name: str
    options: frozenset[str]
    path: tuple[str, ...]
    contexts: frozenset[str] = frozenset()  # set by the objects above


def _resolvers(
    reach: Reachability, node: Node, field_name: str, rules: ContextRules
) -> frozenset[str]:
    candidates: set[str] = set()
    for option in node.options:
        candidates |= reach.key_closure(node.type_name, option)
    return frozenset(
        name
        for name in candidates
        if reach.resolves(name, node.type_name, field_name)
        and rules.satisfied(name, node.type_name, field_name, node.contexts)
    )


def _casts(reach: Reachability, node: Node) -> list[Node]:
    by_type: dict[str, set[str]] = {}
    for option in node.options:
        sub = reach.subgraphs[option]
        typedef = sub.types.get(node.type_name)
        possible = [t.name for t in sub.types.values() if node.type_name in t.interfaces]
        for name in [*possible, *(typedef.members if typedef else [])]:
            by_type.setdefault(name, set()).add(option)
    return [
        Node(name, frozenset(options), (*node.path, f"... on {name}"), node.contexts)
        for name, options in sorted(by_type.items())
    ]


@dataclass(frozen=True)
class CheckedField:
    name: str
    target: str  # named type
    witness: str  # the field as written in an example query


def explore(
    reach: Reachability,
    roots: Sequence[str],
    fields: dict[str, list[CheckedField]],
    rules: ContextRules | None = None,
) -> list[tuple[Node, CheckedField]]:
    """Walks every distinct query path; returns (node, field) pairs no subgraph can answer.

    `fields` gives, per composite type, the supergraph fields to check.
    """
    rules = rules or ContextRules()
    failures: list[tuple[Node, CheckedField]] = []
    failed: set[tuple[str, str]] = set()
    seen: set[tuple[str, frozenset[str], frozenset[str]]] = set()
    queue: deque[Node] = deque()
    for root in roots:
        options = frozenset(s.name for s in reach.subgraphs.values() if root in s.types)
        queue.append(Node(root, options, (root,)))
    while queue:
        node = queue.popleft()
        if (node.type_name, node.options, node.contexts) in seen:
            continue
        seen.add((node.type_name, node.options, node.contexts))
        queue.extend(_casts(reach, node))
        below = rules.below(node.type_name, node.contexts)
        for checked in fields.get(node.type_name, []):
            resolvers = _resolvers(reach, node, checked.name, rules)
            if not resolvers:
                if (node.type_name, checked.name) not in failed:
                    failed.add((node.type_name, checked.name))
                    failures.append((node, checked))
                continue
            if checked.target in fields:
                path = (*node.path, checked.witness)
                queue.append(Node(checked.target, resolvers, path, below))
    return failures
